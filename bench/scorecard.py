"""Move-alert scorecard: labelled scenarios with ground truth, scored like a risk desk reads alerts.

    PYTHONPATH=src python bench/scorecard.py            # the table in docs/benchmarks.md
    PYTHONPATH=src python bench/scorecard.py --quick    # fewer symbols (a smoke run)

Every scenario draws *true* price paths (GBM at a daily volatility, plus Poisson jumps of 8-30 %),
samples them at a cadence (1 s, 1 min, 5 min, 1 h; jittered except at 1 s, with outages of
1-12 h), and renders each price through the seed widget's display rounding (cents from $1, six
decimals below: quantum 0.01 or 1e-6, carried on the tick as a page would). Symbols are spread
over price levels from 1.85e-5 (SHIB-like) to 60,000. The engine runs with its default settings.

Scores, per cadence:
- **rounding false moves**: threshold-triggered alerts whose *true* change over [from_ts, ts] is
  below the threshold (display rounding taken for a move). Target 0.
- **recall**: true moves that rounding cannot hide (true |change over h| >= threshold + the two
  endpoints' quantum, i.e. ``thr + 100 * q / price``) that got an alert for that symbol and horizon
  within the move (from h before its first tick to its last). Target >= 0.99.
- **false alerts / symbol-day**: alerts whose true change is below the threshold *and* whose true
  z (true log change over true sigma * sqrt(elapsed)) is below 4: neither measure justified them.
- **z calibration**: no-jump GBM, thresholds disabled, ``zscore_k = 4``: alerts per symbol-day
  (each is a |z| >= 4 episode). A calibrated z gives about (86400 / h) * P(|N| > 4) = 0.0015 a day
  for h = 1 h; a z inflated by rounding or per-tick units gives far more.
- **-20 % day**: a calm GBM at 3 %/day, then a day sliding -20 % (or a sudden -20 % jump): the
  z carried by the first 24 h alert with the 24 h threshold at 20 % (the full day) and at the
  default 10 % (reported half-way, where z is that of a -10 % day).

Deterministic (seeded); small enough to run in a few minutes on a laptop.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from tickerstream.config import load_settings
from tickerstream.engine import Engine, EngineConfig, TickBatch
from tickerstream.events import Move

DAY_MS = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01
LEVELS = (1.85e-5, 0.0042, 0.41, 1.7, 23.0, 310.0, 3_200.0, 60_000.0)
CADENCES = {"1 s": 1, "1 min": 60, "5 min": 300, "1 h": 3600}


@dataclass
class Paths:
    symbols: list[str]
    ts: list[np.ndarray]  # per series: tick times (ms)
    true: list[np.ndarray]  # per series: true prices at those times
    sigma_day: float
    #: Per series, its coin id and quote currency (None: ticks carry none, one quote).
    coins: list[str | None] | None = None
    quotes: list[str | None] | None = None

    def key(self, i: int) -> tuple[str, str | None, str | None]:
        return (
            self.symbols[i],
            None if self.coins is None else self.coins[i],
            None if self.quotes is None else self.quotes[i],
        )


def widget(price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shown price and its quantum: the seed widget shows cents from $1 and six decimals below."""
    q = np.where(price >= 1.0, 0.01, 1e-6)
    shown = np.where(price >= 1.0, np.round(price, 2), np.round(price, 6))
    return np.maximum(shown, q), q


