"""Engine checkpoints per ticks partition on a compacted Kafka topic: write, and find the latest.

A checkpoint of ticks partition ``p`` is ``Engine.checkpoint(symbols of p)`` taken when the processor's
position on ``p`` was ``offset``: restoring it and consuming ``p`` from ``offset`` rebuilds exactly the
state a processor without the fault would have (the engine is deterministic).

Layout: checkpoint topic partition ``p`` holds only ticks partition ``p``'s checkpoints, so a restore
reads one small partition, not everyone's. A snapshot can be megabytes (a full ring is 8 KB per symbol),
more than a Kafka message should be, so it is cut into chunks:

* chunk records, key ``"<p>/<slot>/<i>"``, value = bytes ``i*CHUNK .. (i+1)*CHUNK`` of the snapshot;
* then a manifest, key ``"<p>"``, value JSON ``{"v", "partition", "offset", "slot", "chunks": [chunk
  record offsets], "size", "blake2b"}``, written only once every chunk is acknowledged.

Slots alternate ``a``/``b``: a checkpoint never overwrites the chunks the current manifest points to,
so a crash halfway through writing leaves the previous checkpoint intact; compaction keeps the latest
record per key, so the topic holds about two checkpoints per partition. Finding the latest manifest
reads the partition's tail (a manifest is the last thing written in a checkpoint), widening the
window only if the tail holds none (e.g. orphan chunks of a crashed write).

In exactly-once mode the records are written inside the partition's transaction together with the
consumer offset, so the manifest that a ``read_committed`` reader finds always matches the committed
offset; aborted checkpoints are invisible.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

#: Bytes per chunk record: well below the 1 MB default message size limit, with room for the batch header.
CHUNK_BYTES = 512 * 1024

#: Topic configs of a checkpoint topic: compacted, short segments so compaction keeps it small.
CHECKPOINT_TOPIC_CONFIGS = {
    "cleanup.policy": "compact",
    "segment.ms": str(10 * 60 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(3600 * 1000),
}


class CheckpointError(RuntimeError):
    """The latest checkpoint of a partition exists but cannot be read back."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    partition: int
    offset: int
    slot: str
    data: bytes


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


async def write_checkpoint(
    producer: AIOKafkaProducer, topic: str, partition: int, offset: int, slot: str, data: bytes
) -> int:
    """Write one checkpoint (chunks, then the manifest) and wait for the acks; returns bytes written.

    With a transactional producer this must run inside its open transaction."""
    chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
    futures = [
        await producer.send(topic, value=c, key=f"{partition}/{slot}/{i}".encode(), partition=partition)
        for i, c in enumerate(chunks)
    ]
    metas = await asyncio.gather(*futures)
    manifest = {
        "v": 1,
        "partition": partition,
        "offset": offset,
        "slot": slot,
        "chunks": [m.offset for m in metas],
        "size": len(data),
        "blake2b": _digest(data),
    }
    fut = await producer.send(
        topic, value=orjson.dumps(manifest), key=str(partition).encode(), partition=partition
    )
    await fut
    return len(data)


async def checkpoint_bounds(
    consumer: AIOKafkaConsumer, topic: str, partitions: list[int]
) -> dict[int, tuple[int, int]]:
    """(first, end) offsets of the checkpoint partitions, in two requests for all of them."""
    tps = [TopicPartition(topic, p) for p in partitions]
    begin = await consumer.beginning_offsets(tps)
    end = await consumer.end_offsets(tps)
    return {tp.partition: (begin[tp], end[tp]) for tp in tps}


async def read_checkpoint(
    consumer: AIOKafkaConsumer,
    topic: str,
    partition: int,
    bounds: tuple[int, int] | None = None,
    timeout_s: float = 30.0,
) -> Checkpoint | None:
    """The latest checkpoint of ticks partition ``partition``, or None if there is none.

    ``consumer`` is a group-less consumer (``read_committed``) used for manual assignment; its
    assignment is replaced. ``bounds``: the partition's (first, end) offsets if already known."""
    tp = TopicPartition(topic, partition)
    if bounds is None:
        bounds = (await checkpoint_bounds(consumer, topic, [partition]))[partition]
    begin, end = bounds
    if end <= begin:
        return None
    consumer.assign([tp])
    key = str(partition).encode()
    async with asyncio.timeout(timeout_s):
        window = 64
        manifest: dict[str, Any] | None = None
        start = end
        while manifest is None and start > begin:
            start = max(begin, end - window)
            for rec in await _read_range(consumer, tp, start, end):
                if rec.key == key and rec.value:
                    manifest = orjson.loads(rec.value)
            window *= 8
        if manifest is None:
            return None
        wanted = list(manifest["chunks"])
        got: dict[int, bytes] = {}
        if wanted:
            for rec in await _read_range(consumer, tp, min(wanted), max(wanted) + 1):
                if rec.offset in wanted and rec.value is not None:
                    got[rec.offset] = rec.value
    missing = [o for o in wanted if o not in got]
    if missing:
        raise CheckpointError(
            f"checkpoint of partition {partition} at offset {manifest['offset']}: chunk records {missing} "
            f"of {topic} are gone"
        )
    data = b"".join(got[o] for o in wanted)
    if len(data) != manifest["size"] or _digest(data) != manifest["blake2b"]:
        raise CheckpointError(f"checkpoint of partition {partition}: size or checksum mismatch")
    return Checkpoint(partition, int(manifest["offset"]), str(manifest["slot"]), data)


async def _read_range(consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int) -> list[Any]:
    """Records of ``tp`` from ``start`` up to (excluding) ``end``; stops at ``end`` even with gaps
    (transaction markers, compacted-away records) because the position passes it."""
    consumer.seek(tp, start)
    out: list[Any] = []
    while await consumer.position(tp) < end:
        batch = await consumer.getmany(tp, timeout_ms=200)
        for records in batch.values():
            out.extend(r for r in records if r.offset < end)
    return out
