# Keeps Cargo's target directory (kept outside the clone so runs reuse builds) from filling the disk. Sourced by
# deploy/test.sh and deploy/serve.sh.
#
# Every change to Cargo.lock, a profile or the flags leaves a whole set of test binaries behind under new hashes, and
# Cargo never removes the old ones: over a few weeks of runs the directory grew to 75 GB and a CI run died with "No
# space left on device" while linking. So before building:
#   - when the directory is over WHIRL_TARGET_MAX_GB (default 25), it is emptied (one cold build, ~5 min here);
#   - when the disk it lives on has less than WHIRL_MIN_FREE_GB (default 8) free, it is emptied too, and if that
#     still leaves too little the run stops here with the figures instead of failing halfway through a link.

bound_target_dir() {
  local dir=${CARGO_TARGET_DIR:?CARGO_TARGET_DIR must be set}
  local max_gb=${WHIRL_TARGET_MAX_GB:-25} min_free_gb=${WHIRL_MIN_FREE_GB:-8}
  mkdir -p "$dir"
  local used_gb free_gb
  used_gb=$(( $(du -sk "$dir" 2>/dev/null | cut -f1) / 1024 / 1024 ))
  free_gb=$(( $(df -Pk "$dir" | awk 'NR == 2 { print $4 }') / 1024 / 1024 ))
  if [ "$used_gb" -gt "$max_gb" ] || [ "$free_gb" -lt "$min_free_gb" ]; then
    printf '\n== target directory %s: %s GB used, %s GB free on its disk; emptying it (limits: %s GB used, %s GB free)\n' \
      "$dir" "$used_gb" "$free_gb" "$max_gb" "$min_free_gb" >&2
    # Only what Cargo wrote: other tools keep state in here too (dockerd.log, k8s-validate).
    rm -rf "$dir/debug" "$dir/release" "$dir/tmp"
    free_gb=$(( $(df -Pk "$dir" | awk 'NR == 2 { print $4 }') / 1024 / 1024 ))
  fi
  if [ "$free_gb" -lt "$min_free_gb" ]; then
    printf 'error: only %s GB free on the disk holding %s; a build and the tests need %s GB. Free some space (docker system prune, old data directories) or set CARGO_TARGET_DIR to a bigger disk.\n' \
      "$free_gb" "$dir" "$min_free_gb" >&2
    return 1
  fi
}