def draw(
    rng: np.random.Generator,
    n_sym: int,
    days: float,
    cadence_s: int,
    sigma_day: float,
    jumps_per_day: float,
    outages: bool,
) -> Paths:
    symbols, all_ts, all_true = [], [], []
    for k in range(n_sym):
        n = int(days * 86_400 / cadence_s)
        gaps = np.full(n, cadence_s * 1000.0)
        if cadence_s > 1:
            gaps = np.maximum(rng.exponential(cadence_s * 1000.0, n), 1000.0)
        ts = T0 + np.cumsum(gaps).astype(np.int64)
        ts = ts[ts < T0 + days * DAY_MS]
        if outages:  # one or two outages of 1-12 h per symbol
            for _ in range(int(rng.integers(1, 3))):
                start = T0 + int(rng.uniform(1.2, days - 0.6) * DAY_MS)
                ts = ts[(ts < start) | (ts >= start + int(rng.uniform(1, 12) * 3_600_000))]
        dt_day = np.diff(ts, prepend=T0) / DAY_MS
        steps = rng.normal(0.0, 1.0, ts.size) * sigma_day * np.sqrt(dt_day)
        n_jumps = rng.poisson(jumps_per_day * days)
        for t_jump in rng.uniform(1.1, days, n_jumps):
            size = rng.uniform(0.08, 0.30) * rng.choice([-1.0, 1.0])
            at = int(np.searchsorted(ts, T0 + t_jump * DAY_MS))
            if at < ts.size:
                steps[at] += math.log1p(size)
        level = LEVELS[k % len(LEVELS)] * math.exp(rng.uniform(-0.1, 0.1))
        symbols.append(f"S{k:03d}")
        all_ts.append(ts)
        all_true.append(level * np.exp(np.cumsum(steps)))
    return Paths(symbols, all_ts, all_true, sigma_day)


def run_engine(paths: Paths, *overrides: str) -> tuple[Engine, list[Move]]:
    """Feed the rendered ticks of all symbols in time order, in batches of 50,000."""
    sym = np.concatenate([np.full(t.size, i) for i, t in enumerate(paths.ts)])
    ts = np.concatenate(paths.ts)
    shown, q = widget(np.concatenate(paths.true))
    order = np.argsort(ts, kind="stable")
    series = sym[order].tolist()
    names = [paths.symbols[i] for i in series]
    quotes = None if paths.quotes is None else [paths.quotes[i] for i in series]
    coins = None if paths.coins is None else [paths.coins[i] for i in series]
    batch = TickBatch.from_arrays(names, ts[order], shown[order], q[order], currency=quotes, coin_ids=coins)
    engine = Engine(load_settings(EngineConfig, None, {}, overrides))
    moves: list[Move] = []
    for lo in range(0, len(batch), 50_000):
        moves += [e for e in engine.process(batch.slice(lo, lo + 50_000)) if isinstance(e, Move)]
    return engine, moves


def true_at(paths: Paths, i: int, t: int) -> float:
    k = int(np.searchsorted(paths.ts[i], t, side="right")) - 1
    return float(paths.true[i][max(k, 0)])


