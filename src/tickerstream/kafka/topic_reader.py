"""Read a recorded time range of the ticks topic (``ticker-replay --from-topic``), for backtests.

The range is the time the ticks were *recorded*: the ticks topic stamps records with the broker's
append time (see ``admin.default_topic_specs``), and ``offsets_for_times`` finds the first record at
or after ``start`` and ``end`` in each partition. For live data that is the event time within
seconds; for a backfill it is when the backfill ran. The range is read by a consumer with no group
(nothing is committed, no running processor is disturbed) and returned as one columnar batch in
event-time order: partitions interleave arbitrarily in a fetch, so rows are sorted by ``ts``
(stable: ties keep partition then offset order, and the engine gives ticks of one ts the same
result in any order anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition

from tickerstream.engine import TickBatch
from tickerstream.errors import TopicReadError
from tickerstream.kafka.admin import partition_count
from tickerstream.kafka.codec import decode_tick_values
from tickerstream.model import Reject


@dataclass(slots=True)
class TopicRange:
    """What was read: the ticks in event-time order, and the records that were not ticks."""

    batch: TickBatch
    records: int = 0
    rejects: list[Reject] = field(default_factory=list)
    #: With ``keep_values``: the records of ``batch``'s rows as read (tick JSON), in its order, so a
    #: range can be saved whole (``ticker-replay --save``); the batch keeps only what the engine uses.
    values: list[bytes] = field(default_factory=list)


async def read_time_range(
    bootstrap: str,
    topic: str,
    start_ms: int,
    end_ms: int,
    *,
    timeout_s: float = 30.0,
    client_kwargs: Mapping[str, Any] | None = None,
    keep_values: bool = False,
) -> TopicRange:
    """Ticks recorded at ``start_ms <= record time < end_ms`` in every partition of ``topic``
    (``keep_values``: their records too, see ``TopicRange.values``)."""
    security = dict(client_kwargs or {})  # KafkaSettings.client_kwargs(): SASL/TLS, if configured
    count = await partition_count(bootstrap, topic, timeout_s=timeout_s, client_kwargs=security)
    if count is None:
        raise TopicReadError(f"topic {topic!r} does not exist on {bootstrap}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        **security,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(tps)
        begin = await _offsets_at(consumer, tps, start_ms)
        end = await _offsets_at(consumer, tps, end_ms)
        for tp in tps:
            consumer.seek(tp, begin[tp])
        return await asyncio.wait_for(_read(consumer, begin, end, topic, keep_values), timeout_s)
    finally:
        await consumer.stop()


async def _offsets_at(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], ts_ms: int
) -> dict[TopicPartition, int]:
    """First offset with record timestamp >= ts_ms per partition (the end offset if there is none)."""
    found = await consumer.offsets_for_times({tp: ts_ms for tp in tps})
    ends = await consumer.end_offsets(tps)
    return {tp: (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in tps}


async def _read(
    consumer: AIOKafkaConsumer,
    begin: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    topic: str,
    keep_values: bool,
) -> TopicRange:
    pending = {tp for tp in begin if begin[tp] < end[tp]}
    batches: list[TickBatch] = []
    kept: list[bytes] = []
    result = TopicRange(batch=TickBatch.empty())
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=500, max_records=50_000)
        for tp, records in fetched.items():
            records = [r for r in records if r.offset < end[tp]]
            if records:
                values = [r.value or b"" for r in records]
                result.records += len(values)
                decoded = decode_tick_values(values)
                for bad in decoded.bad:
                    rec = records[bad.index]
                    raw = values[bad.index].decode("utf-8", "replace")
                    result.rejects.append(
                        Reject(raw, bad.reason, f"{topic}/{tp.partition}/{rec.offset}", bad.detail)
                    )
                batches.append(decoded.batch)
                if keep_values:
                    kept.extend(values[i] for i in decoded.rows.tolist())
            if await consumer.position(tp) >= end[tp]:
                pending.discard(tp)
    merged = TickBatch.concat(batches)
    order = np.argsort(merged.ts, kind="stable")
    result.batch = merged.take(order)
    if keep_values:
        result.values = [kept[i] for i in order.tolist()]
    return result
