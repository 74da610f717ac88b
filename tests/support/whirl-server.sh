# Sourced by end-to-end scripts: builds `whirl` (unless WHIRL_BIN names one), starts a fresh
# `whirl serve` on a free loopback port with its own data directory, waits until it answers, and
# exports WHIRL_APIHOST, WHIRL_AUTH and WHIRL_CONFIG_FILE for it. The server is stopped on exit.
#
#   source tests/support/whirl-server.sh
#   start_whirl_server            # sets WHIRL_SERVER_PID, WHIRL_DATA_DIR, WHIRL_APIHOST, WHIRL_AUTH
#   WHIRL_SERVE_ARGS="--backend docker" start_whirl_server   # extra `whirl serve` flags

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}

whirl_bin() {
  if [ -n "${WHIRL_BIN:-}" ]; then
    printf '%s\n' "$WHIRL_BIN"
    return
  fi
  (cd "$repo_root" && cargo build --quiet --bin whirl >&2)
  printf '%s\n' "$CARGO_TARGET_DIR/debug/whirl"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_whirl_server() {
  if [ -n "${WHIRL_SERVER_PID:-}" ] && kill -0 "$WHIRL_SERVER_PID" 2>/dev/null; then
    kill "$WHIRL_SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$WHIRL_SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$WHIRL_SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${WHIRL_SCRATCH:-}" ] && [ "${WHIRL_KEEP_DATA:-0}" != 1 ]; then
    rm -rf "$WHIRL_SCRATCH"
  fi
}

start_whirl_server() {
  WHIRL=$(whirl_bin)
  export WHIRL
  WHIRL_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/whirl-e2e.XXXXXX")
  export WHIRL_DATA_DIR="$WHIRL_SCRATCH/data"
  local port
  port=$(free_port)
  trap stop_whirl_server EXIT
  # shellcheck disable=SC2086 # WHIRL_SERVE_ARGS is a list of flags
  "$WHIRL" serve --data-dir "$WHIRL_DATA_DIR" --listen "127.0.0.1:$port" ${WHIRL_SERVE_ARGS:-} \
    >"$WHIRL_SCRATCH/server.log" 2>&1 &
  WHIRL_SERVER_PID=$!
  export WHIRL_APIHOST="http://127.0.0.1:$port"
  # A properties file of this run only: the developer's ~/.whirlprops is neither read nor written.
  export WHIRL_CONFIG_FILE="$WHIRL_SCRATCH/whirlprops"
  for _ in $(seq 1 1200); do
    if [ -s "$WHIRL_DATA_DIR/guest.auth" ] &&
      python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/api/v1", timeout=1)' \
        "$WHIRL_APIHOST" 2>/dev/null; then
      WHIRL_AUTH=$(tr -d '[:space:]' <"$WHIRL_DATA_DIR/guest.auth")
      export WHIRL_AUTH
      return 0
    fi
    if ! kill -0 "$WHIRL_SERVER_PID" 2>/dev/null; then
      echo "whirl serve exited early; its log:" >&2
      cat "$WHIRL_SCRATCH/server.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "whirl serve did not answer on $WHIRL_APIHOST within 120 s; its log:" >&2
  cat "$WHIRL_SCRATCH/server.log" >&2
  return 1
}
