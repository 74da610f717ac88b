#!/usr/bin/env bash
# Fuzzes the REST API of a fresh `whirl serve` with Schemathesis, driven by the server's own
# OpenAPI document (`/api/v1/api-docs`): generated and mutated paths, queries and bodies for every
# route, checked for 5xx answers, undocumented status codes or content types, and answers that
# break their documented schema. Then checks that the server still serves: a new action runs and
# the event log verifies. Schemathesis is installed (pinned) into a virtualenv under ~/.cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/whirl-server.sh"

version=4.32.5
hypothesis=6.170.17
venv=${WHIRL_FUZZ_VENV:-$HOME/.cache/whirl-schemathesis-$version-$hypothesis}
if [ ! -x "$venv/bin/schemathesis" ]; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null && [ "${WHIRL_SKIP_INSTALL:-0}" != 1 ]; then
    echo "installing python3-venv" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  echo "installing schemathesis $version into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" "hypothesis==$hypothesis"
fi

# Throttles lifted so the fuzzer reaches the handlers instead of 429s.
WHIRL_SERVE_ARGS="--invocations-per-minute 1000000 --fires-per-minute 1000000 --concurrent-invocations 1000" \
  start_whirl_server
echo "whirl serve on $WHIRL_APIHOST (data in $WHIRL_DATA_DIR)" >&2
export FUZZ_KEY_UUID=${WHIRL_AUTH%%:*} FUZZ_KEY_SECRET=${WHIRL_AUTH#*:}
FUZZ_ADMIN_TOKEN=$(tr -d '[:space:]' <"$WHIRL_DATA_DIR/admin.token")
export FUZZ_ADMIN_TOKEN

code="$WHIRL_SCRATCH/fuzzed.py"
printf 'def main(args):\n    return {"args": args}\n' >"$code"
"$WHIRL" action create fuzzed "$code" --kind python:3 --web true >/dev/null
"$WHIRL" package create fuzzpkg >/dev/null
"$WHIRL" action create fuzzpkg/fuzzed "$code" --kind python:3 >/dev/null
"$WHIRL" trigger create fuzzed >/dev/null
"$WHIRL" rule create fuzzed fuzzed fuzzed >/dev/null
"$WHIRL" action invoke fuzzed --blocking >/dev/null

status=0
# Schemathesis keeps its cache in the working directory: the run's scratch one, not the clone.
cd "$WHIRL_SCRATCH"
# Everything but deletions first (so the fixtures stay for most of the run), then deletions.
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$WHIRL_APIHOST/api/v1/api-docs" \
  --max-time "${WHIRL_FUZZ_SECONDS:-90}" --exclude-method DELETE --exclude-path-regex '^/console/api/events$' \
  --no-color || status=$?
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$WHIRL_APIHOST/api/v1/api-docs" \
  --max-time 20 --include-method DELETE --no-color || status=$?

# The server still serves after all that: a new action runs, and the log's hash chain verifies.
if ! kill -0 "$WHIRL_SERVER_PID" 2>/dev/null; then
  echo "whirl serve died during the fuzzing" >&2
  status=1
else
  "$WHIRL" action update after-fuzz "$code" --kind python:3 >/dev/null
  answer=$("$WHIRL" action invoke after-fuzz --blocking --result --param n 1 2>&1) || status=$?
  if ! grep -q '"n": 1' <<<"$answer"; then
    echo "after the fuzzing, a new action did not run: $answer" >&2
    status=1
  fi
  verify=$(curl -sS -u "$WHIRL_AUTH" "$WHIRL_APIHOST/console/api/verify")
  if ! grep -q '"valid":true' <<<"$verify"; then
    echo "after the fuzzing, the event log does not verify: $verify" >&2
    status=1
  fi
fi
if [ "$status" != 0 ]; then
  echo "--- whirl serve log (last 80 lines) ---" >&2
  tail -n 80 "$WHIRL_SCRATCH/server.log" >&2
fi
exit "$status"
