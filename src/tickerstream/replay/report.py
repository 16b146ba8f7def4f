"""A self-contained HTML backtest report: price charts with move markers, peg deviation with its
warn/critical bands and episodes shaded, and the replay summary — one file, no JavaScript, no
network: charts are inline SVG, so the report opens anywhere and can be attached to a ticket.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.engine import EngineConfig, TickBatch
from tickerstream.engine.registry import PegSpec, load_registry
from tickerstream.events import Event
from tickerstream.replay.summary import ReplaySummary

#: Points drawn per series at most; longer series are decimated keeping each bucket's min and max.
MAX_POINTS = 1500
PRICE_CHARTS = 8
PEG_CHARTS = 8

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(slots=True)
class ReportCollector:
    """Keeps what the report needs while a replay runs: the tick columns and the events."""

    symbols: list[str] = field(default_factory=list)
    ts: list[I64] = field(default_factory=list)
    price: list[F64] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add_batch(self, batch: TickBatch) -> None:
        self.symbols.extend(batch.symbols)
        self.ts.append(batch.ts)
        self.price.append(batch.price)

    def add_events(self, events: Sequence[Event]) -> None:
        self.events.extend(e.to_dict() for e in events)

    def series(self) -> dict[str, tuple[I64, F64]]:
        """Per-symbol (ts, price), in event-time order."""
        if not self.symbols:
            return {}
        codes_of: dict[str, int] = {}
        codes = np.fromiter((codes_of.setdefault(s, len(codes_of)) for s in self.symbols), dtype=np.int64)
        ts, price = np.concatenate(self.ts), np.concatenate(self.price)
        order = np.lexsort((ts, codes))
        codes, ts, price = codes[order], ts[order], price[order]
        bounds = np.searchsorted(codes, np.arange(len(codes_of) + 1))
        return {
            sym: (ts[bounds[c] : bounds[c + 1]], price[bounds[c] : bounds[c + 1]])
            for sym, c in codes_of.items()
        }


def write_report(
    out_dir: Path, collector: ReportCollector, summary: ReplaySummary, config: EngineConfig
) -> Path:
    """Write ``index.html`` into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    series = collector.series()
    registry = load_registry(config.pegs) if config.pegs.enabled else {}
    moves_by_symbol: dict[str, list[dict[str, Any]]] = {}
    for e in collector.events:
        if e["type"] == "move":
            moves_by_symbol.setdefault(e["symbol"], []).append(e)
    price_symbols = sorted(moves_by_symbol, key=lambda s: (-len(moves_by_symbol[s]), s))[:PRICE_CHARTS]
    for anchor in ("BTC", "ETH"):
        if anchor in series and anchor not in price_symbols:
            price_symbols.insert(0, anchor)
    episode_symbols = [ep.symbol for ep in summary.episodes]
    pegged = [s for s in series if s in registry]
    peg_symbols = sorted(pegged, key=lambda s: (s not in episode_symbols, s))[:PEG_CHARTS]

    sections = [_price_chart(sym, *series[sym], moves_by_symbol.get(sym, [])) for sym in price_symbols]
    peg_sections = [_peg_chart(sym, registry[sym], series, summary, config) for sym in peg_symbols]
    page = _PAGE.format(
        title="tickerstream backtest report",
        summary=html.escape(summary.render()),
        prices="\n".join(sections) or "<p>No price series.</p>",
        pegs="\n".join(s for s in peg_sections if s) or "<p>No pegged assets in the input.</p>",
        episodes=_episode_table(summary),
    )
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _price_chart(symbol: str, ts: I64, price: F64, moves: list[dict[str, Any]]) -> str:
    markers = [
        (m["ts"], m["to_price"], f"{m['change_pct']:+.2f}% over {m['horizon_s'] // 3600}h", m["direction"])
        for m in moves
    ]
    chart = _svg_chart(ts, price, markers=markers, y_label="price")
    return (
        f"<figure><figcaption>{html.escape(symbol)} price, {len(moves)} move(s)</figcaption>{chart}</figure>"
    )


def _peg_chart(
    symbol: str,
    spec: PegSpec,
    series: dict[str, tuple[I64, F64]],
    summary: ReplaySummary,
    config: EngineConfig,
) -> str:
    ts, price = series[symbol]
    if spec.reference is None:
        target = np.full(len(price), spec.ratio)
    else:
        if spec.reference not in series:
            return ""
        ref_ts, ref_price = series[spec.reference]
        idx = np.searchsorted(ref_ts, ts, side="right") - 1
        ok = idx >= 0
        ts, price, idx = ts[ok], price[ok], idx[ok]
        target = ref_price[idx] * spec.ratio
    bps = (price / target - 1.0) * 10_000
    shaded = [
        (ep.start_ts, ep.end_ts if ep.end_ts is not None else int(ts[-1]) if len(ts) else ep.start_ts)
        for ep in summary.episodes
        if ep.symbol == symbol
    ]
    bands = [(spec.warn_bps, "warn"), (spec.critical_bps, "critical")]
    chart = _svg_chart(ts, bps, bands=bands, shaded=shaded, y_label="bps")
    return (
        f"<figure><figcaption>{html.escape(symbol)} deviation from {html.escape(spec.peg)} peg (bps); "
        f"warn ±{spec.warn_bps:g}, critical ±{spec.critical_bps:g}</figcaption>{chart}</figure>"
    )


