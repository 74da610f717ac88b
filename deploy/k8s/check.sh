#!/usr/bin/env bash
# Validates Whirl's Kubernetes manifests without a cluster (none is available where Whirl is built and tested):
#  1. every object against the Kubernetes API's own JSON schemas, strictly (unknown fields are errors), with
#     kubernetes-validate from PyPI (installed with pip into $CARGO_TARGET_DIR/k8s-validate the first time);
#  2. deploy/k8s/check.py: names and ports that objects refer to exist, NATS routes and client URLs name the
#     StatefulSet's pods, and (when a whirl binary is given or built) every `whirl serve` flag exists.
#
#   deploy/k8s/check.sh                       uses $CARGO_TARGET_DIR/debug/whirl for the flags when it exists
#   WHIRL_BINARY=PATH deploy/k8s/check.sh
#   K8S_VERSION=1.30.0 deploy/k8s/check.sh    the Kubernetes version whose schemas apply (default 1.30.0)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}
python=$(command -v python3)
packages="$CARGO_TARGET_DIR/k8s-validate"
if ! PYTHONPATH="$packages" "$python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
  echo "check.sh: installing kubernetes-validate into $packages" >&2
  "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile \
    --target "$packages" "kubernetes-validate==1.37.0"
fi
export PYTHONPATH="$packages${PYTHONPATH:+:$PYTHONPATH}"

manifests=(deploy/k8s/*.yaml)
"$python" -c 'import sys; from kubernetes_validate.__main__ import main; sys.argv[0] = "kubernetes-validate"; sys.exit(main())' \
  --strict --quiet -k "${K8S_VERSION:-1.30.0}" "${manifests[@]}"
echo "check.sh: ${#manifests[@]} files valid against the Kubernetes ${K8S_VERSION:-1.30.0} schemas (strict)"

whirl=${WHIRL_BINARY:-$CARGO_TARGET_DIR/debug/whirl}
if [ -x "$whirl" ]; then
  "$python" deploy/k8s/check.py "${manifests[@]}" --whirl "$whirl"
else
  echo "check.sh: no whirl binary at $whirl: the flags of \`whirl serve\` are not checked" >&2
  "$python" deploy/k8s/check.py "${manifests[@]}"
fi
