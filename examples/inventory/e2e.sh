#!/usr/bin/env bash
# End-to-end test of the inventory walkthrough: a fresh Redis (redis-server on a free loopback
# port, no persistence) and a fresh `whirl serve`, then run.sh; checks the counts that
# `whirl activation result --last` shows and what Redis holds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tests/support/whirl-server.sh"

command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
redis_port=$(free_port)
redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/inventory-redis.XXXXXX")
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" \
  >"$redis_dir/redis.log" 2>&1 &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$redis_dir"
  stop_whirl_server
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null

start_whirl_server
trap cleanup EXIT
export REDIS_URL="redis://127.0.0.1:$redis_port/0"

out=$(WHIRL="$WHIRL" "$here/run.sh" 2>&1) || {
  printf '%s\n' "$out"
  echo "--- whirl serve log (last 60 lines) ---" >&2
  tail -n 60 "$WHIRL_SCRATCH/server.log" >&2
  exit 1
}
printf '%s\n' "$out"

# The two `activation result --last` answers: after restocking 42 by 10, then after two sales.
python3 - "$out" <<'PY'
import json, re, sys
text = sys.argv[1]
results = []
for block in re.findall(r"^\$ whirl activation result --last\n(\{.*?^\})", text, re.S | re.M):
    results.append(json.loads(block))
expected = [{"product_id": 42, "count": 10}, {"product_id": 42, "count": 8}]
if results != expected:
    sys.exit(f"activation result --last showed {results}, expected {expected}")
PY
for pair in 42=8 1234=100 5678=-1; do
  got=$(redis-cli -p "$redis_port" HGET inventory "${pair%%=*}")
  [ "$got" = "${pair#*=}" ] || { echo "Redis holds $got for product ${pair%%=*}, expected ${pair#*=}" >&2; exit 1; }
done
echo "inventory e2e: 1 passed, 0 failed"
