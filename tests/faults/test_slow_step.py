"""A processing step that takes longer than ``max.poll.interval.ms``: the consumer is taken out of the
group, rejoins, restores from its checkpoints and goes on. Afterwards every tick is processed and the
events equal a replay (at-least-once repeats are byte-identical). Runs on the shared broker (no broker
is stopped), with topics and a group of its own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from tests.support.processor import (
    by_id,
    committed_offsets,
    expected_events,
    fast_config,
    multiset,
    produce,
    read_all,
    scripted_ticks,
    tick_records,
    wait_all_committed,
)
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(300)

MAX_POLL_INTERVAL_MS = 3_000


async def test_a_step_past_max_poll_interval_loses_nothing(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks(days=1.0)
    records = tick_records(ticks)
    expected = expected_events(ticks)
    config = fast_config(kafka_topics.prefix, max_poll_interval_ms=MAX_POLL_INTERVAL_MS)
    proc = Processor(kafka, config=config)
    real_step = proc._step
    stalls = {"done": 0}

    async def slow_step() -> None:
        """Once the first ticks are in, one step stalls for twice the poll interval."""
        if stalls["done"] == 0 and proc.stats.ticks > 0:
            stalls["done"] = 1
            await asyncio.sleep(2 * MAX_POLL_INTERVAL_MS / 1000)
        await real_step()

    proc._step = slow_step  # type: ignore[method-assign]
    await proc.start()
    task = asyncio.create_task(proc.run())
    try:
        await produce(kafka_bootstrap, kafka.topics.ticks, records)
        await wait_all_committed(kafka_bootstrap, config.group, kafka.topics.ticks, 180, tasks=[task])
    finally:
        proc.request_stop()
        await asyncio.wait_for(task, 60)
        await proc.stop()
    committed = sum((await committed_offsets(kafka_bootstrap, config.group)).values())
    got = await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    want, seen = multiset(expected), multiset(got)
    lost = sum((want - seen).values())
    duplicates = sum((seen - want).values())
    print(
        f"\naccounting step past max.poll.interval: ticks in {len(records)}, processed {committed}, "
        f"events out {len(got)} (replay {len(expected)}), duplicates {duplicates}, lost {lost}, "
        f"rebalances {proc.stats.rebalances}"
    )
    assert stalls["done"] == 1
    assert proc.stats.rebalances >= 2, "the stall should have taken the consumer out of the group"
    assert committed == len(records) and lost == 0
    assert by_id(got) == by_id(expected)
