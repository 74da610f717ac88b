#!/usr/bin/env bash
# Runs Whirl on its embedded defaults on a fresh Debian 12 machine with Rust: installs the action runtimes the
# process backend uses (python3, nodejs) and npm (the web console is built with it) when they are missing, then
# builds and starts `whirl serve`.
# Extra arguments go to `whirl serve` (e.g. ./deploy/serve.sh --listen 127.0.0.1:3233 --data-dir ./whirl-data).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}
source deploy/target-cache.sh
bound_target_dir
exec cargo run --release --quiet -- serve "$@"
