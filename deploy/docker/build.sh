#!/usr/bin/env bash
# Builds the Whirl image (`whirl:local`) on this machine, offline: no registry is reachable, so the image is
# `FROM` the runtime base image that `whirl images build` makes from this host's glibc, python3 and node, plus the
# `whirl` binary from cargo and `nats-server` from Debian's package. Prints the image's tag on stdout.
#
#   deploy/docker/build.sh                       the release binary (cargo build --release)
#   WHIRL_PROFILE=debug deploy/docker/build.sh   the debug binary (what `cargo test` already built: no release build)
#   WHIRL_IMAGE=whirl:dev deploy/docker/build.sh another tag
#   WHIRL_BINARY=PATH deploy/docker/build.sh     this binary as it is (no cargo build)
#
# Needs dockerd (started through deploy/dockerd.sh when nothing answers) and nats-server (installed with apt when
# missing). Unchanged inputs give the same layers, so a second run costs a few seconds.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}
export DOCKER_BUILDKIT=0 # the classic builder: Debian's docker.io has no buildx, and nothing here needs BuildKit
profile=${WHIRL_PROFILE:-release}
image=${WHIRL_IMAGE:-whirl:local}
log() { printf 'build.sh: %s\n' "$*" >&2; }

if ! command -v nats-server >/dev/null 2>&1; then
  log "installing nats-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server >/dev/null
fi
nats_server=$(command -v nats-server)

source deploy/dockerd.sh
start_dockerd

if [ -n "${WHIRL_BINARY:-}" ]; then
  whirl=$WHIRL_BINARY
  profile=given
else
  case "$profile" in
    release) cargo_profile=(--release) ;;
    debug) cargo_profile=() ;;
    *) log "WHIRL_PROFILE must be release or debug, not '$profile'"; exit 2 ;;
  esac
  log "cargo build${cargo_profile[*]:+ ${cargo_profile[*]}} --bin whirl"
  cargo build --quiet "${cargo_profile[@]}" --bin whirl
  whirl="$CARGO_TARGET_DIR/$profile/whirl"
fi

# The base image's tag is the hash of its inputs; `images build` prints the four tags, the base first.
tags=$("$whirl" images build)
base=${tags%%$'\n'*}
case "$base" in
  whirl-runtime-base:*) ;;
  *) log "whirl images build printed '$base' where the base image's tag was expected"; exit 1 ;;
esac
log "base image $base"

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/bin" "$context/dir"
cp deploy/docker/Dockerfile "$context/Dockerfile"
# Debug info is most of the binary's size (the release profile keeps line tables for backtraces).
if command -v strip >/dev/null 2>&1; then
  strip -o "$context/bin/whirl" "$whirl"
else
  cp "$whirl" "$context/bin/whirl"
fi
cp "$nats_server" "$context/bin/nats-server"
# Keep mtimes fixed so identical bytes give an identical context.
touch -d @0 "$context/bin/whirl" "$context/bin/nats-server" "$context/dir"

log "docker build -t $image"
docker build --quiet -t "$image" \
  --build-arg BASE_IMAGE="$base" \
  --label whirl.base="$base" \
  --label whirl.profile="$profile" \
  "$context" >/dev/null

# Both binaries must find their shared libraries in the base image (it holds the ldd closure of python3 and node).
docker run --rm "$image" --version >/dev/null ||
  { log "whirl does not start in $image"; exit 1; }
docker run --rm --entrypoint nats-server "$image" --version >/dev/null ||
  { log "nats-server does not start in $image"; exit 1; }
log "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
echo "$image"
