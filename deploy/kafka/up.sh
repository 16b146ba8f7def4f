#!/usr/bin/env bash
# Start a single-node Kafka (KRaft: broker and controller in one JVM) on 127.0.0.1 in the background.
#
# Steps, each skipped when already done: fetch the jars (fetch.sh), write server.properties, format the
# storage with a new cluster id, start the JVM (pid file + log files in the run dir), then wait until a
# real client gets cluster metadata back. Running it while the broker is up is a no-op, so CI and
# developers can both just call `make kafka-up`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if pid="$(kafka_running_pid)"; then
    running="$(cat "$KAFKA_RUN_DIR/version" 2>/dev/null || echo unknown)"
    if [[ "$running" != "$KAFKA_VERSION" ]]; then
        die "Kafka $running is already running on $KAFKA_BOOTSTRAP (pid $pid); run 'make kafka-down' first to switch to $KAFKA_VERSION"
    fi
    log "Kafka $KAFKA_VERSION already running on $KAFKA_BOOTSTRAP (pid $pid)"
    exit 0
fi

"$KAFKA_SCRIPTS_DIR/fetch.sh"
command -v "$JAVA" >/dev/null || die "no java found (set JAVA or JAVA_HOME); Kafka needs Java 17+"

cp_libs="$KAFKA_LIBS/*"
ready_args=(-cp "$cp_libs" -Dkafka.logs.dir="$KAFKA_LOG_DIR")
if [[ "$(kafka_major)" == 3 ]]; then ready_args+=(-Dlog4j.configuration=file:/dev/null); else ready_args+=(-Dlog4j2.level=OFF); fi

# The port is taken but not by our broker: a broker started from another clone or run dir (several
# people share these machines) is fine to use if it answers as Kafka; anything else is an error.
if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if answer="$("$JAVA" "${ready_args[@]}" "$KAFKA_SCRIPTS_DIR/Ready.java" "$KAFKA_BOOTSTRAP" 10 2>/dev/null)"; then
        log "a Kafka broker not started from $KAFKA_RUN_DIR already answers on $KAFKA_BOOTSTRAP ($answer): using it"
        log "(its version may differ from $KAFKA_VERSION; set KAFKA_PORT to run our own beside it)"
        exit 0
    fi
    die "$KAFKA_HOST:$KAFKA_PORT is taken by something that is not a Kafka broker; stop it or set KAFKA_PORT"
fi
port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" \
    && die "the controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken; stop that or set KAFKA_CONTROLLER_PORT"

mkdir -p "$KAFKA_RUN_DIR" "$KAFKA_LOG_DIR"
rm -f "$KAFKA_PID_FILE"

# Optional SASL_SSL listener: a CA and a broker certificate (for 127.0.0.1 and localhost) made here
# with openssl, once per run dir. Clients trust tls/ca.pem (ssl_cafile). The key store is PEM (key
# and chain in one file, KIP-651), so no Java keytool or store password is involved.
listeners="PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT"
protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
sasl_props=""
if [[ -n "$KAFKA_SASL_SSL_PORT" ]]; then
    command -v openssl >/dev/null || die "KAFKA_SASL_SSL_PORT needs openssl to make the certificates"
    [[ -n "$KAFKA_SCRAM_USERS" ]] || die "KAFKA_SASL_SSL_PORT needs KAFKA_SCRAM_USERS (name:password,...)"
    port_open "$KAFKA_HOST" "$KAFKA_SASL_SSL_PORT" && die "the SASL_SSL port $KAFKA_HOST:$KAFKA_SASL_SSL_PORT is taken"
    if [[ ! -f "$KAFKA_TLS_DIR/broker.pem" ]]; then
        mkdir -p "$KAFKA_TLS_DIR"
        (
            cd "$KAFKA_TLS_DIR"
            openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tickerstream test CA" \
                -keyout ca.key -out ca.pem 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj "/CN=$KAFKA_HOST" -keyout broker.key -out broker.csr 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
            openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
                -extfile san.ext -out broker.crt 2>/dev/null
            openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
            cat broker.pk8 broker.crt ca.pem >broker.pem
            rm -f broker.csr broker.key ca.srl san.ext
        ) || die "making the TLS certificates failed"
        log "TLS: CA $KAFKA_TLS_DIR/ca.pem (clients: ssl_cafile)"
    fi
    listeners="$listeners,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_SSL_PORT"
    protocols="$protocols,SASL_SSL:SASL_SSL"
    sasl_props="sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_TLS_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_TLS_DIR/ca.pem