def _episode_table(summary: ReplaySummary) -> str:
    if not summary.episodes:
        return "<p>No peg episodes.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(ep.symbol)}</td><td>{html.escape(ep.peg)}</td><td>{_iso(ep.start_ts)}</td>"
        f"<td>{_iso(ep.end_ts) if ep.end_ts else 'ongoing'}</td><td>{ep.worst_bps:.1f}</td>"
        f"<td>{'' if ep.duration_s is None else f'{ep.duration_s / 3600:.1f} h'}</td></tr>"
        for ep in summary.episodes
    )
    return (
        "<table><thead><tr><th>symbol</th><th>peg</th><th>start</th><th>end</th><th>worst bps</th>"
        f"<th>duration</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _iso(ts: int | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts / 1000))


def decimate(x: I64, y: F64, max_points: int = MAX_POINTS) -> tuple[I64, F64]:
    """At most ``max_points`` points, keeping each bucket's min and max so spikes stay visible."""
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep: list[int] = []
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        if hi > lo:
            seg = y[lo:hi]
            a, b = lo + int(np.argmin(seg)), lo + int(np.argmax(seg))
            keep.extend(sorted({a, b}))
    idx = np.asarray(keep, dtype=np.int64)
    return x[idx], y[idx]


_W, _H, _PAD_L, _PAD_R, _PAD_T, _PAD_B = 900, 260, 70, 20, 12, 28


def _svg_chart(
    ts: I64,
    y: F64,
    *,
    markers: Sequence[tuple[int, float, str, str]] = (),
    bands: Sequence[tuple[float, str]] = (),
    shaded: Sequence[tuple[int, int]] = (),
    y_label: str = "",
) -> str:
    if len(ts) == 0:
        return "<p>no data</p>"
    x, yv = decimate(ts, y)
    lo_y, hi_y = float(np.min(yv)), float(np.max(yv))
    for level, _ in bands:  # keep bands visible when the series is calm
        lo_y, hi_y = min(lo_y, -level * 1.2), max(hi_y, level * 1.2)
    if hi_y == lo_y:
        hi_y, lo_y = hi_y + 1, lo_y - 1
    x0, x1 = int(ts[0]), int(ts[-1]) if ts[-1] > ts[0] else int(ts[0]) + 1

    def px(t: float) -> float:
        return _PAD_L + (t - x0) / (x1 - x0) * (_W - _PAD_L - _PAD_R)

    def py(v: float) -> float:
        return _PAD_T + (hi_y - v) / (hi_y - lo_y) * (_H - _PAD_T - _PAD_B)

    parts = [
        f'<svg viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{html.escape(y_label)} chart">'
    ]
    for a, b in shaded:
        parts.append(
            f'<rect class="episode" x="{px(a):.1f}" y="{_PAD_T}" width="{max(px(b) - px(a), 1):.1f}" '
            f'height="{_H - _PAD_T - _PAD_B}"><title>peg episode</title></rect>'
        )
    for level, kind in bands:
        for sign in (1, -1):
            parts.append(
                f'<line class="band {kind}" x1="{_PAD_L}" x2="{_W - _PAD_R}" '
                f'y1="{py(sign * level):.1f}" y2="{py(sign * level):.1f}"><title>{kind} '
                f"{sign * level:+g} bps</title></line>"
            )
    points = " ".join(
        f"{px(float(t)):.1f},{py(float(v)):.1f}" for t, v in zip(x.tolist(), yv.tolist(), strict=True)
    )
    parts.append(f'<polyline class="series" points="{points}"/>')
    for t, v, label, direction in markers:
        parts.append(
            f'<circle class="move {direction}" cx="{px(t):.1f}" cy="{py(v):.1f}" r="4">'
            f"<title>{html.escape(label)}</title></circle>"
        )
    for v in (lo_y, (lo_y + hi_y) / 2, hi_y):
        parts.append(
            f'<text class="axis" x="{_PAD_L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        )
    for t, anchor in ((x0, "start"), ((x0 + x1) // 2, "middle"), (x1, "end")):
        parts.append(
            f'<text class="axis" x="{px(t):.1f}" y="{_H - 8}" text-anchor="{anchor}">{_iso(t)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(v: float) -> str:
    a = abs(v)
    return f"{v:,.0f}" if a >= 1000 else f"{v:,.2f}" if a >= 1 else f"{v:.6g}"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
pre {{ background: #f6f6f6; padding: 12px; overflow-x: auto; }}
figure {{ margin: 12px 0; }} figcaption {{ font-weight: 600; margin-bottom: 4px; }}
svg {{ background: #fff; border: 1px solid #ddd; max-width: 100%; height: auto; }}
.series {{ fill: none; stroke: #1f77b4; stroke-width: 1.2; }}
.move.up {{ fill: #2ca02c; }} .move.down {{ fill: #d62728; }}
.band {{ stroke-dasharray: 6 4; stroke-width: 1; }}
.band.warn {{ stroke: #ff9f1c; }} .band.critical {{ stroke: #d62728; }}
.episode {{ fill: #d62728; opacity: 0.12; }}
.axis {{ font-size: 11px; fill: #666; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; }}
</style></head>
<body>
<h1>{title}</h1>
<p>Charts: inline SVG; hover the markers for details. The same input and config give this same file.</p>
<h2>Summary</h2>
<pre>{summary}</pre>
<h2>Peg episodes</h2>
{episodes}
<h2>Peg deviation</h2>
{pegs}
<h2>Prices and moves</h2>
{prices}
</body></html>
"""
