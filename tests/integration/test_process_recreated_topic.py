"""The ticks topic deleted and re-created under a running group (issue #9, item 2).

The group's checkpoints (on their own topic, which survives) and committed offsets point beyond the
new topic's end. Seeking there used to make the client reset to the beginning behind the processor's
back, and the processor then dropped every record as "already processed": it consumed nothing, the
lag read 0, and nothing was logged. Now it notices, says so, counts it, and reads the new topic from
its beginning with that partition's state dropped: the new ticks give the events of a fresh replay.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient

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
from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(240)

DAY_MS = 86_400_000


async def test_recreated_ticks_topic_is_read_from_its_beginning(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    old = scripted_ticks(days=1.0, seed=7)
    # Fewer ticks than before (so every old position lies beyond the new end), thirty days later.
    new = [replace(t, ts=t.ts + 30 * DAY_MS) for t in scripted_ticks(days=0.5, seed=8)]
    # The new topic is noticed within metadata_max_age_ms: a second here, so the test waits no longer.
    config = fast_config(kafka_topics.prefix, metadata_max_age_ms=1000)
    ticks_spec = [s for s in topic_specs_for(kafka) if s.name == kafka.topics.ticks]

    proc = Processor(kafka, config=config)
    await proc.start()
    task = asyncio.create_task(proc.run())
    try:
        await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(old))
        await wait_all_committed(kafka_bootstrap, config.group, kafka.topics.ticks, 90, tasks=[task])
        old_positions = await committed_offsets(kafka_bootstrap, config.group)

        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([kafka.topics.ticks])
        finally:
            await admin.close()
        # Deletion completes in the background: create once the broker lets us (as ticker-produce does).
        async with asyncio.timeout(60):
            while True:
                try:
                    await ensure_topics(kafka_bootstrap, ticks_spec, create=True)
                    break
                except Exception:
                    await asyncio.sleep(0.5)
        await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(new))
        new_end = await end_offsets(kafka_bootstrap, kafka.topics.ticks)
        assert all(old_positions[tp] > e for tp, e in new_end.items()), (old_positions, new_end)

        # Done when every partition was started over and the group committed exactly the new ends.
        async with asyncio.timeout(120):
            while (
                proc.stats.offset_resets < kafka.ticks_partitions
                or (await committed_offsets(kafka_bootstrap, config.group)) != new_end
            ):
                assert not task.done(), task.result()
                await asyncio.sleep(0.2)
    finally:
        proc.request_stop()
        await asyncio.wait_for(task, 30)
        await proc.stop()

    got = by_id(
        await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    )
    expected = by_id(expected_events(old)) | by_id(expected_events(new))
    assert len(by_id(expected_events(new))) > 10, "the new ticks must make events of their own"
    assert got == expected
