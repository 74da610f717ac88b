#!/usr/bin/env bash
# Runs the web console's browser test against a fresh `whirl serve`: installs Debian's chromium
# when it is missing (never a browser download), the locked npm packages (npm ci) when needed,
# starts the server, runs `node --test`, stops the server.
#
#   tests/console/run.sh                                     screenshots in the scratch directory
#   WHIRL_CONSOLE_SCREENSHOTS=docs/console tests/console/run.sh   refresh the documentation's screenshots
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/whirl-server.sh"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "${WHIRL_SKIP_INSTALL:-0}" = 1 ]; then
    echo "tests/console needs Debian's chromium (apt-get install chromium); WHIRL_SKIP_INSTALL=1 forbids installing it" >&2
    exit 1
  fi
  echo "installing chromium (Debian's package)" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ -n "${WHIRL_CONSOLE_SCREENSHOTS:-}" ]; then
  mkdir -p "$WHIRL_CONSOLE_SCREENSHOTS"
  WHIRL_CONSOLE_SCREENSHOTS=$(cd "$WHIRL_CONSOLE_SCREENSHOTS" && pwd)
  export WHIRL_CONSOLE_SCREENSHOTS
fi

cd "$here"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
start_whirl_server
export WHIRL_CONSOLE_SCREENSHOTS=${WHIRL_CONSOLE_SCREENSHOTS:-$WHIRL_SCRATCH/screenshots}
echo "whirl serve on $WHIRL_APIHOST (data in $WHIRL_DATA_DIR); screenshots in $WHIRL_CONSOLE_SCREENSHOTS" >&2
status=0
node --test --test-concurrency=1 --test-reporter=spec console.test.mjs || status=$?
if [ "$status" != 0 ]; then
  echo "--- whirl serve log (last 80 lines) ---" >&2
  tail -n 80 "$WHIRL_SCRATCH/server.log" >&2
fi
exit "$status"