ssl.client.auth=none"
fi

# Single node: this JVM is both the only broker and the only controller voter. Replication factors and
# min ISR are 1 because there is nobody to replicate to; topics are created by tickerstream's admin code
# (src/tickerstream/kafka/admin.py), never implicitly by a client asking for an unknown topic.
cat >"$KAFKA_CONFIG" <<PROPS
# Written by deploy/kafka/up.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=$listeners,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
$sasl_props
log.dirs=$KAFKA_DATA_DIR

auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start consumer groups all the time; the 3 s default delay only makes them slow.
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=104857600
PROPS

jvm_log=()
if [[ "$(kafka_major)" == 3 ]]; then
    jvm_log=("-Dlog4j.configuration=file:$KAFKA_SCRIPTS_DIR/log4j.properties")
else
    jvm_log=("-Dlog4j2.configurationFile=$KAFKA_SCRIPTS_DIR/log4j2.properties")
fi

if [[ ! -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    cluster_id="$("$JAVA" -cp "$cp_libs" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not generate a cluster id (got '$cluster_id')"
    log "formatting $KAFKA_DATA_DIR (cluster id $cluster_id)"
    # SCRAM credentials live in the KRaft metadata log: written when the storage is formatted.
    scram_args=()
    if [[ -n "$KAFKA_SCRAM_USERS" ]]; then
        IFS=',' read -ra users <<<"$KAFKA_SCRAM_USERS"
        for user in "${users[@]}"; do
            scram_args+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
        done
    fi
    "$JAVA" -Dkafka.logs.dir="$KAFKA_LOG_DIR" "${jvm_log[@]}" -cp "$cp_libs" kafka.tools.StorageTool \
        format --config "$KAFKA_CONFIG" --cluster-id "$cluster_id" --ignore-formatted "${scram_args[@]}" \
        >"$KAFKA_LOG_DIR/format.log" 2>&1 \
        || { cat "$KAFKA_LOG_DIR/format.log" >&2; die "formatting the storage failed"; }
fi

echo "$KAFKA_VERSION" >"$KAFKA_RUN_DIR/version"
log "starting Kafka $KAFKA_VERSION on $KAFKA_BOOTSTRAP (controller :$KAFKA_CONTROLLER_PORT, heap '$KAFKA_HEAP')"
started=$SECONDS
# setsid: the broker outlives the make/CI shell that started it and does not get its Ctrl-C.
# The inner shell writes its own pid and then execs java, so the pid file names the JVM itself.
# shellcheck disable=SC2086  # KAFKA_HEAP is a list of flags
setsid bash -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PID_FILE" \
    "$JAVA" $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOG_DIR" "${jvm_log[@]}" \
    -cp "$cp_libs" kafka.Kafka "$KAFKA_CONFIG" \
    </dev/null >"$KAFKA_LOG_DIR/broker.out" 2>&1 &

for _ in $(seq 50); do [[ -s "$KAFKA_PID_FILE" ]] && break; sleep 0.1; done
pid="$(cat "$KAFKA_PID_FILE")"

if ! "$JAVA" "${ready_args[@]}" "$KAFKA_SCRIPTS_DIR/Ready.java" "$KAFKA_BOOTSTRAP" "$KAFKA_START_TIMEOUT" "$pid" \
        >"$KAFKA_LOG_DIR/ready.log" 2>&1; then
    cat "$KAFKA_LOG_DIR/ready.log" >&2
    log "last lines of $KAFKA_LOG_DIR/server.log and broker.out:"
    tail -n 30 "$KAFKA_LOG_DIR/server.log" "$KAFKA_LOG_DIR/broker.out" >&2 2>/dev/null || true
    "$KAFKA_SCRIPTS_DIR/down.sh" || true
    die "Kafka $KAFKA_VERSION did not come up on $KAFKA_BOOTSTRAP"
fi
log "Kafka $KAFKA_VERSION ready on $KAFKA_BOOTSTRAP after $((SECONDS - started)) s (pid $pid): $(tail -n1 "$KAFKA_LOG_DIR/ready.log")"
log "logs: $KAFKA_LOG_DIR/server.log (make kafka-logs); stop with make kafka-down"
