"""Seeded generator of realistic ticker data for demos, tests and benchmarks.

Prices follow correlated random walks at irregular snapshot times (minutes to hours apart),
USD stablecoins wobble a few basis points around 1.0, wrapped/staked assets track their
reference, and two scripted episodes give the engine something to find:

* a market crash: every non-stable asset falls ~18 % within an hour at ``crash_at`` of the run;
* a USDC-style depeg: USDC slides to about 0.88 over six hours at ``depeg_at`` of the run,
  lingers, and recovers to 1.0 over about a day and a half (as USDC did in March 2023).

Output is either page text in the seed widget's format (one file per snapshot, named with its
ISO timestamp so ``ticker-parse`` picks up the event time) or JSON Lines of ticks.
The same seed always gives the same bytes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from tickerstream.model import Tick

_YEAR_S = 365.25 * 86400
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Asset:
    symbol: str
    name: str
    slug: str
    price: float
    vol: float
    kind: str  # "coin" | "usd_stable" | "tracks"
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """What to generate. Defaults make the small sample bundled with the package."""

    seed: int = 42
    start: str = "2025-01-20T00:00:00Z"
    days: float = 4.0
    #: Mean gap between snapshots; actual gaps are random (exponential, 1 min .. 6 h).
    interval_s: float = 1800.0
    #: Synthetic extra coins (SYN00001 ...) for large benchmarks.
    extra_symbols: int = 0
    crash_at: float = 0.15
    depeg_at: float = 0.30


@dataclass(frozen=True, slots=True)
class Snapshot:
    ts: int
    symbols: list[str]
    prices: np.ndarray
    change_pct: np.ndarray


def load_assets() -> list[Asset]:
    text = resources.files("tickerstream.data").joinpath("assets.toml").read_text(encoding="utf-8")
    return [Asset(**row) for row in tomllib.loads(text)["asset"]]


def generate(spec: SampleSpec) -> Iterator[Snapshot]:
    """Yield snapshots in event-time order."""
    rng = np.random.default_rng(spec.seed)
    assets = load_assets() + [
        Asset(
            f"SYN{i:05d}",
            f"Synthetic {i}",
            f"synthetic-{i}",
            float(rng.uniform(0.01, 500.0)),
            float(rng.uniform(0.4, 1.5)),
            "coin",
        )
        for i in range(spec.extra_symbols)
    ]
    times_ms = _snapshot_times(rng, spec)
    n_t, n_a = len(times_ms), len(assets)
    dt_years = np.diff(times_ms, prepend=times_ms[0]) / 1000.0 / _YEAR_S

    # Correlated log-price random walks: one market factor plus idiosyncratic noise.
    vols = np.array([a.vol for a in assets])
    market = rng.standard_normal(n_t)[:, None] * 0.7
    idio = rng.standard_normal((n_t, n_a)) * np.sqrt(1 - 0.7**2)
    steps = (market + idio) * vols[None, :] * np.sqrt(dt_years)[:, None]
    log_paths = np.cumsum(steps, axis=0) + np.log([a.price for a in assets])[None, :]

    progress = (times_ms - times_ms[0]) / max(1, times_ms[-1] - times_ms[0])
    crash = np.clip((progress - spec.crash_at) * (times_ms[-1] - times_ms[0]) / 3_600_000, 0, 1)
    log_paths += np.log1p(-0.18 * crash)[:, None]
    prices = np.exp(log_paths)

    index = {a.symbol: i for i, a in enumerate(assets)}
    for j, asset in enumerate(assets):
        noise = 1 + rng.normal(0.0, 0.0004, n_t)
        if asset.kind == "usd_stable":
            prices[:, j] = noise
        elif asset.kind == "tracks" and asset.ref is not None:
            prices[:, j] = prices[:, index[asset.ref]] * asset.price * noise
    if "USDC" in index:
        prices[:, index["USDC"]] *= _depeg_curve(times_ms, spec)

    prices = np.array([[_widget_round(p) for p in row] for row in prices])
    changes = _change_24h(rng, times_ms, prices)
    symbols = [a.symbol for a in assets]
    for t in range(n_t):
        yield Snapshot(int(times_ms[t]), symbols, prices[t], changes[t])


def _snapshot_times(rng: np.random.Generator, spec: SampleSpec) -> np.ndarray:
    start = int(datetime.fromisoformat(spec.start.replace("Z", "+00:00")).timestamp() * 1000)
    end = start + int(spec.days * _DAY_MS)
    n = int(spec.days * 86400 / spec.interval_s * 1.5) + 2
    gaps = np.clip(rng.exponential(spec.interval_s, n), 60, 6 * 3600)
    times = start + np.cumsum(np.round(gaps).astype(np.int64) * 1000)
    return np.concatenate([[start], times[times < end]])


def _depeg_curve(times_ms: np.ndarray, spec: SampleSpec) -> np.ndarray:
    """Multiplier for USDC: 1 -> 0.88 in 6 h, ~0.88-0.90 for 18 h, back to 1 over 36 h."""
    t0 = times_ms[0] + spec.depeg_at * (times_ms[-1] - times_ms[0])
    hours = (times_ms - t0) / 3_600_000
    curve: np.ndarray = np.interp(hours, [0, 6, 24, 60], [1.0, 0.88, 0.90, 1.0])
    return curve


def _widget_round(price: float) -> float:
    """The seed widget shows cents above $1 and six decimals below (``widget_quantum``)."""
    return round(price, 2) if price >= 1 else round(price, 6)


def widget_quantum(price: float) -> float:
    """The step the seed widget shows ``price`` with: 0.01 at $1 and above, 1e-6 below."""
    return 0.01 if price >= 1 else 1e-6


def _change_24h(rng: np.random.Generator, times_ms: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """24 h change per snapshot; before a day of history, pretend a small random change."""
    back = np.searchsorted(times_ms, times_ms - _DAY_MS, side="left")
    base = prices[back]
    change = (prices / base - 1) * 100
    early = (times_ms - times_ms[0]) < _DAY_MS
    change[early] = rng.normal(0, 2.5, (int(early.sum()), prices.shape[1]))
    rounded: np.ndarray = np.round(change, 2)
    return rounded


# ---- rendering ----------------------------------------------------------------------------------

_PROSE = (
    "Markets opened mixed as traders weighed the latest inflation data.",
    "Bitcoin hit $100,000 on Monday before paring gains, analysts said.",
    "Total crypto Market Cap: $3.41T, 24h Vol: $152.3B",
    "Home | Markets | Prices | News | Research | Newsletters",
    "S&P 500 5,123.45 +0.5%   Nasdaq 16,274.94 +0.3%",
    "Subscribe to our newsletter for $4.99 a month.",
    "Related Articles",
    "Back to top button",
)


def format_price(price: float) -> str:
    """As the seed widget prints it: fixed decimals (``1.00``, ``0.410000``), so the digits shown
    are the quantum the JSON Lines form of the same tick carries."""
    return f"{price:,.2f}" if price >= 1 else f"{price:.6f}"


def render_page(snap: Snapshot, assets: dict[str, Asset], rng: np.random.Generator) -> str:
    """Page text: some prose, then the widget (slug line + ``Name (SYM) $ price pct%``)."""
    lines = [str(rng.choice(_PROSE)) for _ in range(3)] + [""]
    for sym, price, change in zip(snap.symbols, snap.prices, snap.change_pct, strict=True):
        asset = assets[sym]
        lines.append(asset.slug)
        lines.append(f"{asset.name} ({sym}) $ {format_price(float(price))} {abs(float(change)):.2f}%")
    lines.append(str(rng.choice(_PROSE)))
    return "\n".join(lines) + "\n"


def snapshot_ticks(snap: Snapshot, assets: dict[str, Asset], source: str) -> list[Tick]:
    return [
        Tick(
            sym,
            assets[sym].name,
            assets[sym].slug,
            float(price),
            "USD",
            float(change),
            True,
            snap.ts,
            source,
            widget_quantum(float(price)),
        )
        for sym, price, change in zip(snap.symbols, snap.prices, snap.change_pct, strict=True)
    ]


def page_file_name(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("snap-%Y-%m-%dT%H-%M-%SZ.txt")


def write_pages(spec: SampleSpec, out_dir: Path) -> int:
    """Write one page file per snapshot into ``out_dir``; returns the number of files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed + 1)
    assets = _asset_map(spec)
    count = 0
    for snap in generate(spec):
        (out_dir / page_file_name(snap.ts)).write_text(render_page(snap, assets, rng), encoding="utf-8")
        count += 1
    return count


def write_jsonl(spec: SampleSpec, out_file: Path, source: str = "sample") -> int:
    """Write all ticks as JSON Lines (the replay format); returns the number of ticks."""
    assets = _asset_map(spec)
    count = 0
    with out_file.open("wb") as fh:
        for snap in generate(spec):
            ticks = snapshot_ticks(snap, assets, source)
            fh.write(b"".join(t.to_json() + b"\n" for t in ticks))
            count += len(ticks)
    return count


def _asset_map(spec: SampleSpec) -> dict[str, Asset]:
    assets = {a.symbol: a for a in load_assets()}
    for i in range(spec.extra_symbols):
        assets[f"SYN{i:05d}"] = Asset(f"SYN{i:05d}", f"Synthetic {i}", f"synthetic-{i}", 1.0, 1.0, "coin")
    return assets