def score(paths: Paths, engine: Engine, moves: list[Move], days: float) -> dict[str, float]:
    cfg = engine.config.moves
    index = {paths.key(i): i for i in range(len(paths.symbols))}

    def key(m: Move) -> tuple[str, str | None, str | None]:
        return (
            m.symbol,
            None if paths.coins is None else m.coin_id,
            None if paths.quotes is None else m.currency,
        )

    rounding_false = false_alerts = 0
    for m in moves:
        i = index[key(m)]
        a, b = true_at(paths, i, m.from_ts), true_at(paths, i, m.ts)
        change = abs(b / a - 1.0) * 100.0
        thr = cfg.threshold_pct[cfg.horizons_s.index(m.horizon_s)]
        z = abs(math.log(b / a)) / (paths.sigma_day * math.sqrt((m.ts - m.from_ts) / DAY_MS))
        if m.trigger != "zscore" and change < thr:
            rounding_false += 1
        if change < thr and z < 4.0:
            false_alerts += 1
    hits = total = 0
    by_key: dict[tuple[object, int], np.ndarray] = {}
    for m in moves:
        by_key.setdefault((key(m), m.horizon_s), np.empty(0, np.int64))
        by_key[(key(m), m.horizon_s)] = np.append(by_key[(key(m), m.horizon_s)], m.ts)
    for i in range(len(paths.symbols)):
        s = paths.key(i)
        ts, px = paths.ts[i], paths.true[i]
        q_rel = np.where(px >= 1.0, 0.01, 1e-6) / px
        for h_s, thr in zip(cfg.horizons_s, cfg.threshold_pct, strict=True):
            k = np.searchsorted(ts, ts - h_s * 1000, side="right") - 1
            ok = (k >= 0) & (ts[np.maximum(k, 0)] >= ts - int(h_s * 1000 * (1 + cfg.anchor_slack)))
            change = np.where(ok, (px / px[np.maximum(k, 0)] - 1.0) * 100.0, 0.0)
            big = np.abs(change) >= thr + 100.0 * 2 * q_rel
            # episodes: runs of consecutive "big" ticks
            edges = np.flatnonzero(np.diff(np.concatenate([[0], big.astype(np.int8), [0]])))
            fired = by_key.get((s, h_s), np.empty(0, np.int64))
            for lo, hi in zip(edges[::2], edges[1::2], strict=True):
                total += 1
                t_lo, t_hi = ts[lo] - h_s * 1000, ts[hi - 1]
                hits += bool(((fired >= t_lo) & (fired <= t_hi)).any())
    n_sym = len(paths.symbols)
    return {
        "rounding_false": rounding_false,
        "recall": hits / total if total else float("nan"),
        "true_moves": total,
        "false_per_symbol_day": false_alerts / (n_sym * days),
        "alerts": len(moves),
    }


def mixed(paths: Paths, rng: np.random.Generator) -> Paths:
    """The same series as a mixed stream: pairs of coins share one ticker (told apart by coin id, at
    price levels up to 1000x apart), and every third coin is also quoted in EUR (its USD path times
    a EUR/USD rate with 0.5 %/day of its own noise). Keyed by symbol alone, any of them would read
    as a huge move."""
    symbols, coins, quotes, ts, true = [], [], [], [], []
    for k, (t, px) in enumerate(zip(paths.ts, paths.true, strict=True)):
        ticker = paths.symbols[k - k % 2]  # S000 and S001 are both "S000"
        symbols.append(ticker)
        coins.append(f"coin-{k:03d}")
        quotes.append("USD")
        ts.append(t)
        true.append(px)
        if k % 3 == 0:
            fx = 0.92 * np.exp(np.cumsum(rng.normal(0.0, 0.005 * np.sqrt(np.diff(t, prepend=t[0]) / DAY_MS))))
            symbols.append(ticker)
            coins.append(f"coin-{k:03d}")
            quotes.append("EUR")
            ts.append(t)
            true.append(px * fx)
    return Paths(symbols, ts, true, paths.sigma_day, coins, quotes)


