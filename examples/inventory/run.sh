#!/usr/bin/env bash
# The seed's OpenWhisk inventory walkthrough, with the `whirl` CLI and Redis instead of MongoDB:
# the updateInventory action, the triggers itemSold (stock_change -1) and itemRestocked
# (stock_change 1), the rules saleRule and restockRule, the same fires, and
# `whirl activation result --last` showing the count.
#
# Needs a running Whirl (WHIRL_APIHOST/WHIRL_AUTH or `whirl property set`) and Redis at
# REDIS_URL (default redis://127.0.0.1:6379/0). WHIRL names the whirl binary (default: on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
whirl=${WHIRL:-whirl}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}

say() { printf '$ %s\n' "$*"; }
wsk() { say "whirl $*"; "$whirl" "$@"; }

# Waits until every rule's action activation of a trigger fire is recorded, so that
# `activation result --last` shows the action's result (as it does after a moment in the seed).
wait_for_rules() {
  local trigger_id=$1 record ids id
  for _ in $(seq 1 100); do
    if record=$("$whirl" activation get "$trigger_id" --json 2>/dev/null); then break; fi
    sleep 0.1
  done
  ids=$(python3 -c 'import json, sys
for line in json.load(sys.stdin).get("logs", []):
    print(json.loads(line)["activationId"])' <<<"$record")
  for id in $ids; do
    for _ in $(seq 1 100); do
      "$whirl" activation get "$id" --json >/dev/null 2>&1 && continue 2
      sleep 0.1
    done
    echo "the activation $id of trigger activation $trigger_id was not recorded within 10 s" >&2
    return 1
  done
}

fire() {
  local out
  say "whirl trigger fire $*"
  out=$("$whirl" trigger fire "$@")
  printf '%s\n' "$out"
  wait_for_rules "${out##* }"
}

"$here/build.sh" "$here/build/exec.zip"

# Creating an action for updating the database (its Redis URL as a default parameter):
wsk action update updateInventory "$here/build/exec.zip" --kind python:3 -p redis_url "$redis_url"

# Creating triggers for increment and decrement operations:
wsk trigger update itemSold --param stock_change -1
wsk trigger update itemRestocked --param stock_change 1

# Creating rules to combine triggers and actions:
wsk rule update restockRule itemRestocked updateInventory
wsk rule update saleRule itemSold updateInventory

# Firing the triggers:
fire itemRestocked --param product_id 1234 --param stock_change 100
fire itemSold --param product_id 5678

fire itemRestocked -p product_id 42 -p stock_change 10
wsk activation result --last
fire itemSold -p product_id 42
fire itemSold -p product_id 42
wsk activation result --last
