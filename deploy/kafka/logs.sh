#!/usr/bin/env bash
# Show the local broker's log: the last KAFKA_LOG_LINES (200) lines, or follow it with KAFKA_LOG_FOLLOW=1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

file="$KAFKA_LOG_DIR/server.log"
[[ -f "$file" ]] || die "no broker log at $file (has 'make kafka-up' run with KAFKA_PORT=$KAFKA_PORT?)"
log "$file"
if [[ "${KAFKA_LOG_FOLLOW:-0}" == 1 ]]; then
    exec tail -n "${KAFKA_LOG_LINES:-200}" -F "$file"
fi
tail -n "${KAFKA_LOG_LINES:-200}" "$file"
[[ -s "$KAFKA_LOG_DIR/broker.out" ]] && { log "$KAFKA_LOG_DIR/broker.out (JVM stdout/stderr):"; tail -n 20 "$KAFKA_LOG_DIR/broker.out"; }
exit 0