def crash_z(cadence_s: int, slide: bool, thr_day: float, seed: int) -> float | None:
    """z of the first 24 h alert of a -20 % day after 3 calm days at 3 %/day (None: no alert)."""
    rng = np.random.default_rng(seed)
    n_calm, n_day = int(3 * 86_400 / cadence_s), int(86_400 / cadence_s)
    steps = rng.normal(0.0, 0.03 * math.sqrt(cadence_s / 86_400), n_calm + n_day + n_day // 2)
    if slide:
        steps[n_calm : n_calm + n_day] += math.log(0.8) / n_day
    else:
        steps[n_calm] += math.log(0.8)
    ts = T0 + np.arange(steps.size, dtype=np.int64) * cadence_s * 1000
    paths = Paths(["A"], [ts], [100.0 * np.exp(np.cumsum(steps))], 0.03)
    _, moves = run_engine(paths, f"moves.threshold_pct=[5.0, {thr_day}]")
    day = [m for m in moves if m.horizon_s == 86_400 and m.ts >= ts[n_calm]]
    return day[0].zscore if day else None


def deepened_z(cadence_s: int, seed: int) -> float | None:
    """At the default 10 % threshold, the z of the -20 % slide's ``deepened`` 24 h event (None: none)."""
    rng = np.random.default_rng(seed)
    n_calm, n_day = int(3 * 86_400 / cadence_s), int(86_400 / cadence_s)
    steps = rng.normal(0.0, 0.03 * math.sqrt(cadence_s / 86_400), n_calm + n_day + n_day // 2)
    steps[n_calm : n_calm + n_day] += math.log(0.8) / n_day
    ts = T0 + np.arange(steps.size, dtype=np.int64) * cadence_s * 1000
    _, moves = run_engine(Paths(["A"], [ts], [100.0 * np.exp(np.cumsum(steps))], 0.03))
    deeper = [m for m in moves if m.horizon_s == 86_400 and m.kind == "deepened" and m.ts >= ts[n_calm]]
    return deeper[0].zscore if deeper else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer symbols and days (smoke run)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    scale = 0.25 if a.quick else 1.0
    # (symbols, days) per cadence: about a million ticks at 1 s, more symbol-days at slow cadences.
    sizes = {"1 s": (4, 3.0), "1 min": (40, 6.0), "5 min": (80, 10.0), "1 h": (400, 30.0)}
    print(
        "| cadence | symbol-days | ticks | rounding false moves | recall (true moves) "
        "| false alerts / symbol-day | z calib.: |z|>=4 per symbol-day (GBM) "
        "| -20 % day z (slide, 20 %) | slide, 10 %: new -> deepened | jump |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, cadence in CADENCES.items():
        n_sym, days = sizes[name]
        n_sym = max(2, int(n_sym * scale))
        rng = np.random.default_rng([a.seed, cadence])
        paths = draw(rng, n_sym, days, cadence, 0.03, 0.3, outages=True)
        engine, moves = run_engine(paths)
        s = score(paths, engine, moves, days - 1)
        calm = draw(np.random.default_rng([a.seed, cadence, 1]), n_sym, days, cadence, 0.03, 0.0, False)
        _, zmoves = run_engine(calm, "moves.threshold_pct=[1000.0, 1000.0]", "moves.zscore_k=4")
        z_rate = len(zmoves) / (n_sym * (days - 1))
        zs = [crash_z(cadence, True, 20.0, a.seed), crash_z(cadence, True, 10.0, a.seed)]
        zs += [deepened_z(cadence, a.seed), crash_z(cadence, False, 10.0, a.seed)]
        z_txt = ["none" if z is None else f"{z:.1f}" for z in zs]
        ticks = sum(t.size for t in paths.ts)
        print(
            f"| {name} | {n_sym * (days - 1):.0f} | {ticks:,} | {s['rounding_false']} | "
            f"{s['recall']:.3f} ({s['true_moves']}) | {s['false_per_symbol_day']:.4f} | {z_rate:.4f} | "
            f"{z_txt[0]} | {z_txt[1]} -> {z_txt[2]} | {z_txt[3]} |",
            flush=True,
        )
    # Mixed stream: shared tickers and a second quote currency, at 1 min and 1 h.
    print()
    print("| mixed stream | series (symbols) | ticks | rounding false moves | recall (true moves) "
          "| false alerts / series-day | ambiguous ticks |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name in ("1 min", "1 h"):
        cadence = CADENCES[name]
        n_sym, days = sizes[name]
        n_sym = max(4, int(n_sym * scale))
        rng = np.random.default_rng([a.seed, cadence, 2])
        paths = mixed(draw(rng, n_sym, days, cadence, 0.03, 0.3, outages=True), rng)
        engine, moves = run_engine(paths)
        s = score(paths, engine, moves, days - 1)
        n_series = len(paths.symbols)
        print(
            f"| {name} | {n_series} ({len(set(paths.symbols))}) | {sum(t.size for t in paths.ts):,} | "
            f"{s['rounding_false']} | {s['recall']:.3f} ({s['true_moves']}) | "
            f"{s['false_per_symbol_day']:.4f} | {engine.stats.ambiguous_series} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
