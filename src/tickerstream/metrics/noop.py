"""Metrics switched off: the same calls as ``Metrics`` and ``MarketGauges``, doing nothing.

For ``--no-metrics`` and for the cost benchmark (processor throughput with metrics on vs off):
callers keep one code path and swap the object. A unit test holds the method signatures equal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from tickerstream.metrics.core import DEFAULT_LAG_TOPIC

if TYPE_CHECKING:
    from tickerstream.engine.stats import EngineStats
    from tickerstream.events import Event
    from tickerstream.metrics.markets import EngineView


class NoMetrics:
    """``Metrics`` with every call a no-op and no registry."""

    def observe_produce_batch(
        self, lines: int, ticks: int, duration_s: float, rejects: Mapping[str, int] | None = None
    ) -> None:
        pass

    def count_rejects(self, by_reason: Mapping[str, int]) -> None:
        pass

    def observe_batch(self, records: int, duration_s: float) -> None:
        pass

    def count_dead_letters(self, by_reason: Mapping[str, int]) -> None:
        pass

    def count_events(
        self, events: Iterable[Event], now_s: float | None = None, tick_time_s: float | None = None
    ) -> None:
        pass

    def update_engine(self, stats: EngineStats) -> None:
        pass

    def sync_totals(
        self,
        *,
        lines_read: int | None = None,
        ticks_produced: int | None = None,
        produce_errors: int | None = None,
        records_consumed: int | None = None,
        rebalances: int | None = None,
        restore_records: int | None = None,
        rejects: Mapping[str, int] | None = None,
        dead_letters: Mapping[str, int] | None = None,
        events: Mapping[str, int] | None = None,
    ) -> None:
        pass

    def set_lag(self, lag_by_partition: Mapping[int, int], topic: str = DEFAULT_LAG_TOPIC) -> None:
        pass

    def rebalanced(self, assigned: Collection[int], topic: str = DEFAULT_LAG_TOPIC) -> None:
        pass

    def observe_commit(self, duration_s: float) -> None:
        pass

    def observe_restore(self, duration_s: float, records: int) -> None:
        pass

    def count_offset_reset(self) -> None:
        pass


class NoMarketGauges:
    """``MarketGauges`` that exports nothing."""

    @property
    def exported(self) -> frozenset[str]:
        return frozenset()

    def refresh(
        self,
        engine: EngineView,
        now_s: float | None = None,
        *,
        force: bool = False,
        wall_s: float | None = None,
    ) -> bool:
        return False
