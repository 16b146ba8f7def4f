"""Recovery of engine state per ticks partition: write checkpoints, restore them on assignment.

The choice (docs/processing.md, "Recovery"): a checkpoint per partition (:mod:`.checkpoint`) rather
than rewinding the input by a lookback. A rewind rebuilds the ring windows, but not state that is older
than the lookback (a peg episode lasting days, a move's cool-down, the EWMA volatility's whole history
up to the last bit), so only a checkpoint makes the events after a fault *equal* to those of a run
without it. Restoring = ``Engine.restore`` of the partition's latest checkpoint and consuming the
partition from the checkpoint's offset. The committed offset never runs ahead of the checkpoint (both
modes commit offsets only together with a checkpoint at the same positions), so nothing is skipped;
at-least-once repeats at most the work since the last checkpoint, with identical events and ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tickerstream.engine import Engine
from tickerstream.engine.checkpoint import CheckpointFormatError
from tickerstream.log import get_logger
from tickerstream.processor.checkpoints import (
    CheckpointError,
    checkpoint_bounds,
    read_checkpoint,
    write_checkpoint,
)
from tickerstream.processor.ownership import PartitionState

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Restored:
    state: PartitionState
    #: The checkpoint's offset, None when there was none (the partition starts cold).
    checkpoint: int | None
    #: The checkpoint or the committed offset lay beyond the partition's end: the topic was deleted
    #: and re-created (or truncated) since. Nothing was restored; the caller starts the partition over.
    beyond_end: bool = False


class Recovery:
    """Reads and writes the checkpoints of one checkpoint topic."""

    def __init__(self, bootstrap: str, topic: str, **consumer_kwargs: Any) -> None:
        self.topic = topic
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",  # aborted (exactly-once) checkpoints are invisible
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **consumer_kwargs,
        )

    async def start(self) -> None:
        await self._reader.start()

    async def stop(self) -> None:
        await self._reader.stop()

    async def checkpoint(
        self, engine: Engine, partition: int, state: PartitionState, producer: AIOKafkaProducer
    ) -> int:
        """Write the state of ``partition``'s symbols at ``state.position``; returns its size in bytes."""
        assert state.position is not None
        slot = "a" if state.slot == "b" else "b"
        data = engine.checkpoint(state.symbols)
        size = await write_checkpoint(producer, self.topic, partition, state.position, slot, data)
        state.slot, state.checkpointed, state.dirty = slot, state.position, False
        return size

    async def bounds(self, partitions: list[int]) -> dict[int, tuple[int, int]]:
        """Offsets of the checkpoint partitions about to be restored (one round trip for all)."""
        return await checkpoint_bounds(self._reader, self.topic, partitions)

    async def restore(
        self,
        engine: Engine,
        partition: int,
        committed: int | None,
        bounds: tuple[int, int] | None = None,
        end: int | None = None,
    ) -> Restored:
        """Merge the partition's latest checkpoint into ``engine``; where to resume and what it owns.

        ``end``: the ticks partition's end offset. A checkpoint or commit beyond it describes records
        that are gone (the topic was re-created): seeking there would wait for offsets the new topic
        reaches only much later and skip everything before them, so nothing is restored and the
        result says ``beyond_end``."""
        try:
            cp = await read_checkpoint(self._reader, self.topic, partition, bounds)
        except CheckpointError as exc:
            log.error("process.checkpoint_unreadable", partition=partition, error=str(exc))
            cp = None
        if end is not None and max(committed or 0, cp.offset if cp else 0) > end:
            log.error(
                "process.offset_beyond_end",
                partition=partition,
                checkpoint=cp.offset if cp else None,
                committed=committed,
                end=end,
                detail="the ticks topic was re-created or truncated: this partition's state is dropped "
                "and it is read again from its beginning",
            )
            return Restored(PartitionState(), None, beyond_end=True)
        state = PartitionState(committed=committed)
        if cp is None:
            state.position = committed
            if committed is not None:
                log.warning(
                    "process.no_checkpoint",
                    partition=partition,
                    committed=committed,
                    detail="state before the committed offset is lost; events may differ for a while",
                )
            return Restored(state, None)
        before = set(engine.symbols())
        try:
            engine.restore(cp.data)
        except CheckpointFormatError as exc:
            # An older engine format (or other horizons): refused, never misread; cold start.
            log.error("process.checkpoint_refused", partition=partition, error=str(exc))
            state.position = committed
            return Restored(state, None)
        state.symbols = set(engine.symbols()) - before
        state.position = state.checkpointed = cp.offset
        state.slot = cp.slot
        if committed is not None and committed > cp.offset:
            # Not written by us (we commit only at checkpoints): reprocess from the checkpoint.
            log.warning("process.checkpoint_behind_commit", partition=partition, checkpoint=cp.offset)
        return Restored(state, cp.offset)
