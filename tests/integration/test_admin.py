"""ensure_topics against the real broker: creates, is idempotent, refuses layouts that break recovery."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError

from tickerstream.kafka.admin import (
    TopicMismatch,
    TopicMissing,
    TopicSpec,
    default_topic_specs,
    ensure_topics,
    refprices_topic_spec,
    topic_specs_for,
)
from tickerstream.kafka.settings import KafkaSettings, TopicNames

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.timeout(60)


def names_for(kafka_topics: TopicFactory) -> TopicNames:
    t = TopicNames()
    return TopicNames(
        ticks=kafka_topics.name(t.ticks),
        moves=kafka_topics.name(t.moves),
        pegs=kafka_topics.name(t.pegs),
        quality=kafka_topics.name(t.quality),
        rejects=kafka_topics.name(t.rejects),
        refprices=kafka_topics.name(t.refprices),
    )


async def describe(bootstrap: str, names: list[str]) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """Partition counts and (non-default) configs of existing topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        configs = {}
        for response in await admin.describe_configs(resources):
            for r in response.to_object()["resources"]:
                configs[r["resource_name"]] = {
                    e["config_names"]: e["config_value"] for e in r["config_entries"]
                }
        return partitions, configs
    finally:
        await admin.close()


async def test_creates_the_default_topics_with_partitions_and_configs(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    names = names_for(kafka_topics)
    shared = default_topic_specs(names)
    assert names.refprices not in {s.name for s in shared}, "reference prices are per group"
    specs = [*shared, refprices_topic_spec(names.refprices)]  # a group's topic, as a processor makes it
    await ensure_topics(kafka_bootstrap, specs)
    partitions, configs = await describe(kafka_bootstrap, [s.name for s in specs])
    assert partitions == {
        names.ticks: 6,
        names.moves: 1,
        names.pegs: 1,
        names.quality: 1,
        names.rejects: 1,
        names.refprices: 1,
    }
    assert configs[names.refprices]["cleanup.policy"] == "compact"
    assert configs[names.ticks]["cleanup.policy"] == "delete"
    assert configs[names.ticks]["retention.ms"] == str(7 * 24 * 3600 * 1000)


async def test_is_idempotent_and_tolerates_concurrent_callers(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    specs = default_topic_specs(names_for(kafka_topics))
    # Several processor instances start at once: all succeed, whoever creates the topics.
    await asyncio.gather(*(ensure_topics(kafka_bootstrap, specs) for _ in range(3)))
    await ensure_topics(kafka_bootstrap, specs)
    await ensure_topics(kafka_bootstrap, specs, create=False)


async def test_settings_choose_names_and_partition_count(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    settings = KafkaSettings(
        bootstrap_servers=kafka_bootstrap, topics=names_for(kafka_topics), ticks_partitions=3
    )
    await ensure_topics(settings.bootstrap_servers, topic_specs_for(settings))
    partitions, _ = await describe(kafka_bootstrap, [settings.topics.ticks])
    assert partitions == {settings.topics.ticks: 3}


async def test_wrong_partition_count_is_refused_with_instructions(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    ticks = await kafka_topics.create("ticker.ticks", partitions=2)
    with pytest.raises(TopicMismatch) as err:
        await ensure_topics(kafka_bootstrap, [TopicSpec(ticks, 6)])
    message = str(err.value)
    assert f"{ticks}" in message and "has 2 partitions" in message and "configured for 6" in message
    assert "recreate the topic" in message
    partitions, _ = await describe(kafka_bootstrap, [ticks])
    assert partitions == {ticks: 2}  # refused, not "fixed" by adding partitions


async def test_wrong_cleanup_policy_is_refused(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    refprices = await kafka_topics.create("ticker.refprices", configs={"cleanup.policy": "delete"})
    with pytest.raises(TopicMismatch, match=r"cleanup\.policy=delete.*needs cleanup\.policy=compact"):
        await ensure_topics(kafka_bootstrap, [TopicSpec(refprices, 1, configs={"cleanup.policy": "compact"})])


async def test_other_config_differences_are_tolerated(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    ticks = await kafka_topics.create("ticker.ticks", partitions=6, configs={"retention.ms": "3600000"})
    await ensure_topics(kafka_bootstrap, [TopicSpec(ticks, 6, configs={"retention.ms": "604800000"})])


async def test_missing_topic_without_create_is_an_error(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    name = kafka_topics.name("absent")
    with pytest.raises(TopicMissing, match=name):
        await ensure_topics(kafka_bootstrap, [TopicSpec(name, 1)], create=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        await admin.start()
        assert name not in await admin.list_topics()
    finally:
        await admin.close()


async def test_unreachable_broker_times_out() -> None:
    # Port 9 (discard) on loopback: nothing listens; the error must come quickly, not after minutes.
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises((TimeoutError, KafkaConnectionError)):
        await ensure_topics("127.0.0.1:9", [TopicSpec("x", 1)], timeout_s=3)
    assert loop.time() - started < 5
