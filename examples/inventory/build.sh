#!/usr/bin/env bash
# Builds the updateInventory action as a zip: __main__.py plus the `redis` client library from
# PyPI, installed for the python3 that runs actions (pip --target), nothing of it committed.
#
#   ./build.sh [OUT.zip]      default: build/exec.zip
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build/exec.zip}
python=${WHIRL_PYTHON:-python3}
redis_version=5.2.1

stage=$(mktemp -d "${TMPDIR:-/tmp}/inventory-build.XXXXXX")
trap 'rm -rf "$stage"' EXIT
"$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile \
  --target "$stage" "redis==$redis_version"
cp "$here/__main__.py" "$stage/"
mkdir -p "$(dirname "$out")"
"$python" - "$stage" "$out" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
    for root, dirs, files in os.walk(stage):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.endswith(".dist-info"))
        for name in sorted(files):
            path = os.path.join(root, name)
            archive.write(path, os.path.relpath(path, stage))
PY
echo "built $out" >&2
