"""A failed delivery: the processor stops with the error and commits nothing past it, so a successor
re-emits the events whose sends failed (at-least-once repeats, it never loses)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError

from tests.support.processor import (
    by_id,
    committed_offsets,
    end_offsets,
    expected_events,
    fast_config,
    produce,
    read_all,
    scripted_ticks,
    tick_records,
    wait_all_committed,
)
from tickerstream.kafka.outputs import AtLeastOnceOutput
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(60)


async def test_failed_deliveries_are_not_committed_and_a_successor_re_emits_them(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks(days=1.0)
    expected = by_id(expected_events(ticks))
    config = fast_config(kafka_topics.prefix)

    proc = Processor(kafka, config=config)
    assert isinstance(proc.output, AtLeastOnceOutput)
    output = proc.output
    real_send = output.send
    moves = {"sent": 0, "failed": 0}
    failed_ids: set[str] = set()

    async def send(partition: int, topic: str, value: bytes, key: bytes | None) -> None:
        """Moves number 10 to 14 "fail delivery" (a request timeout, not enough replicas...)."""
        if topic == kafka.topics.moves:
            moves["sent"] += 1
            if 10 <= moves["sent"] < 15:
                fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                fut.set_exception(KafkaTimeoutError("simulated delivery failure"))
                output._inflight.append(fut)
                moves["failed"] += 1
                failed_ids.add(orjson.loads(value)["id"])
                return
        await real_send(partition, topic, value, key)

    output.send = send  # type: ignore[method-assign]
    with pytest.raises(KafkaTimeoutError):
        async with proc:
            await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(ticks))
            await asyncio.wait_for(proc.run(), 30)
    # The failure surfaces at the next settle (the first commit is due at once): after one to five of
    # the failing sends, depending on how many moves the steps before it carried.
    assert 1 <= moves["failed"] <= 5

    got = by_id(
        await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    )
    # How far the first processor got before the failure surfaced depends on how the broker cut the
    # fetches (a busy machine fetches in smaller pieces): what it sent is right, the failed sends are
    # missing, and the successor below must bring the output to exactly the expected events.
    assert len(failed_ids) == moves["failed"] and not failed_ids & set(got), "the failed sends are missing"
    assert all(expected.get(i) == v for i, v in got.items()), "everything sent is an expected event"
    end = await end_offsets(kafka_bootstrap, kafka.topics.ticks)
    committed = await committed_offsets(kafka_bootstrap, config.group)
    assert any(committed.get(tp, 0) < e for tp, e in end.items()), "committed past the failed step"
    assert proc.failed

    # A successor starts at the committed offsets and re-emits what was lost.
    proc2 = Processor(kafka, config=config)
    async with proc2:
        task = asyncio.create_task(proc2.run())
        await wait_all_committed(kafka_bootstrap, config.group, kafka.topics.ticks, tasks=[task])
        proc2.request_stop()
        await asyncio.wait_for(task, 10)
    assert proc2.stats.ticks > 0
    got = by_id(
        await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    )
    assert got == expected
