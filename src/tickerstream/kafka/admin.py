"""Topic management: create tickerstream's topics if absent, refuse topics that break the design.

Every process calls :func:`ensure_topics` at start-up (the local broker runs with topic auto-creation
off, and production brokers should too). A missing topic is created with its partitions and configs;
an existing one is checked, and a partition count other than the one required is an error
(:class:`TopicMismatch`), never silently accepted: partitions decide which symbols share a processor's
state, so recovery after a crash or rebalance is only correct for the layout it was designed for.
Changing a topic's partition count is an operator's decision with a procedure, not a side effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from tickerstream.errors import TopicError
from tickerstream.kafka.settings import KafkaSettings, TopicNames
from tickerstream.log import get_logger

log = get_logger(__name__)

# Configs whose value changes what a topic means, not just how long it keeps data: a mismatch is an error.
# (A reference-price topic that is not compacted grows without bound and is read in full at start-up.)
SEMANTIC_CONFIGS = frozenset({"cleanup.policy"})


class TopicMismatch(TopicError):
    """A topic exists with a layout (partition count, cleanup policy) other than the required one."""


class TopicMissing(TopicError):
    """A topic does not exist and ``ensure_topics`` was told not to create it."""


@dataclass(frozen=True)
class TopicSpec:
    """What one topic must look like: name, partition count, replication factor, topic configs."""

    name: str
    partitions: int
    replication_factor: int = 1
    configs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("topic name must not be empty")
        if self.partitions < 1 or self.replication_factor < 1:
            raise ValueError(f"{self.name}: partitions and replication_factor must be at least 1")


def default_topic_specs(
    names: TopicNames | None = None,
    *,
    ticks_partitions: int = 6,
    events_partitions: int = 1,
    replication_factor: int = 1,
    ticks_retention_ms: int = 7 * 24 * 3600 * 1000,
    events_retention_ms: int = 30 * 24 * 3600 * 1000,
    rejects_retention_ms: int = 14 * 24 * 3600 * 1000,
) -> list[TopicSpec]:
    """The shared topics of the design: ticks (keyed by symbol), moves, pegs, quality and rejects.

    Each processor group creates its own state topics at start (:func:`refprices_topic_spec`, the
    checkpoints): they are a group's state, not shared."""
    n = names or TopicNames()
    rf = replication_factor

    def delete_after(ms: int) -> dict[str, str]:
        # Retention counts from when the broker wrote a record, not from the tick's event time:
        # with CreateTime, a backfill or a replayed recording (ticks from last year) would have its
        # segments rolled on every append and deleted at the next retention check, minutes later.
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(ms),
            "message.timestamp.type": "LogAppendTime",
        }

    return [
        TopicSpec(n.ticks, ticks_partitions, rf, delete_after(ticks_retention_ms)),
        TopicSpec(n.moves, events_partitions, rf, delete_after(events_retention_ms)),
        TopicSpec(n.pegs, events_partitions, rf, delete_after(events_retention_ms)),
        TopicSpec(n.quality, events_partitions, rf, delete_after(events_retention_ms)),
        TopicSpec(n.rejects, 1, rf, delete_after(rejects_retention_ms)),
    ]


