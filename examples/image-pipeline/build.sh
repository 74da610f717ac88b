#!/usr/bin/env bash
# Builds the loadimages and processimages actions as zips: their __main__.py, s3store.py and the
# boto3 client library from PyPI, installed for the python3 that runs actions (pip --target),
# with botocore's service models cut down to S3 (nothing of it committed).
#
#   ./build.sh [OUT_DIR]      default: build/  (OUT_DIR/lib keeps the installed libraries)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
python=${WHIRL_PYTHON:-python3}
boto3_version=1.44.5

lib="$out/lib"
if [ ! -f "$lib/.boto3-$boto3_version" ]; then
  rm -rf "$lib"
  mkdir -p "$lib"
  "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --no-warn-conflicts \
    --target "$lib" "boto3==$boto3_version"
  # Only S3 is used: drop the other ~400 service models (most of the library's size).
  find "$lib/botocore/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} +
  touch "$lib/.boto3-$boto3_version"
fi

for action in loadimages processimages; do
  "$python" - "$lib" "$here/$action/__main__.py" "$here/s3store.py" "$out/$action.zip" <<'PY'
import os, sys, zipfile
lib, main, store, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.write(main, "__main__.py")
    archive.write(store, "s3store.py")
    for root, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "bin") and not d.endswith(".dist-info"))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            archive.write(path, os.path.relpath(path, lib))
PY
  echo "built $out/$action.zip ($(du -k "$out/$action.zip" | cut -f1) KiB)" >&2
done
