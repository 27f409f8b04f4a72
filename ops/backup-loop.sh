#!/usr/bin/env bash
# The compose `backup` service: every BACKUP_INTERVAL_SECONDS (default 86400) writes a dated
# backup of config-manager's store, BACKUP_DIR/config-YYYYMMDDTHHMMSSZ.dump (UTC), then keeps
# the newest BACKUP_KEEP (default 7) of those files and deletes the older ones. Other files in
# BACKUP_DIR are never touched. A failed backup deletes nothing (the older backups stay) and is
# retried at the next interval.
#
#   BACKUP_DIR               where the dumps go (default /backups, the compose volume)
#   BACKUP_INTERVAL_SECONDS  seconds between backups (default 86400); the first runs at start
#   BACKUP_KEEP              how many dated dumps to keep (default 7, at least 1)
#   BACKUP_COMMAND           the backup command, given --out FILE (default: the image's
#                            node dist/apps/config-manager/src/cli/backup.js)
#
# Usage: ops/backup-loop.sh [--once]   (--once: one backup and pruning, exit status of the backup)
set -euo pipefail

dir="${BACKUP_DIR:-/backups}"
interval="${BACKUP_INTERVAL_SECONDS:-86400}"
keep="${BACKUP_KEEP:-7}"
command="${BACKUP_COMMAND:-node dist/apps/config-manager/src/cli/backup.js}"

fail() {
  echo "backup-loop: $*" >&2
  exit 2
}
[[ "$interval" =~ ^[1-9][0-9]*$ ]] || fail "BACKUP_INTERVAL_SECONDS must be a positive integer, got '$interval'"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || fail "BACKUP_KEEP must be a positive integer, got '$keep'"
once=false
case "${1:-}" in
  --once) once=true ;;
  '') ;;
  *) fail "unknown argument '$1' (usage: backup-loop.sh [--once])" ;;
esac
mkdir -p "$dir"

# Deletes all but the newest $keep dated dumps (the names sort by time).
prune() {
  local -a dumps
  mapfile -t dumps < <(find "$dir" -maxdepth 1 -type f -regextype posix-extended \
    -regex '.*/config-[0-9]{8}T[0-9]{6}Z\.dump' -printf '%f\n' | LC_ALL=C sort)
  local excess=$((${#dumps[@]} - keep)) i
  for ((i = 0; i < excess; i++)); do
    rm -f -- "$dir/${dumps[$i]}"
    echo "backup-loop: deleted ${dumps[$i]} (keeping the newest $keep)" >&2
  done
}

# One dated backup, then pruning; returns the backup's status.
backup_once() {
  local file
  file="$dir/config-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # shellcheck disable=SC2086 # BACKUP_COMMAND is a command line
  if $command --out "$file"; then
    prune
    return 0
  fi
  echo "backup-loop: backup failed; older backups kept, next try in ${interval}s" >&2
  return 1
}

if [[ "$once" == true ]]; then
  backup_once
  exit $?
fi
trap 'exit 0' TERM INT
while true; do
  backup_once || true
  # In the background so a stop (SIGTERM) ends the wait at once.
  sleep "$interval" &
  wait $! || true
done
