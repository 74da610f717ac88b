# Sourced by deploy/test.sh and tests that restart Docker: starts dockerd in the background when
# nothing answers on its socket, and waits for it. Logs go to $CARGO_TARGET_DIR/dockerd.log.
# `--icc=false` turns off traffic between containers on the default bridge, so Whirl puts its
# containers with egress there (cheaper to join than a user-defined network; docs/docker.md).
#
#   source deploy/dockerd.sh
#   start_dockerd      # returns once `docker info` answers (exits the shell after 60 s)
#   stop_dockerd       # SIGTERM, waits until the daemon is gone

dockerd_log() {
  local dir=${CARGO_TARGET_DIR:-$HOME/.cache/whirl-target}
  mkdir -p "$dir"
  printf '%s\n' "$dir/dockerd.log"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  echo "starting dockerd (log: $(dockerd_log))" >&2
  (nohup dockerd --icc=false >>"$(dockerd_log)" 2>&1 &)
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "dockerd did not start; its log:" >&2
  tail -20 "$(dockerd_log)" >&2
  exit 1
}

stop_dockerd() {
  pkill -TERM -x dockerd || true
  for _ in $(seq 1 120); do
    pgrep -x dockerd >/dev/null || return 0
    sleep 0.5
  done
  pkill -KILL -x dockerd || true
}
