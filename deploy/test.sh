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
# A whole-workspace build from CI gains nothing from incremental state, which is the biggest thing in the target
# directory after the test binaries.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
log() { printf '\n== %s\n' "$*" >&2; }
source deploy/target-cache.sh
bound_target_dir

# --- packages -----------------------------------------------------------------------------------------------------
# command → Debian package. Installed only when the command is missing.
declare -A wanted=(
  [python3]=python3
  [node]=nodejs
  [dockerd]=docker.io
  [nats-server]=nats-server
  [npm]=npm                    # tests/openwhisk-client: npm ci; the console's build (api/build.rs)
  [chromium]=chromium          # tests/console: Debian's Chromium, driven by playwright-core
  [redis-server]=redis-server  # examples/inventory: the walkthrough's database
  [redis-cli]=redis-tools
  [docker-compose]=docker-compose  # deploy/compose/up.sh (Debian's compose v1)
  [identify]=imagemagick       # examples/image-pipeline: convertbw's convert and the checks
  [curl]=curl                  # examples/image-pipeline: the OpenFaaS deployment
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
# examples/inventory vendors its Redis client with `python3 -m pip install --target`.
if [ "${WHIRL_SKIP_INSTALL:-0}" != 1 ] && ! python3 -m pip --version >/dev/null 2>&1; then
  log "installing python3-pip"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi

# --- services ------------------------------------------------------------------------------------------------------
# dockerd for the Docker driver's tests (bridge/tests/docker_*.rs, api/tests/docker_backend.rs). Started here when
# nothing answers on its socket; it stays up after the run. The end-to-end scripts below start their own
# `whirl serve` and Redis on free loopback ports.
source deploy/dockerd.sh
start_dockerd

# The runtime images, built offline from this host's python3 and node (tagged by the hash of their inputs, so this
# does nothing when they exist).
log "whirl images build"
cargo run --quiet -- images build

# --- checks -------------------------------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "cargo test"
cargo test --workspace --quiet 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"
read -r passed failed < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p + 0, f + 0 }' "$CARGO_TARGET_DIR/test-output.txt")

# --- end-to-end: each starts its own `whirl serve` (and Redis) on free loopback ports -----------------------------
log "openwhisk npm client against whirl serve (tests/openwhisk-client)"
tests/openwhisk-client/run.sh

log "REST API fuzzed from its OpenAPI document with Schemathesis (tests/api-fuzz)"
tests/api-fuzz/run.sh
passed=$((passed + 1))

log "web console in headless Chromium (tests/console)"
tests/console/run.sh

log "inventory walkthrough with Redis (examples/inventory)"
examples/inventory/e2e.sh

log "image pipeline with an S3 store and the OpenFaaS API (examples/image-pipeline)"
examples/image-pipeline/e2e.sh
passed=$((passed + 1))

log "whirl serve --backend docker survives a dockerd restart (tests/docker-restart)"
tests/docker-restart/run.sh

log "Kubernetes manifests: schemas and cross-references, no cluster (deploy/k8s/check.sh)"
deploy/k8s/check.sh

log "compose: 3-node NATS, controller, two invokers; smoke test, then one NATS server down (deploy/compose/up.sh)"
WHIRL_PROFILE=debug deploy/compose/up.sh --build
passed=$((passed + 5))

# Containers the driver tests left (a failed test does not clean up after itself).
docker ps -aq --filter label=whirl.instance=whirl-test | xargs -r docker rm -f >/dev/null || true

# One closing line for the whole run (cargo's tests plus the two end-to-end suites).
echo "whirl: $passed passed, $failed failed"
