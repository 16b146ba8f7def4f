"""Where a processor's output goes: one idempotent producer (at-least-once) or one transactional
producer per input partition (exactly-once).

**Why a transactional producer per input partition.** aiokafka's ``send_offsets_to_transaction`` speaks
the pre-KIP-447 protocol (TxnOffsetCommit v0: no consumer generation), so the broker cannot fence a
zombie by group generation. The classic remedy is a ``transactional_id`` per input partition
(``<prefix>.<group>.<ticks topic>.<p>``): whoever takes partition ``p`` over starts a producer with the
same id, which bumps the epoch, aborts the previous owner's open transaction at once and fences it for
good; offsets, events, dead letters, reference prices and the checkpoint of ``p`` all commit or abort
together. The cost: a producer and a transaction per owned partition per commit interval.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

#: Producer settings both modes share: acks from all replicas, idempotence (no duplicates or
#: reordering from retries), no linger (latency; records sent while a request is in flight still
#: batch up), room for checkpoint chunks.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 0,
    "max_request_size": 4 * 1024 * 1024,
}


async def _settle(pending: list[asyncio.Future[Any]]) -> None:
    """Wait until every future is done (not just until the first failure), then raise the first error."""
    if not pending:
        return
    await asyncio.wait(pending)
    for fut in pending:
        exc = None if fut.cancelled() else fut.exception()
        if exc is not None:
            raise exc
    for fut in pending:
        if fut.cancelled():
            raise asyncio.CancelledError("a delivery was cancelled")


class AtLeastOnceOutput:
    """One idempotent producer; sends are awaited in bulk by :meth:`settle` before a commit."""

    transactional = False

    def __init__(self, bootstrap: str, **producer_kwargs: Any) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, **{**PRODUCER_DEFAULTS, **producer_kwargs}
        )
        self._inflight: list[asyncio.Future[Any]] = []

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    def producer(self, partition: int) -> AIOKafkaProducer:
        return self._producer

    async def send(self, partition: int, topic: str, value: bytes, key: bytes | None) -> None:
        self._inflight.append(await self._producer.send(topic, value=value, key=key))

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def settle(self) -> None:
        """Wait for the acks of everything sent so far; raises the first delivery error.

        The futures stay in ``inflight`` until every one of them is done: a failed delivery is never
        forgotten while its siblings are still on the way (the caller must then not commit)."""
        await _settle(self._inflight)
        self._inflight = []


class TransactionalOutput:
    """A transactional producer per owned input partition, with a lazily begun transaction each."""

    transactional = True

    def __init__(self, bootstrap: str, id_prefix: str, **producer_kwargs: Any) -> None:
        self._bootstrap = bootstrap
        self._id_prefix = id_prefix
        self._kwargs = {**PRODUCER_DEFAULTS, **producer_kwargs}
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._in_txn: set[int] = set()
        self._inflight: dict[int, list[asyncio.Future[Any]]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await asyncio.gather(*(self.close(p) for p in list(self._producers)))

    def transactional_id(self, partition: int) -> str:
        return f"{self._id_prefix}.{partition}"

    async def open(self, partition: int) -> None:
        """Start partition's producer: fences the previous owner and aborts its open transaction."""
        if partition in self._producers:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            transactional_id=self.transactional_id(partition),
            **self._kwargs,
        )
        await producer.start()
        self._producers[partition] = producer

    async def close(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        self._in_txn.discard(partition)
        self._inflight.pop(partition, None)
        if producer is not None:
            await producer.stop()

    def owned(self) -> list[int]:
        return sorted(self._producers)

    def producer(self, partition: int) -> AIOKafkaProducer:
        return self._producers[partition]

    async def begin(self, partition: int) -> AIOKafkaProducer:
        producer = self._producers[partition]
        if partition not in self._in_txn:
            await producer.begin_transaction()
            self._in_txn.add(partition)
        return producer

    async def send(self, partition: int, topic: str, value: bytes, key: bytes | None) -> None:
        producer = await self.begin(partition)
        fut = await producer.send(topic, value=value, key=key)
        self._inflight.setdefault(partition, []).append(fut)

    @property
    def inflight(self) -> int:
        return sum(len(v) for v in self._inflight.values())

    async def settle(self) -> None:
        """Wait for the acks of everything sent so far (all of them); raises the first delivery error."""
        await _settle([f for futs in self._inflight.values() for f in futs])
        self._inflight = {}

    def in_transaction(self, partition: int) -> bool:
        return partition in self._in_txn

    async def commit(self, partition: int, offsets: dict[TopicPartition, int], group: str) -> None:
        """Add the offsets to partition's transaction and commit it (begins one if needed)."""
        producer = await self.begin(partition)
        if offsets:
            await producer.send_offsets_to_transaction(offsets, group)
        await producer.commit_transaction()
        self._in_txn.discard(partition)

    async def abort(self) -> None:
        """Abort every open transaction (after an error: the caller rewinds to the committed state)."""
        for p in sorted(self._in_txn):
            producer = self._producers.get(p)
            if producer is not None:
                try:
                    await producer.abort_transaction()
                except Exception:  # a fenced or broken producer: drop it, open() makes a new one
                    await self.close(p)
        self._in_txn.clear()
        self._inflight = {}
