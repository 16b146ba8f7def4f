"""Follow event topics from their current end and write every record as one JSON line.

Used by the main job on Kafka (``tickerstream run --bootstrap-servers``) to print the events its own
processor publishes; it reads with ``read_committed``, so exactly-once output shows each event once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import BinaryIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tickerstream.errors import TopicError
from tickerstream.kafka.admin import partition_count
from tickerstream.kafka.settings import KafkaSettings


async def topic_partitions(settings: KafkaSettings, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``; a missing topic is a :class:`TopicError`."""
    count = await partition_count(settings.bootstrap_servers, topic, client_kwargs=settings.client_kwargs())
    if count is None:
        raise TopicError(f"topic {topic} does not exist on {settings.bootstrap_servers}")
    return [TopicPartition(topic, p) for p in range(count)]


class EventFollower:
    """Follows the event topics from their current end and prints every event as one JSON line."""

    def __init__(self, settings: KafkaSettings, topics: list[str], out: BinaryIO) -> None:
        self.settings = settings
        self.topics = topics
        self.out = out
        self.counts: Counter[str] = Counter()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            enable_auto_commit=False,
            isolation_level="read_committed",
            **settings.client_kwargs(),
        )
        self._tps: list[TopicPartition] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._tps = [tp for t in self.topics for tp in await topic_partitions(self.settings, t)]
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_end(*self._tps)
        for tp in self._tps:  # resolve the lazy seek now, before anything is produced
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._follow(), name="event-printer")

    async def _follow(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in fetched.values():
                if records:
                    self.out.write(b"".join((r.value or b"") + b"\n" for r in records))
                    for r in records:
                        self.counts[orjson.loads(r.value or b"{}").get("type", "?")] += 1
            self.out.flush()

    async def drain(self) -> None:
        """Wait until everything written to the event topics so far has been printed."""
        ends = await self._consumer.end_offsets(self._tps)
        for tp in self._tps:
            while await self._consumer.position(tp) < ends[tp]:
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        finally:  # also when the printer died (e.g. stdout closed): never leak the consumer
            await self._consumer.stop()
