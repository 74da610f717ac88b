#!/usr/bin/env bash
# The seed's image pipeline ("Creating an application using Minio in OpenFaaS") on Whirl with an
# S3-compatible store: the buckets incoming and processed; convertbw deployed through the OpenFaaS
# API (POST /system/functions with envProcess: ImageMagick's convert, image bytes in, grayscale
# image out); loadimages (URLs -> incoming) and processimages (incoming -> convertbw ->
# processed) as Python actions with boto3; then the seed's two invocations.
#
# Needs a running Whirl (WHIRL_APIHOST, WHIRL_AUTH = uuid:key), an S3 server (S3_ENDPOINT,
# S3_ACCESS_KEY, S3_SECRET_KEY) and the image URLs (IMAGE_URLS, space-separated). WHIRL names the
# whirl binary (default: on PATH). Prints what it runs; the last line is processimages' result.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
whirl=${WHIRL:-whirl}
: "${WHIRL_APIHOST:?}" "${WHIRL_AUTH:?}" "${S3_ENDPOINT:?}" "${S3_ACCESS_KEY:?}" "${S3_SECRET_KEY:?}" "${IMAGE_URLS:?}"
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY

say() { printf '$ %s\n' "$*"; }
wsk() { say "whirl $*"; "$whirl" "$@"; }
store() { PYTHONPATH="$here/build/lib:$here" python3 "$here/buckets.py" "$@"; }

"$here/build.sh" "$here/build"

# Creating the buckets (the seed: mc mb TestService/incoming, mc mb TestService/processed):
say "buckets.py make incoming processed"
store make incoming processed

# Deploying convertbw (the seed's processimages.yml: fprocess "convert ... fd:1") through the
# OpenFaaS API, as faas-cli deploy does (PUT to update, POST to create). The output goes to `-`:
# ImageMagick 6 writes nothing to `fd:1` when stdout is a pipe, as it is under any watchdog.
# With no format named, the output keeps the input's (PNG in, PNG out; JPEG in, JPEG out).
deployment='{"service": "convertbw", "image": "functions/resizer:latest",
  "envProcess": "convert - -colorspace Gray -"}'
say "curl -X PUT/POST $WHIRL_APIHOST/system/functions ($deployment)"
status=$(curl -sS -o /dev/null -w '%{http_code}' -u "$WHIRL_AUTH" -X PUT \
  -H 'Content-Type: application/json' --data "$deployment" "$WHIRL_APIHOST/system/functions")
if [ "$status" = 404 ]; then
  status=$(curl -sS -o /dev/null -w '%{http_code}' -u "$WHIRL_AUTH" -X POST \
    -H 'Content-Type: application/json' --data "$deployment" "$WHIRL_APIHOST/system/functions")
fi
case "$status" in
  2??) echo "convertbw deployed ($status)" ;;
  *) echo "deploying convertbw answered $status" >&2; exit 1 ;;
esac

# Deploying loadimages and processimages (the seed's minio_hostname and keys as parameters):
store_params=(-p s3_endpoint "$S3_ENDPOINT" -p s3_access_key "$S3_ACCESS_KEY" -p s3_secret_key "$S3_SECRET_KEY")
wsk action update loadimages "$here/build/loadimages.zip" --kind python:3 "${store_params[@]}"
wsk action update processimages "$here/build/processimages.zip" --kind python:3 "${store_params[@]}" \
  -p gateway "$WHIRL_APIHOST"

# Downloading the images into the incoming bucket:
urls=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' $IMAGE_URLS)
say "whirl action invoke loadimages -p urls '$urls' -r"
loaded=$("$whirl" action invoke loadimages -p urls "$urls" -r)
printf '%s\n' "$loaded"
names=$(python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])["names"]))' "$loaded")

# Converting them to grey and storing them in the processed bucket:
say "whirl action invoke processimages -p names '$names' -r"
processed=$("$whirl" action invoke processimages -p names "$names" -r)
printf '%s\n' "$processed" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))'
