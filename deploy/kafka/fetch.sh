#!/usr/bin/env bash
# Fetch the jars of an Apache Kafka broker from Maven Central into a cache outside the repo.
#
# Idempotent: a cache whose stamp matches this version and this pom is left alone, so `make kafka-up`
# costs nothing after the first run. The jars are resolved into a temporary directory and renamed into
# place only when Maven succeeded, so an interrupted fetch never leaves a half-filled cache behind.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v mvn >/dev/null || die "Maven (mvn) is not installed; it fetches the broker jars (apt-get install maven)"

pom="$KAFKA_SCRIPTS_DIR/pom.xml"
stamp_want="kafka=$KAFKA_VERSION pom=$(sha256sum "$pom" | cut -c1-16)"
cache_complete() { [[ -f "$KAFKA_LIBS/.complete" && "$(cat "$KAFKA_LIBS/.complete")" == "$stamp_want" ]]; }
if cache_complete; then
    log "jars for Kafka $KAFKA_VERSION already in $KAFKA_LIBS"
    exit 0
fi

# One fetch per cache at a time (a CI clone and a developer may share ~/.cache): wait for the other,
# then look again.
mkdir -p "$KAFKA_CACHE_DIR"
exec 9>"$KAFKA_CACHE_DIR/.fetch.lock"
flock 9
if cache_complete; then
    log "jars for Kafka $KAFKA_VERSION already in $KAFKA_LIBS (fetched by another process)"
    exit 0
fi
tmp="$(mktemp -d "$KAFKA_CACHE_DIR/libs.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

profile_flag=()
if [[ "$(kafka_major)" == 3 ]]; then
    profile_flag=(-Dkafka.major3)
fi

log "fetching Kafka $KAFKA_VERSION broker jars with Maven into $KAFKA_LIBS"
started=$SECONDS
# -B: no colours or progress bars in CI logs; output only shown when Maven fails.
# KAFKA_MAVEN_ARGS: extra Maven flags, e.g. -Dmaven.repo.local=DIR or -s settings.xml for a mirror.
# shellcheck disable=SC2086  # a list of flags
if ! mvn -B -q -f "$pom" package "-Dkafka.version=$KAFKA_VERSION" "-Dkafka.libs=$tmp" \
        "${profile_flag[@]}" ${KAFKA_MAVEN_ARGS:-} >"$tmp/.mvn.log" 2>&1; then
    cat "$tmp/.mvn.log" >&2
    die "Maven could not fetch Kafka $KAFKA_VERSION (is the version published as org.apache.kafka:kafka_2.13?)"
fi
rm -f "$tmp/.mvn.log"
[[ -n "$(compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar")" ]] || die "Maven ran but kafka_2.13-$KAFKA_VERSION.jar is missing"
echo "$stamp_want" >"$tmp/.complete"

rm -rf "$KAFKA_LIBS"
mv "$tmp" "$KAFKA_LIBS"
trap - EXIT
# Maven builds into deploy/kafka/target; nothing there is needed.
rm -rf "$KAFKA_SCRIPTS_DIR/target"
log "fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s"
