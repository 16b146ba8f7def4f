"""The processor's side of a rebalance: commit on revoke, pause what is newly assigned, restore it.

The listener commits everything on revoke (under the same lock as a processing step, so a step is
never cut in half) and only *pauses* newly assigned partitions; the main loop restores them from
their checkpoints (``Rebalancing._restore_assigned``), since heartbeats are not sent while a
rebalance callback runs and slow work must stay out of it. ``Processor`` (``processor.py``) mixes
this in; the state named below is its own.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from tickerstream.engine import Engine
from tickerstream.kafka.outputs import AtLeastOnceOutput, TransactionalOutput
from tickerstream.log import get_logger
from tickerstream.processor.config import ProcessorStats
from tickerstream.processor.gate import RefGate
from tickerstream.processor.metrics import ProcessorMetrics
from tickerstream.processor.ownership import Ownership, PartitionState
from tickerstream.processor.pending import PendingTicks
from tickerstream.processor.recovery import Recovery, Restored
from tickerstream.processor.refprices import RefFollower

log = get_logger(__name__)

#: How long a restore waits for the reference points published before the restored checkpoints.
REF_CATCH_UP_S = 30.0


class RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, proc: Rebalancing) -> None:
        self.proc = proc

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.proc._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.proc._on_assigned(assigned)


class Rebalancing:
    """Revoke, assign and restore for ``Processor``."""

    # The processor's state these handlers read and change (set in ``Processor.__init__``).
    ticks_topic: str
    engine: Engine
    stats: ProcessorStats
    metrics: ProcessorMetrics
    output: AtLeastOnceOutput | TransactionalOutput
    owned: Ownership
    failed: bool
    _consumer: AIOKafkaConsumer
    _recovery: Recovery
    _follower: RefFollower
    _gate: RefGate
    _pending: PendingTicks
    _paused: set[int]
    _lock: asyncio.Lock
    #: Partitions to restore before their records go on (newly assigned, or kept: see below).
    _to_restore: set[int]
    #: Partitions kept across a rebalance, to check before they go on (see ``_restore_assigned``).
    _to_verify: set[int]
    #: Partitions seen to start over under us (``_went_back``): restored cold from their beginning.
    _started_over: set[int]
    #: False when the last revoke could not commit: nothing owned before it can be kept.
    _revoke_clean: bool

    if TYPE_CHECKING:

        async def _commit(self, checkpoint: bool = False) -> None: ...

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self.stats.rebalances += 1
            mine = sorted(tp.partition for tp in revoked if tp.topic == self.ticks_topic)
            log.info("process.revoked", partitions=mine, pending_rows=self._pending.total_rows)
            try:
                if self.failed:  # see stop(): never commit past a failed step
                    self._revoke_clean = False
                else:
                    await self._commit(checkpoint=True)
            except (KafkaError, CommitFailedError) as exc:
                log.warning("process.revoke_commit_failed", error=str(exc))
                self._revoke_clean = False
            # Positions restart at the committed offsets after the rebalance: fetched records go.
            self._pending.clear()
            self._paused.clear()
            self._gate.reset()

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._lock:
            mine = {tp.partition for tp in assigned if tp.topic == self.ticks_topic}
            kept = mine & set(self.owned.parts) if self._revoke_clean else set()
            self._revoke_clean = True
            lost = set(self.owned.parts) - kept
            self.owned.forget(lost, self.engine)
            if isinstance(self.output, TransactionalOutput):
                for p in lost - mine:
                    await self.output.close(p)
            new = mine - kept
            # Kept partitions wait (paused) for one check too: a clean revoke does not prove nobody
            # else owned them meanwhile (``_restore_assigned``).
            self._to_verify = kept
            self._to_restore = (self._to_restore & mine) | new | kept
            self._started_over &= mine
            self._consumer.pause(*(TopicPartition(self.ticks_topic, p) for p in self._to_restore))
            log.info("process.assigned", partitions=sorted(mine), kept=sorted(kept), restore=sorted(new))
            self.metrics.rebalanced(sorted(mine))

    async def _restore_assigned(self) -> None:
        """Restore newly assigned partitions: fence (exactly-once), checkpoint, seek, then resume."""
        t0 = time.perf_counter()
        replayed = 0
        todo = sorted(self._to_restore)
        verify, self._to_verify = self._to_verify, set()
        self._to_restore = set()
        assigned = {tp.partition for tp in self._consumer.assignment() if tp.topic == self.ticks_topic}
        todo = [p for p in todo if p in assigned]
        if isinstance(self.output, TransactionalOutput):
            # Kept partitions get a new producer too: a member that owned one while we were out of the
            # group opened its transactional id and so fenced ours, even if it committed nothing, and
            # our next send would fail. A new producer fences it back.
            for p in verify & set(todo):
                await self.output.close(p)
            # Fence the previous owners (aborting their open transactions) before reading their commits.
            await asyncio.gather(*(self.output.open(p) for p in todo))
        tps = [TopicPartition(self.ticks_topic, p) for p in todo]
        # The group's commits first, then the ends and the checkpoints' bounds: read in that order, an
        # offset committed by the time we look is never beyond the end (unless the topic really was
        # re-created) and its checkpoint is within the bounds. Read the other way round, a restore that
        # outlasted a rebalance saw the offsets another member committed meanwhile beyond stale ends,
        # took the topic for re-created, started the partitions over from their beginning and
        # checkpointed that empty state over the other member's.
        commits = {tp: await self._consumer.committed(tp) for tp in tps}
        bounds = await self._recovery.bounds(todo) if todo else {}
        ends = await self._consumer.end_offsets(tps) if todo else {}
        resume = []
        for tp in tps:
            p = tp.partition
            committed = commits[tp]
            if p in verify and p in self.owned:
                state = self.owned[p]
                if state.committed == committed:
                    # Nobody committed since we did: our state is the committed one. Go on from our own
                    # position (the client restarts at the committed offset, which is ours).
                    if state.position is not None:
                        self._consumer.seek(tp, state.position)
                    resume.append(tp)
                    continue
                # Another member committed it while we were out of the group (a restore or a step that
                # outlasted the rebalance time-out, with nothing of ours to commit on the revoke): our
                # state is older than the group's position, so it is restored like a new partition.
                log.warning(
                    "process.kept_partition_moved_on", partition=p, ours=state.committed, committed=committed
                )
                self.owned.forget([p], self.engine)
            if p in self._started_over:
                self._started_over.discard(p)
                restored = Restored(PartitionState(), None, beyond_end=True)
            else:
                restored = await self._recovery.restore(self.engine, p, committed, bounds[p], end=ends[tp])
            if restored.beyond_end:
                await self._start_over(tp, restored)
            elif restored.checkpoint is not None:
                self._consumer.seek(tp, restored.checkpoint)
                self.stats.restores += 1
                if committed is not None and committed > restored.checkpoint:
                    replayed += committed - restored.checkpoint  # re-read to catch up with the commit
            elif committed is not None:
                self.stats.cold_starts += 1
            else:  # a new group: where the reset policy puts us (the beginning)
                restored.state.position = await self._consumer.position(tp)
            self.owned.add(p, restored.state)
            resume.append(tp)
            log.info(
                "process.restored",
                partition=p,
                checkpoint=restored.checkpoint,
                committed=committed,
                symbols=len(restored.state.symbols),
            )
        # Reference points published before those checkpoints were taken must be in before we go on.
        await self._follower.catch_up(timeout_s=REF_CATCH_UP_S)
        if resume:
            self._consumer.resume(*resume)
        if todo:
            self.metrics.restored(time.perf_counter() - t0, replayed)

    async def _start_over(self, tp: TopicPartition, restored: Restored) -> None:
        """Read a partition whose checkpoint or commit lies beyond its end from its beginning, cold."""
        begin = (await self._consumer.beginning_offsets([tp]))[tp]
        self._consumer.seek(tp, begin)
        restored.state.position = begin
        self.stats.offset_resets += 1
        self.metrics.offset_reset()
