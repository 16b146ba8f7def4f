"""The harness's table (medians and same-run ratios) and chart."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    system: str
    ticks_per_s: float
    seconds: float
    cpu_s: float
    rss_mb: float


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def table(results: list[list[Result]], names: list[str]) -> list[str]:
    """Medians per system, and ratios taken within each round (same machine state), then their median.

    A same-round ratio cancels most of what the shared machine does to a round; comparing medians of
    different rounds would not."""
    col = {n: [row[i] for row in results] for i, n in enumerate(names)}

    def ratio(a: str, b: str, key: str) -> str:
        if a not in col or b not in col:
            return "-"
        rs = [getattr(x, key) / getattr(y, key) for x, y in zip(col[a], col[b], strict=True)]
        return f"{_median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})"

    out = [
        "| system | ticks/s median (range) | drain s | CPU s | CPU us/tick | peak RSS MB "
        "| ticks/s vs ticker-process | ticks/s vs bare | CPU vs bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        rs = col[n]
        tps = [r.ticks_per_s for r in rs]
        ticks = rs[0].ticks_per_s * rs[0].seconds
        cpu = _median([r.cpu_s for r in rs])
        out.append(
            f"| {n} | {_median(tps):,.0f} ({min(tps):,.0f}-{max(tps):,.0f}) "
            f"| {_median([r.seconds for r in rs]):.1f} "
            f"| {cpu:.1f} | {cpu / ticks * 1e6:.1f} | {_median([r.rss_mb for r in rs]):.0f} "
            f"| {ratio(n, 'ticker-process', 'ticks_per_s')} | {ratio(n, 'bare', 'ticks_per_s')} "
            f"| {ratio(n, 'bare', 'cpu_s')} |"
        )
    return out


def chart(results: list[list[Result]], names: list[str], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    panels = (
        ("ticks_per_s", "thousand ticks/s (drain)", 1e3, "k"),
        ("cpu_s", "CPU seconds", 1, ""),
        ("rss_mb", "peak RSS (MB)", 1, ""),
    )
    for ax, (key, title, scale, unit) in zip(axes, panels, strict=True):
        for i in range(len(names)):
            vals = [getattr(row[i], key) / scale for row in results]
            med = _median(vals)
            ax.bar(i, med, color=f"C{i}", alpha=0.8)
            ax.scatter([i] * len(vals), vals, color="black", s=10, zorder=3)
            ax.annotate(f"{med:,.1f}{unit}", (i, med), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
        ax.set_title(title)
    fig.suptitle(f"tickerstream peers: medians (bars) and every run (dots)\n{subtitle}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
