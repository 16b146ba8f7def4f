#!/usr/bin/env bash
# Say whether the local broker runs, which version, and where its files are. Exit 1 if it is not running.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if pid="$(kafka_running_pid)"; then
    echo "running: Kafka $(cat "$KAFKA_RUN_DIR/version" 2>/dev/null || echo '?') on $KAFKA_BOOTSTRAP, pid $pid"
    rc=0
else
    echo "not running (for $KAFKA_RUN_DIR)"
    rc=1
fi
echo "run dir: $KAFKA_RUN_DIR  (server.properties, data-VERSION/, logs/)"
echo "jars:    $KAFKA_LIBS"
exit $rc