#: A group's reference-price topic: latest price per symbol; every instance of the group reads it from
#: the beginning, so it must stay small: compacted, with short segments so that compaction gets to run.
REFPRICES_TOPIC_CONFIGS = {
    "cleanup.policy": "compact",
    "segment.ms": str(3600 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(24 * 3600 * 1000),
}


def refprices_topic_spec(name: str, replication_factor: int = 1) -> TopicSpec:
    """A processor group's reference-price topic (one partition, compacted)."""
    return TopicSpec(name, 1, replication_factor, dict(REFPRICES_TOPIC_CONFIGS))


def topic_specs_for(settings: KafkaSettings) -> list[TopicSpec]:
    """:func:`default_topic_specs` with the names and sizes from ``settings``."""
    return default_topic_specs(
        settings.topics,
        ticks_partitions=settings.ticks_partitions,
        events_partitions=settings.events_partitions,
        replication_factor=settings.replication_factor,
        ticks_retention_ms=settings.ticks_retention_ms,
        events_retention_ms=settings.events_retention_ms,
        rejects_retention_ms=settings.rejects_retention_ms,
    )


async def ensure_topics(
    bootstrap: str,
    specs: Sequence[TopicSpec],
    *,
    create: bool = True,
    timeout_s: float = 30.0,
    client_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Make sure every topic in ``specs`` exists with its partition count; create missing ones.
    ``client_kwargs``: connection security (``KafkaSettings.client_kwargs()``).

    Raises :class:`TopicMismatch` when an existing topic has another partition count or cleanup
    policy, :class:`TopicMissing` when a topic is absent and ``create`` is false, and
    :class:`TimeoutError` when the broker does not answer within ``timeout_s``. Other config
    differences (retention, ...) are logged as warnings: operators may tune those.
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate topic names in specs: {names}")
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000), **(client_kwargs or {})
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await _ensure(admin, bootstrap, specs, create=create)
    finally:
        await admin.close()


async def _ensure(admin: Any, bootstrap: str, specs: Sequence[TopicSpec], *, create: bool) -> None:
    # list_topics() asks for all topics; describe_topics() only for existing ones. Asking for an absent
    # topic by name could make a broker with auto-creation on create it with its default layout.
    existing = set(await admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    if missing and not create:
        raise TopicMissing(
            f"topics missing on {bootstrap}: {', '.join(s.name for s in missing)}; "
            "create them (start with topic creation enabled) or fix the topic names in the settings"
        )
    if missing:
        await _create(admin, missing)
    await _check_partitions(admin, bootstrap, specs, wait_for_leaders=bool(missing))
    await _check_configs(admin, bootstrap, [s for s in specs if s.configs])


async def _create(admin: Any, specs: Sequence[TopicSpec]) -> None:
    new = [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=dict(s.configs)) for s in specs]
    response = await admin.create_topics(new)
    for item in response.to_object()["topic_errors"]:
        error = for_code(item["error_code"])
        if item["error_code"] == 0:
            log.info("kafka.topic_created", topic=item["topic"])
        elif error is TopicAlreadyExistsError:
            # Another process created it between our listing and our request; checked below like any other.
            log.info("kafka.topic_created_concurrently", topic=item["topic"])
        else:
            detail = f"{error.__name__}: {item.get('error_message')}"
            raise TopicError(f"could not create topic {item['topic']}: {detail}")


async def _check_partitions(
    admin: Any, bootstrap: str, specs: Sequence[TopicSpec], *, wait_for_leaders: bool
) -> None:
    by_name = {s.name: s for s in specs}
    while True:
        described = {t["topic"]: t for t in await admin.describe_topics(list(by_name))}
        pending = []
        for name, spec in by_name.items():
            topic = described.get(name)
            if topic is None or topic["error_code"] != 0:
                # Just created and not yet in this broker's metadata cache, or its leaders are being elected.
                pending.append(name)
                continue
            partitions = topic["partitions"]
            if len(partitions) != spec.partitions:
                raise TopicMismatch(_partition_message(bootstrap, spec, len(partitions)))
            if wait_for_leaders and any(p["leader"] < 0 for p in partitions):
                pending.append(name)
        if not pending:
            return
        await asyncio.sleep(0.1)


def _partition_message(bootstrap: str, spec: TopicSpec, actual: int) -> str:
    return (
        f"topic {spec.name} on {bootstrap} has {actual} partitions, tickerstream is configured for "
        f"{spec.partitions}. Partitions decide which symbols share a processor's state, so recovery "
        f"is only correct for the configured count; refusing to run. Either set the configured count "
        f"to {actual} if that layout is intended, or recreate the topic with {spec.partitions} "
        f"partitions (delete it, then start again with topic creation on; its data is lost). Do not "
        f"add partitions to a live topic: that moves existing symbols to other partitions."
    )


async def _check_configs(admin: Any, bootstrap: str, specs: Sequence[TopicSpec]) -> None:
    if not specs:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name, configs=dict(s.configs)) for s in specs]
    actual: dict[str, dict[str, str | None]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"] != 0:
                error = for_code(resource["error_code"])
                name = resource["resource_name"]
                raise TopicError(f"could not read configs of topic {name}: {error.__name__}")
            actual[resource["resource_name"]] = {
                e["config_names"]: e["config_value"] for e in resource["config_entries"]
            }
    for spec in specs:
        have = actual.get(spec.name, {})
        for key, want in spec.configs.items():
            got = have.get(key)
            if got == want:
                continue
            if key in SEMANTIC_CONFIGS:
                raise TopicMismatch(
                    f"topic {spec.name} on {bootstrap} has {key}={got}, tickerstream needs {key}={want}; "
                    f"change it (kafka-configs --alter --entity-type topics --entity-name {spec.name} "
                    f"--add-config {key}={want}) or recreate the topic"
                )
            log.warning("kafka.topic_config_differs", topic=spec.name, key=key, want=want, got=got)


async def partition_count(
    bootstrap: str, topic: str, *, timeout_s: float = 30.0, client_kwargs: Mapping[str, Any] | None = None
) -> int | None:
    """How many partitions ``topic`` has, or None when it does not exist (never creates it)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000), **(client_kwargs or {})
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            if topic not in set(await admin.list_topics()):
                return None
            described = await admin.describe_topics([topic])
            return len(described[0]["partitions"])
    finally:
        await admin.close()


async def missing_topics(
    bootstrap: str,
    topics: Sequence[str],
    *,
    timeout_s: float = 15.0,
    client_kwargs: Mapping[str, Any] | None = None,
) -> list[str]:
    """Which of ``topics`` do not exist (one metadata request; never creates them)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000), **(client_kwargs or {})
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [t for t in topics if t not in existing]
