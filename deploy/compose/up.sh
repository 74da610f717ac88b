#!/usr/bin/env bash
# Brings the compose deployment (3-node NATS cluster, a controller, two invokers) up on this machine, runs a smoke
# test against it (smoke.py: both invokers must serve), again with one NATS server stopped, and takes it down
# again, also when something fails or it is interrupted (then with the services' logs). About 15 s once the image
# exists.
#
#   deploy/compose/up.sh            build whirl:local when it is missing, up, smoke test, down
#   deploy/compose/up.sh --build    rebuild whirl:local first (deploy/docker/build.sh; WHIRL_PROFILE=debug for speed)
#   deploy/compose/up.sh --keep     leave the deployment running after a passing test (prints how to reach it)
#
# Needs dockerd (started through deploy/dockerd.sh) and docker-compose (Debian 12's package; `docker compose` v2
# works too). The API is published on a free loopback port (WHIRL_API_PORT to choose one).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
build=0 keep=0
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--build] [--keep]" >&2; exit 2 ;;
  esac
done
started=$SECONDS
log() { printf 'up.sh [%3ds]: %s\n' $((SECONDS - started)) "$*" >&2; }

export WHIRL_IMAGE=${WHIRL_IMAGE:-whirl:local}
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-whirl-smoke}
export WHIRL_API_PORT=${WHIRL_API_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
if docker-compose version >/dev/null 2>&1; then
  compose=(docker-compose -f deploy/compose/docker-compose.yml)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f deploy/compose/docker-compose.yml)
else
  echo "up.sh: neither docker-compose nor 'docker compose' is installed (apt-get install docker-compose)" >&2
  exit 1
fi

source deploy/dockerd.sh
start_dockerd

if [ "$build" = 1 ] || ! docker image inspect "$WHIRL_IMAGE" >/dev/null 2>&1; then
  log "building $WHIRL_IMAGE"
  WHIRL_IMAGE=$WHIRL_IMAGE deploy/docker/build.sh >/dev/null
fi

finish() {
  local status=$?
  if [ "$status" != 0 ]; then
    log "FAILED; the services' logs:"
    "${compose[@]}" ps >&2 || true
    "${compose[@]}" logs --no-color --tail=15 nats-1 nats-2 nats-3 >&2 || true
    "${compose[@]}" logs --no-color --tail=80 controller invoker-0 invoker-1 >&2 || true
  fi
  if [ "$status" != 0 ] || [ "$keep" = 0 ]; then
    log "down"
    "${compose[@]}" down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
  fi
  log "done ($([ "$status" = 0 ] && echo passed || echo "failed, status $status"))"
  exit "$status"
}

# A run that was killed may have left its deployment behind.
"${compose[@]}" down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "up: project $COMPOSE_PROJECT_NAME, image $WHIRL_IMAGE, API on 127.0.0.1:$WHIRL_API_PORT"
"${compose[@]}" up -d
log "services started"

# A whirl service that keeps restarting (bad flags, no NATS) will not come up: fail at once rather than after 60 s.
restarts() {
  docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" |
    xargs -r docker inspect -f '{{.RestartCount}} {{index .Config.Labels "com.docker.compose.service"}}' |
    awk '$1 >= 2 { printf "%s ", $2 }'
}
api="http://127.0.0.1:$WHIRL_API_PORT"
for i in $(seq 1 120); do
  curl -sf "$api/healthz" >/dev/null 2>&1 && break
  if [ $((i % 2)) = 0 ] && [ -n "$(restarts)" ]; then
    log "restarting over and over: $(restarts)"
    exit 1
  fi
  sleep 0.5
done
curl -sf "$api/healthz" >/dev/null || { log "the API did not answer on $api within 60 s"; exit 1; }
log "API up on $api"

# The controller writes the guest key into its data volume on first start.
auth=""
for _ in $(seq 1 40); do
  auth=$("${compose[@]}" exec -T controller cat /var/lib/whirl/guest.auth 2>/dev/null || true)
  [ -n "$auth" ] && break
  sleep 0.25
done
[ -n "$auth" ] || { log "no guest key in the controller's /var/lib/whirl/guest.auth"; exit 1; }

# Invokers announce themselves on NATS; the controller logs each one it registers. Until both are there, work
# would go to the one invoker it knows (or fail with "No invokers available").
registered=0
for i in $(seq 1 60); do
  registered=$({ "${compose[@]}" logs --no-color controller 2>/dev/null || true; } |
    { grep -o 'invoker registered invoker=[a-z0-9]*' || true; } | sort -u | wc -l)
  [ "$registered" -ge 2 ] && break
  if [ -n "$(restarts)" ]; then
    log "restarting over and over: $(restarts)"
    exit 1
  fi
  sleep 0.5
done
[ "$registered" -ge 2 ] || { log "the controller registered $registered invokers in 30 s, not 2"; exit 1; }
log "both invokers registered"

log "smoke test"
timeout 90 python3 deploy/compose/smoke.py --api "$api" --auth "$auth" --expect-hosts invoker-0,invoker-1

# One NATS server down: clients reconnect to the other two, JetStream keeps its quorum (2 of 3).
log "stopping nats-1; the smoke test again on two NATS servers"
"${compose[@]}" stop --timeout 2 nats-1 >/dev/null 2>&1
timeout 90 python3 deploy/compose/smoke.py --api "$api" --auth "$auth" --expect-hosts invoker-0,invoker-1 --invokes 2

if [ "$keep" = 1 ]; then
  log "left running: WHIRL_APIHOST=$api WHIRL_AUTH=$auth whirl action list"
  log "stop it with: COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME ${compose[*]} down --volumes"
fi
