"""Which ticks partitions this processor owns, where each stands, and which symbols live on which.

Engine state is kept per input partition so that it can be checkpointed, handed over and dropped per
partition. A symbol belongs to the partition its first tick came from (the producers key ticks by
symbol, so a symbol always comes from one partition); events of a symbol are charged to that partition
(its checkpoint and, in exactly-once mode, its transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tickerstream.engine import Engine
from tickerstream.processor.refprices import UNKNOWN


@dataclass(slots=True)
class PartitionState:
    """Where one owned partition stands."""

    position: int | None = None  # next offset to process (None: the consumer's reset policy decides)
    committed: int | None = None  # offset last committed for the group
    checkpointed: int | None = None  # offset of the latest checkpoint
    slot: str = "b"  # slot of the latest checkpoint; the next one goes to the other
    dirty: bool = False  # events since the latest checkpoint (state changed without a position change)
    last_ts: int = UNKNOWN  # largest tick ts processed (reference progress)
    symbols: set[str] = field(default_factory=set)

    @property
    def needs_checkpoint(self) -> bool:
        return self.position is not None and (self.position != self.checkpointed or self.dirty)


class Ownership:
    """Owned partitions (restored and processing) and the symbol -> partition map."""

    def __init__(self) -> None:
        self.parts: dict[int, PartitionState] = {}
        self.partition_of: dict[str, int] = {}

    def __contains__(self, partition: int) -> bool:
        return partition in self.parts

    def __len__(self) -> int:
        return len(self.parts)

    def __getitem__(self, partition: int) -> PartitionState:
        return self.parts[partition]

    def owned(self) -> list[int]:
        return sorted(self.parts)

    def add(self, partition: int, state: PartitionState) -> None:
        self.parts[partition] = state
        self.partition_of.update(dict.fromkeys(state.symbols, partition))

    def register(self, by_partition: dict[int, list[str]]) -> None:
        """Record the partition of symbols seen for the first time (only called when new ones exist)."""
        for p, symbols in by_partition.items():
            new = set(symbols) - self.partition_of.keys()
            if new and p in self.parts:
                self.parts[p].symbols |= new
                self.partition_of.update(dict.fromkeys(new, p))

    def forget(self, partitions: Iterable[int], engine: Engine) -> None:
        """Drop partitions and their symbols' engine state (revoked, or to be restored afresh)."""
        for p in partitions:
            state = self.parts.pop(p, None)
            if state is None:
                continue
            engine.drop(state.symbols)
            for s in state.symbols:
                self.partition_of.pop(s, None)

    def charge(self, symbol: str, fallback: int) -> int:
        """The owned partition an event of ``symbol`` belongs to (marked dirty), else ``fallback``."""
        p = self.partition_of.get(symbol)
        if p is None or p not in self.parts:
            return fallback
        self.parts[p].dirty = True
        return p
