#!/usr/bin/env bash
# Delete the local broker's data (all versions) and logs; the next up.sh formats fresh storage.
# Refuses while the broker runs. The jar cache is kept (delete KAFKA_CACHE_DIR by hand if needed).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if pid="$(kafka_running_pid)"; then
    die "the broker is running (pid $pid): run 'make kafka-down' first"
fi
log "deleting $KAFKA_RUN_DIR"
rm -rf "$KAFKA_RUN_DIR"
