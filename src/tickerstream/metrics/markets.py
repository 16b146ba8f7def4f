"""``MarketGauges``: per-symbol market gauges with a hard bound on how many symbols get series.

Per-symbol series are the one place where a stream of scraped pages could blow up Prometheus
(10,000 symbols x a few gauges x N processors). So:

- Price and last-update series exist for the allowlist plus the ``top_n`` most active other
  symbols; everything else is only counted (``ticker_symbols_not_exported``).
- Activity is an exponentially decayed count of refreshes in which the symbol's last tick advanced
  (half-life ``activity_halflife_s``); ties go to symbols already exported, then by name, so the
  exported set does not churn when activity is even.
- A non-allowlisted symbol without a new tick for ``stale_after_s`` (wall clock) loses its series.
  Allowlisted symbols keep theirs, so "no ticks for BTC" shows as an old timestamp that alerts.
- Peg series exist for every pegged symbol the engine has seen: the peg registry bounds them (a few
  dozen), and a stale depeg must not vanish and resolve its alert silently. An ``unknown`` peg keeps
  its last judged deviation; its state (3) says the value is no longer current.
- A symbol the engine forgets (partition revoked) loses every series at the next refresh, so two
  processes of a group do not both report it for long.
- Per pegged symbol, two clocks of its last tick: its event time (``ticker_peg_last_tick_...``: how
  old the newest price is) and the wall time at which a refresh first saw it advance
  (``ticker_peg_last_accepted_...``). The second stops whenever ticks stop being *accepted*, also
  when they keep arriving but are dropped as late behind a tick stamped ahead of them, whose event
  time would keep the first one looking fresh (docs/processing.md, "Ticks from the future").

Fed from the engine's cheap accessors on a timer (``refresh`` returns at once until
``refresh_interval_s`` has passed), never per tick: its cost is O(symbols) per interval.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tickerstream.metrics.core import PEG_STATE_VALUES, Metrics

if TYPE_CHECKING:
    from tickerstream.engine.pegs import PegStatus


class EngineView(Protocol):
    """The engine accessors market gauges read (``tickerstream.engine.Engine`` has them)."""

    def symbols(self) -> list[str]: ...
    def last_price(self, symbol: str) -> float | None: ...
    def last_ts(self, symbol: str) -> int | None: ...
    def peg_report(self, symbol: str) -> PegStatus | None: ...
    def window_fill(self) -> float: ...


@dataclass(frozen=True, slots=True)
class MarketGaugeConfig:
    #: Symbols always exported while the engine tracks them (never removed as stale).
    allowlist: frozenset[str] = frozenset()
    #: How many other symbols get price series, most active first. 0 = the allowlist only.
    top_n: int = 50
    #: Wall-clock seconds without a new tick after which a non-allowlisted symbol's series go.
    stale_after_s: float = 900.0
    #: Minimum wall-clock seconds between two refreshes (scrapes are 15 s apart anyway).
    refresh_interval_s: float = 5.0
    #: Half-life of the activity score that ranks symbols for the top N.
    activity_halflife_s: float = 300.0

    def __post_init__(self) -> None:
        if self.top_n < 0:
            raise ValueError("top_n must be >= 0")
        if self.stale_after_s <= 0 or self.refresh_interval_s < 0 or self.activity_halflife_s <= 0:
            raise ValueError("stale_after_s and activity_halflife_s must be > 0, refresh_interval_s >= 0")


@dataclass(slots=True)
class _Seen:
    ts: int  # last tick ts seen (ms)
    advanced_at: float  # wall clock (monotonic) when ts last changed
    score: float = 0.0


@dataclass(slots=True)
class MarketGauges:
    metrics: Metrics
    config: MarketGaugeConfig = field(default_factory=MarketGaugeConfig)
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _exported: set[str] = field(default_factory=set)
    _pegged: set[str] = field(default_factory=set)
    _peg_labels: dict[str, str] = field(default_factory=dict)  # symbol -> peg label of last_tick
    #: symbol -> (its last tick's event time, wall clock when a refresh first saw it)
    _peg_accepted: dict[str, tuple[int, float]] = field(default_factory=dict)
    _ref_aged: set[str] = field(default_factory=set)
    _deviated: set[str] = field(default_factory=set)
    _last_refresh: float | None = None

    @property
    def exported(self) -> frozenset[str]:
        """Symbols that have price series now."""
        return frozenset(self._exported)

    def refresh(
        self,
        engine: EngineView,
        now_s: float | None = None,
        *,
        force: bool = False,
        wall_s: float | None = None,
    ) -> bool:
        """Update the market gauges from ``engine`` if ``refresh_interval_s`` has passed since the
        last refresh (or ``force``). ``now_s`` is a monotonic clock in seconds (default
        ``time.monotonic()``), ``wall_s`` the wall clock in Unix seconds (default ``time.time()``).
        Returns whether it refreshed."""
        now = time.monotonic() if now_s is None else now_s
        last = self._last_refresh
        if not force and last is not None and now - last < self.config.refresh_interval_s:
            return False
        decay = 1.0 if last is None else 0.5 ** (max(0.0, now - last) / self.config.activity_halflife_s)
        self._last_refresh = now
        symbols = engine.symbols()
        self._track(engine, symbols, now, decay)
        self._export_prices(engine, self._select(now))
        self._export_pegs(engine, symbols, time.time() if wall_s is None else wall_s)
        m = self.metrics
        m.window_fill.set(engine.window_fill())
        m.symbols_exported.set(len(self._exported))
        m.symbols_not_exported.set(len(self._seen) - len(self._exported))
        return True

    def _track(self, engine: EngineView, symbols: Iterable[str], now: float, decay: float) -> None:
        seen = self._seen
        present: set[str] = set()
        for sym in symbols:
            ts = engine.last_ts(sym)
            if ts is None:
                continue
            present.add(sym)
            s = seen.get(sym)
            if s is None:
                seen[sym] = _Seen(ts, now, 1.0)
            elif ts != s.ts:
                s.ts, s.advanced_at, s.score = ts, now, s.score * decay + 1.0
            else:
                s.score *= decay
        for sym in [s for s in seen if s not in present]:  # forgotten by the engine
            del seen[sym]

    def _select(self, now: float) -> set[str]:
        cfg = self.config
        chosen = {s for s in cfg.allowlist if s in self._seen}
        if cfg.top_n:
            fresh = [
                (s, st)
                for s, st in self._seen.items()
                if s not in chosen and now - st.advanced_at <= cfg.stale_after_s
            ]
            fresh.sort(key=lambda item: (-item[1].score, item[0] not in self._exported, item[0]))
            chosen.update(s for s, _ in fresh[: cfg.top_n])
        return chosen

    def _export_prices(self, engine: EngineView, chosen: set[str]) -> None:
        m = self.metrics
        for sym in self._exported - chosen:
            m.last_price.remove(sym)
            m.last_update.remove(sym)
        for sym in chosen:
            price = engine.last_price(sym)
            if price is not None:
                m.last_price.labels(sym).set(price)
                m.last_update.labels(sym).set(self._seen[sym].ts / 1000.0)
        self._exported = chosen

    def _export_pegs(self, engine: EngineView, symbols: Iterable[str], wall_s: float) -> None:
        m = self.metrics
        pegged: set[str] = set()
        aged: set[str] = set()
        deviated: set[str] = set()
        for sym in symbols:
            status = engine.peg_report(sym)
            if status is None:
                continue
            m.peg_state.labels(sym).set(PEG_STATE_VALUES.get(status.state, 0))
            m.peg_sources_disagree.labels(sym).set(1 if status.sources_disagree else 0)
            if status.deviation_bps is not None:  # unknown keeps the last judged deviation
                m.peg_deviation.labels(sym).set(status.deviation_bps / 10_000.0)
                deviated.add(sym)
            m.peg_worst.labels(sym).set(status.worst_bps / 10_000.0)
            if status.last_ts >= 0:
                old = self._peg_labels.get(sym)
                if old is not None and old != status.peg:
                    m.peg_last_tick.remove(sym, old)
                    m.peg_last_accepted.remove(sym, old)
                m.peg_last_tick.labels(sym, status.peg).set(status.last_ts / 1000.0)
                seen = self._peg_accepted.get(sym)
                if seen is None or seen[0] != status.last_ts:
                    seen = self._peg_accepted[sym] = (status.last_ts, wall_s)
                m.peg_last_accepted.labels(sym, status.peg).set(seen[1])
                self._peg_labels[sym] = status.peg
            if status.ref_age_s is not None:
                m.peg_ref_age.labels(sym).set(status.ref_age_s)
                aged.add(sym)
            pegged.add(sym)
        for sym in self._pegged - pegged:
            m.peg_state.remove(sym)
            m.peg_sources_disagree.remove(sym)
            m.peg_worst.remove(sym)
            label = self._peg_labels.pop(sym, None)
            self._peg_accepted.pop(sym, None)
            if label is not None:
                m.peg_last_tick.remove(sym, label)
                m.peg_last_accepted.remove(sym, label)
        for sym in self._deviated - deviated:
            m.peg_deviation.remove(sym)
        for sym in self._ref_aged - aged:
            m.peg_ref_age.remove(sym)
        self._pegged, self._deviated, self._ref_aged = pegged, deviated, aged
