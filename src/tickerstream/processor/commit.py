"""Making processed work durable: acks, checkpoints and offsets, in the order the guarantees need.

* At-least-once: every call waits for the acks of everything sent. When a checkpoint is due (or forced:
  revoke, shutdown), each changed partition is checkpointed, and only then are the offsets committed,
  **at the checkpoints' positions**. A committed offset never runs ahead of the state that goes with it,
  so a successor never starts cold and never skips; it repeats at most one checkpoint interval.
* Exactly-once: every open partition transaction is committed with the partition's checkpoint and
  offset inside. Even one that only carries reference progress is committed, because an open transaction
  holds back the last stable offset of every topic it wrote to, which stalls every ``read_committed``
  reader (the other instances' reference gates).
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tickerstream.engine import Engine
from tickerstream.kafka.outputs import AtLeastOnceOutput, TransactionalOutput
from tickerstream.log import get_logger
from tickerstream.processor.config import ProcessorConfig, ProcessorStats
from tickerstream.processor.ownership import Ownership
from tickerstream.processor.recovery import Recovery

log = get_logger(__name__)


class Committer:
    def __init__(
        self,
        config: ProcessorConfig,
        engine: Engine,
        owned: Ownership,
        output: AtLeastOnceOutput | TransactionalOutput,
        consumer: AIOKafkaConsumer,
        recovery: Recovery,
        stats: ProcessorStats,
        ticks_topic: str,
    ) -> None:
        self.config = config
        self.engine = engine
        self.owned = owned
        self.output = output
        self.consumer = consumer
        self.recovery = recovery
        self.stats = stats
        self.ticks_topic = ticks_topic
        self.last_commit = self.last_checkpoint = time.monotonic()

    def due(self) -> bool:
        return (time.monotonic() - self.last_commit) * 1000 >= self.config.commit_interval_ms

    async def commit(self, checkpoint: bool = False) -> bool:
        """Commit what was processed; False if a transaction failed and was aborted (the caller must
        then restore every partition from its checkpoint, which is the committed state)."""
        self.last_commit = time.monotonic()
        if not len(self.owned):
            return True
        if isinstance(self.output, TransactionalOutput):
            return await self._commit_transactions(self.output)
        await self.output.settle()
        due = (time.monotonic() - self.last_checkpoint) * 1000 >= self.config.checkpoint_interval_ms
        if not (checkpoint or due):
            return True
        todo = [p for p, s in self.owned.parts.items() if s.needs_checkpoint]
        await asyncio.gather(*(self._checkpoint(p) for p in todo))
        self.last_checkpoint = time.monotonic()
        offsets = {
            TopicPartition(self.ticks_topic, p): s.checkpointed
            for p, s in self.owned.parts.items()
            if s.checkpointed is not None and s.checkpointed != s.committed
        }
        if offsets:
            await self.consumer.commit(offsets)
            for tp, pos in offsets.items():
                self.owned[tp.partition].committed = pos
            self.stats.commits += 1
        return True

    async def _checkpoint(self, p: int) -> None:
        if isinstance(self.output, TransactionalOutput):
            producer = await self.output.begin(p)
        else:
            producer = self.output.producer(p)
        size = await self.recovery.checkpoint(self.engine, p, self.owned[p], producer)
        self.stats.checkpoints += 1
        self.stats.checkpoint_bytes += size

    async def _commit_transactions(self, output: TransactionalOutput) -> bool:
        todo = sorted(
            p for p, s in self.owned.parts.items() if s.needs_checkpoint or output.in_transaction(p)
        )
        if not todo:
            return True
        group = self.config.group

        async def one(p: int) -> None:
            state = self.owned[p]
            if state.position is None:  # nothing consumed yet: only output to commit
                await output.commit(p, {}, group)
                return
            await self._checkpoint(p)
            await output.commit(p, {TopicPartition(self.ticks_topic, p): state.position}, group)
            state.committed = state.position

        try:
            await output.settle()
            await asyncio.gather(*(one(p) for p in todo))
        except KafkaError as exc:
            log.error("process.transaction_failed", error=str(exc), partitions=todo)
            self.stats.aborts += 1
            await output.abort()
            return False
        self.stats.commits += 1
        return True
