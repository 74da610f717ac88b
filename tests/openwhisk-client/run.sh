#!/usr/bin/env bash
# Runs the openwhisk-client-js test against a fresh `whirl serve`: installs the locked npm
# packages (npm ci) when needed, starts the server, runs `node --test`, stops the server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/whirl-server.sh"

cd "$here"
if [ ! -d node_modules/openwhisk ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
start_whirl_server
echo "whirl serve on $WHIRL_APIHOST (data in $WHIRL_DATA_DIR)" >&2
status=0
node --test --test-reporter=spec whirl.test.js || status=$?
if [ "$status" != 0 ]; then
  echo "--- whirl serve log (last 80 lines) ---" >&2
  tail -n 80 "$WHIRL_SCRATCH/server.log" >&2
fi
exit "$status"
