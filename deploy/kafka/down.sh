#!/usr/bin/env bash
# Stop the local broker: SIGTERM (Kafka shuts down cleanly: flushes logs, closes the metadata log),
# wait up to KAFKA_STOP_TIMEOUT seconds, then SIGKILL. No broker running is not an error.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! pid="$(kafka_running_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    log "no broker running for $KAFKA_RUN_DIR"
    exit 0
fi
log "stopping Kafka (pid $pid)"
kill -TERM "$pid" 2>/dev/null || true
deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${KAFKA_STOP_TIMEOUT} s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
rm -f "$KAFKA_PID_FILE"
log "stopped"
