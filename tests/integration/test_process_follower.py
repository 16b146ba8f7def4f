"""A reference-price follower that dies takes the processor down with it (instead of going unnoticed
while the gate times out every ``ref_gate_timeout_ms`` and the references go stale)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka.errors import KafkaConnectionError

from tests.support.processor import (
    fast_config,
    produce,
    scripted_ticks,
    tick_records,
    wait_until,
)
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(60)


async def test_a_dead_follower_stops_the_processor(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    config = fast_config(kafka_topics.prefix)
    proc = Processor(kafka, config=config)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KafkaConnectionError("simulated: the follower's connection broke for good")

    ticks = scripted_ticks(days=1.0)
    with pytest.raises(RuntimeError, match=r"reference-price follower .* stopped") as err:
        async with proc:
            task = asyncio.create_task(proc.run())
            await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(ticks[: len(ticks) // 2]))
            await wait_until(lambda: proc.stats.ticks > 0 or task.done(), 20, "the first steps")
            proc._follower._consumer.getmany = broken
            await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(ticks[len(ticks) // 2 :]))
            await asyncio.wait_for(task, 10)  # before: it ran on (a TimeoutError here)
    assert isinstance(err.value.__cause__, KafkaConnectionError)
    assert proc.failed
