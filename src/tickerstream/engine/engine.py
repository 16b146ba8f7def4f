"""``Engine``: batch of ticks in, events out. (Skeleton: signatures first, detection follows.)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.config import EngineConfig
from tickerstream.engine.stats import EngineStats
from tickerstream.events import Event


class Engine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._stats = EngineStats()

    def process(self, batch: TickBatch) -> list[Event]:
        """Append a batch (ticks in stream order) and return its events, sorted by (ts, symbol, type, horizon)."""
        self._stats.ticks += len(batch)
        return []

    def observe_reference(self, symbols: Sequence[str], ts: Any, prices: Any) -> list[Event]:
        """Reference prices from outside (e.g. BTC owned by another instance): as-of store only; may release held ticks."""
        return []

    def flush(self) -> list[Event]:
        """End of input: evaluate every held pegged tick with whatever reference price is fresh."""
        return []

    def snapshot(self, symbols: Iterable[str] | None = None) -> bytes:
        """Versioned bytes of all state for ``symbols`` (None = all): windows, detectors, pegs, held ticks."""
        raise NotImplementedError

    def restore(self, data: bytes) -> None:
        """Merge a snapshot: the state of the symbols in ``data`` replaces ours; other symbols are untouched."""
        raise NotImplementedError

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget symbols (partitions revoked)."""
        raise NotImplementedError

    @property
    def stats(self) -> EngineStats:
        return self._stats

    def window_fill(self) -> float:
        return 0.0

    def last_price(self, symbol: str) -> float | None:
        return None

    def last_ts(self, symbol: str) -> int | None:
        return None

    def peg_status(self, symbol: str) -> tuple[str, float] | None:
        return None
