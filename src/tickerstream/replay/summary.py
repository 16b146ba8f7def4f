"""What a backtest saw and found: ticks, symbols, events by type, peg episodes and the largest moves.

:class:`ReplaySummary` watches a replay (it is a ``ReplayObserver``) and renders the readable table
that ``ticker-replay --summary`` and ``tickerstream run`` print on stderr.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tickerstream.engine import TickBatch
from tickerstream.events import Event


@dataclass(slots=True)
class PegEpisode:
    symbol: str
    peg: str
    start_ts: int
    end_ts: int | None = None
    worst_bps: float = 0.0
    duration_s: float | None = None


@dataclass(slots=True)
class ReplaySummary:
    """What a replay saw and found; ``render`` makes the readable table for stderr."""

    ticks: int = 0
    symbols: set[str] = field(default_factory=set)
    first_ts: int | None = None
    last_ts: int | None = None
    events_by_type: Counter[str] = field(default_factory=Counter)
    events_by_symbol: Counter[tuple[str, str]] = field(default_factory=Counter)
    episodes: list[PegEpisode] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    _open: dict[str, PegEpisode] = field(default_factory=dict)

    def add_batch(self, batch: TickBatch) -> None:
        self.ticks += len(batch)
        if len(batch):
            self.symbols.update(batch.symbols)
            lo, hi = int(batch.ts.min()), int(batch.ts.max())
            self.first_ts = lo if self.first_ts is None else min(self.first_ts, lo)
            self.last_ts = hi if self.last_ts is None else max(self.last_ts, hi)

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            d = event.to_dict()
            kind, symbol = d["type"], d["symbol"]
            self.events_by_type[kind] += 1
            self.events_by_symbol[(kind, symbol)] += 1
            if kind == "move":
                self.moves.append(d)
            elif kind == "peg":
                self._track_episode(d)

    def _track_episode(self, d: dict[str, Any]) -> None:
        symbol = d["symbol"]
        episode = self._open.get(symbol)
        # A depeg episode is warn/critical; it ends in ok or unknown (peg events v2, docs/pegs.md).
        ended = d["state"] in ("ok", "unknown")
        if episode is None and not ended:
            episode = PegEpisode(symbol, d["peg"], d["ts"])
            self._open[symbol] = episode
            self.episodes.append(episode)
        if episode is None:
            return
        for seen in (d["deviation_bps"], d.get("worst_bps")):
            if seen is not None and abs(seen) > abs(episode.worst_bps):
                episode.worst_bps = float(seen)  # signed: below the peg is negative
        if ended:
            episode.end_ts = d["ts"]
            duration = d.get("duration_s")
            episode.duration_s = duration if duration is not None else (d["ts"] - episode.start_ts) / 1000
            del self._open[symbol]

    def render(self, top_moves: int = 10) -> str:
        lines = [
            "replay summary",
            f"  ticks      {self.ticks:,} over {len(self.symbols):,} symbols, "
            f"{_iso(self.first_ts)} .. {_iso(self.last_ts)}",
            "  events     "
            + (", ".join(f"{k}={v:,}" for k, v in sorted(self.events_by_type.items())) or "none"),
        ]
        if self.events_by_symbol:
            lines.append(
                "  by symbol  "
                + ", ".join(
                    f"{sym}:{kind}={n}"
                    for (kind, sym), n in sorted(
                        self.events_by_symbol.items(), key=lambda kv: (-kv[1], kv[0])
                    )[:20]
                )
            )
        if self.episodes:
            lines.append("  peg episodes")
            lines.append(
                f"    {'symbol':<8} {'peg':<5} {'start':<20} {'end':<20} {'worst bps':>10} {'duration':>10}"
            )
            for ep in self.episodes:
                end = _iso(ep.end_ts) if ep.end_ts else "ongoing"
                lines.append(
                    f"    {ep.symbol:<8} {ep.peg:<5} {_iso(ep.start_ts):<20} {end:<20} "
                    f"{ep.worst_bps:>10.1f} {_duration(ep.duration_s):>10}"
                )
        if self.moves:
            lines.append(f"  largest moves (top {top_moves})")
            lines.append(f"    {'symbol':<8} {'time':<20} {'horizon':>8} {'change %':>9} {'z':>7}")
            for m in sorted(self.moves, key=lambda m: (-abs(m["change_pct"]), m["ts"], m["symbol"]))[
                :top_moves
            ]:
                z = m.get("zscore")
                lines.append(
                    f"    {m['symbol']:<8} {_iso(m['ts']):<20} {_duration(m['horizon_s']):>8} "
                    f"{m['change_pct']:>+9.2f} {'' if z is None else f'{z:.1f}':>7}"
                )
        return "\n".join(lines)


def _iso(ts: int | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts / 1000))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m"
