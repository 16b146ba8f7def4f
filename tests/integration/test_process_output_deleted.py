"""An output topic deleted under a running processor (issue #9, item 5).

Before: ~1,000 aiokafka log lines a second at 71 % CPU, then after ~40 s an exit with a misleading
``NotLeaderForPartitionError`` and no final commit. Now: the processor stops with a TopicError that
names the missing topic, commits nothing past the last delivered step, and the client's repeated
lines are rate-limited (tests/unit/test_log.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.processor import (
    committed_offsets,
    end_offsets,
    fast_config,
    produce,
    scripted_ticks,
    tick_records,
    wait_all_committed,
)
from tickerstream.errors import TopicError
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(240)

#: aiokafka's producer gives a batch this long (its request_timeout_ms default) before failing it.
DELIVERY_TIMEOUT_S = 40.0


async def test_deleted_output_topic_stops_the_processor_with_a_clear_error(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks(days=1.0)
    config = fast_config(kafka_topics.prefix)
    proc = Processor(kafka, config=config)
    await proc.start()
    task = asyncio.create_task(proc.run())
    try:
        first = [t for t in ticks if t.ts < ticks[len(ticks) // 10].ts]
        await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(first))
        await wait_all_committed(kafka_bootstrap, config.group, kafka.topics.ticks, 90, tasks=[task])
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([kafka.topics.moves])
        finally:
            await admin.close()
        await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(ticks[len(first) :]))  # has a crash
        with pytest.raises(TopicError, match=f"{kafka.topics.moves}.* no longer exist"):
            await asyncio.wait_for(task, DELIVERY_TIMEOUT_S + 60)
    finally:
        if not task.done():
            proc.request_stop()
            await asyncio.wait_for(task, 30)
        await proc.stop()
    assert proc.failed
    end = await end_offsets(kafka_bootstrap, kafka.topics.ticks)
    after = await committed_offsets(kafka_bootstrap, config.group)
    assert any(after.get(tp, 0) < e for tp, e in end.items()), "committed past the failed step"
