# shellcheck shell=bash
# Shared settings of the local broker scripts (fetch.sh, up.sh, down.sh, logs.sh). Sourced, not run.
#
# Everything is overridable from the environment:
#   KAFKA_VERSION          Apache Kafka version to fetch and run (default below; 3.9.x works too)
#   KAFKA_HOST             listener address (127.0.0.1)
#   KAFKA_PORT             client (PLAINTEXT) port (9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (KAFKA_PORT + 1)
#   KAFKA_HEAP             JVM heap flags (-Xms256m -Xmx512m)
#   KAFKA_CACHE_DIR        where the jars go (${XDG_CACHE_HOME:-~/.cache}/tickerstream/kafka-VERSION)
#   KAFKA_RUN_DIR          config, data, pid and logs of one broker (<repo>/.kafka/PORT, gitignored)
#   KAFKA_START_TIMEOUT    seconds up.sh waits for the broker to answer a client (90)
#   KAFKA_STOP_TIMEOUT     seconds down.sh waits after SIGTERM before SIGKILL (30)
#   KAFKA_MAVEN_ARGS       extra flags for Maven in fetch.sh (e.g. -Dmaven.repo.local=DIR)
#   JAVA                   java executable (JAVA_HOME/bin/java, else java on PATH); Java 17+
#   KAFKA_SASL_SSL_PORT    if set: also a SASL_SSL listener on this port (SCRAM-SHA-512, TLS with a CA
#                          and a broker certificate made for this run dir by openssl: tls/ca.pem)
#   KAFKA_SCRAM_USERS      SCRAM-SHA-512 users "name:password,name2:password2" created when the
#                          storage is formatted (a new run dir); needed with KAFKA_SASL_SSL_PORT

set -euo pipefail

# The default version is the one decided in docs/kafka.md (evidence there); change both together.
KAFKA_DEFAULT_VERSION=4.4.0

KAFKA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_REPO_DIR="$(cd "$KAFKA_SCRIPTS_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-$KAFKA_DEFAULT_VERSION}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickerstream/kafka-$KAFKA_VERSION}"
KAFKA_LIBS="$KAFKA_CACHE_DIR/libs"
KAFKA_RUN_DIR="${KAFKA_RUN_DIR:-$KAFKA_REPO_DIR/.kafka/$KAFKA_PORT}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

# Data is per version: a 4.x metadata log cannot be read by 3.9 (and a downgrade is refused).
KAFKA_DATA_DIR="$KAFKA_RUN_DIR/data-$KAFKA_VERSION"
KAFKA_LOG_DIR="$KAFKA_RUN_DIR/logs"
KAFKA_PID_FILE="$KAFKA_RUN_DIR/broker.pid"
KAFKA_CONFIG="$KAFKA_RUN_DIR/server.properties"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
KAFKA_SCRAM_USERS="${KAFKA_SCRAM_USERS:-}"
KAFKA_TLS_DIR="$KAFKA_RUN_DIR/tls"

if [[ -n "${JAVA:-}" ]]; then
    :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
else
    JAVA=java
fi

kafka_major() { echo "${KAFKA_VERSION%%.*}"; }

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

# The pid in the pid file if that process is alive and is a Kafka broker (guards against pid reuse).
kafka_running_pid() {
    [[ -f "$KAFKA_PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
    echo "$pid"
}

# True if something accepts TCP connections on host:port.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
