#!/usr/bin/env bash
# `whirl serve --backend docker` keeps serving across a dockerd restart, without a Whirl restart:
# a warm Python action, a paused one and a stem cell all die with the daemon; the invoker
# replaces them and every invocation after the restart succeeds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/whirl-server.sh"
source "$repo_root/deploy/dockerd.sh"

start_dockerd
WHIRL_SERVE_ARGS="--backend docker --stem-cells python:3=1" start_whirl_server
echo "whirl serve --backend docker on $WHIRL_APIHOST (data in $WHIRL_DATA_DIR)" >&2

fail() {
  echo "docker-restart: $*" >&2
  echo "--- whirl serve log (last 60 lines) ---" >&2
  tail -n 60 "$WHIRL_SCRATCH/server.log" >&2
  exit 1
}

cat >"$WHIRL_SCRATCH/hello.py" <<'PY'
def main(args):
    return {"greeting": "Hello " + args.get("name", "stranger")}
PY
"$WHIRL" action create hello "$WHIRL_SCRATCH/hello.py" --kind python:3 >/dev/null
"$WHIRL" action create other "$WHIRL_SCRATCH/hello.py" --kind python:3 >/dev/null

expect_hello() {
  local action=$1 name=$2 out
  out=$("$WHIRL" action invoke "$action" -r -p name "$name" 2>&1) || fail "invoking $action failed: $out"
  case "$out" in
    *"Hello $name"*) ;;
    *) fail "unexpected answer from $action: $out" ;;
  esac
}

expect_hello hello before
expect_hello other before
echo "restarting dockerd" >&2
stop_dockerd
start_dockerd
for round in 1 2 3; do
  expect_hello hello "after$round"
  expect_hello other "after$round"
done
echo "docker-restart: every invocation after the dockerd restart succeeded" >&2
