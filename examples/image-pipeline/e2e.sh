#!/usr/bin/env bash
# End-to-end test of the image pipeline: a fresh S3-compatible store (s3s-fs, built once from
# crates.io into ~/.cache/s3s-fs), a local HTTP server on 127.0.0.1 serving colour images that
# ImageMagick generates, and a fresh `whirl serve`; then run.sh. Checks that every source image
# was processed: as many objects in `processed` as images served, each one grayscale (ImageMagick's
# colorspace Gray) with the size and format of its source, while the sources are sRGB; and that
# the server's /metrics counted the calls.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tests/support/whirl-server.sh"

for tool in convert identify curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install imagemagick curl" >&2; exit 1; }
done
s3s_version=0.14.1
s3s_root=${S3S_FS_ROOT:-$HOME/.cache/s3s-fs}
s3s="$s3s_root/bin/s3s-fs"
if [ ! -x "$s3s" ] || [ "$("$s3s" --version 2>/dev/null | awk '{print $2}')" != "$s3s_version" ]; then
  echo "building s3s-fs $s3s_version into $s3s_root (once)" >&2
  cargo install --quiet --locked s3s-fs --version "$s3s_version" --features binary --root "$s3s_root"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/image-pipeline.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
  stop_whirl_server
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 1 100); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 after 10 s ($2)" >&2
  return 1
}

# The store: a fresh directory, keys of this run.
mkdir -p "$scratch/s3" "$scratch/images"
s3_port=$(free_port)
export S3_ACCESS_KEY="pipeline$RANDOM" S3_SECRET_KEY="secret-$RANDOM-$RANDOM"
"$s3s" --host 127.0.0.1 --port "$s3_port" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" \
  "$scratch/s3" >"$scratch/s3s.log" 2>&1 &
pids+=($!)
export S3_ENDPOINT="http://127.0.0.1:$s3_port"
wait_for_port "$s3_port" s3s-fs

# The source images: three colour images in two formats, served on 127.0.0.1.
convert -size 64x48 gradient:red-blue "$scratch/images/gradient.png"
convert -size 80x60 xc:orange -fill green -draw "circle 40,30 40,10" "$scratch/images/circle.jpg"
convert -size 32x32 pattern:checkerboard +level-colors red,yellow "$scratch/images/checks.png"
web_port=$(free_port)
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$scratch/images" >"$scratch/web.log" 2>&1 &
pids+=($!)
wait_for_port "$web_port" "the image server"
IMAGE_URLS=""
for image in gradient.png circle.jpg checks.png; do
  [ "$(identify -format '%[colorspace]' "$scratch/images/$image")" = sRGB ] ||
    { echo "source $image is not a colour image" >&2; exit 1; }
  IMAGE_URLS+="http://127.0.0.1:$web_port/$image "
done
export IMAGE_URLS

start_whirl_server
trap cleanup EXIT

out=$(WHIRL="$WHIRL" "$here/run.sh" 2>&1) || {
  printf '%s\n' "$out"
  echo "--- whirl serve log (last 60 lines) ---" >&2
  tail -n 60 "$WHIRL_SCRATCH/server.log" >&2
  echo "--- s3s-fs log (last 20 lines) ---" >&2
  tail -n 20 "$scratch/s3s.log" >&2
  exit 1
}
printf '%s\n' "$out"

# Every source went through convertbw into `processed`: the result pairs each incoming name with
# its processed name, in the order of the URLs.
result=$(printf '%s\n' "$out" | tail -n 1)
store() { PYTHONPATH="$here/build/lib:$here" python3 "$here/buckets.py" "$@"; }
mapfile -t incoming < <(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["from"]))' "$result")
mapfile -t processed < <(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["names"]))' "$result")
[ "${#incoming[@]}" = 3 ] && [ "${#processed[@]}" = 3 ] ||
  { echo "processimages answered $result, expected 3 names" >&2; exit 1; }
[ "$(store list processed | sort)" = "$(printf '%s\n' "${processed[@]}" | sort)" ] ||
  { echo "the processed bucket holds $(store list processed | tr '\n' ' '), expected ${processed[*]}" >&2; exit 1; }
[ "$(store list incoming | wc -l)" = 3 ] || { echo "the incoming bucket holds $(store list incoming | wc -l) objects" >&2; exit 1; }
i=0
for image in gradient.png circle.jpg checks.png; do
  store get incoming "${incoming[$i]}" "$scratch/in"
  store get processed "${processed[$i]}" "$scratch/out"
  cmp -s "$scratch/in" "$scratch/images/$image" || { echo "incoming ${incoming[$i]} is not $image" >&2; exit 1; }
  source_info=$(identify -format '%m %wx%h' "$scratch/images/$image")
  got=$(identify -format '%m %wx%h %[colorspace]' "$scratch/out")
  [ "$got" = "$source_info Gray" ] ||
    { echo "processed ${processed[$i]} of $image is '$got', expected '$source_info Gray'" >&2; exit 1; }
  # Grayscale in the pixels too: no channel differs from another anywhere.
  spread=$(convert "$scratch/out" -colorspace sRGB -fx 'max(abs(r-g),abs(g-b))' -format '%[fx:maxima]' info:)
  python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 0.01)' "$spread" ||
    { echo "processed ${processed[$i]} of $image has colour (channel spread $spread)" >&2; exit 1; }
  i=$((i + 1))
done
# The server's /metrics saw the pipeline: one call of each action, three of convertbw (one per
# image, each answered 200 by /function/convertbw), every one successful, each of them run in a
# container cold or warm.
python3 - "$WHIRL_APIHOST/metrics" <<'PY'
import re, sys, time, urllib.request
expected = {"loadimages.guest": 1, "processimages.guest": 1, "convertbw.guest": 3}
def scrape():
    samples = {}
    for line in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
        match = re.fullmatch(r'(\w+)\{function_name="([^"]+)",(\w+)="([^"]+)"\} (\S+)', line)
        if match:
            name, function, label, value, number = match.groups()
            samples[(name, function, value)] = float(number)
    return samples
deadline = time.time() + 10
while True:
    samples = scrape()
    calls = {f: samples.get(("gateway_function_invocation_total", f, "200"), 0) for f in expected}
    if calls == expected or time.time() > deadline:
        break
    time.sleep(0.2)
if calls != expected:
    sys.exit(f"/metrics counted {calls} successful calls, expected {expected}")
answered = samples.get(("whirl_gateway_requests_total", "convertbw.guest", "200"), 0)
if answered != 3:
    sys.exit(f"/metrics counted {answered} 200 answers of /function/convertbw, expected 3")
for function, count in expected.items():
    starts = [samples.get(("whirl_function_starts_total", function, start), 0) for start in ("cold", "warm")]
    if starts[0] < 1 or sum(starts) != count:
        sys.exit(f"/metrics counted {starts} cold and warm starts of {function}, expected {count} with a cold one")
PY
echo "image pipeline e2e: 1 passed, 0 failed"
