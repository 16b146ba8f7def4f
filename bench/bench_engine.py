"""Engine throughput and memory on 1,000 and 10,000 symbols, against a per-tick deque baseline.

    .venv/bin/python bench/bench_engine.py            # both sizes, each in its own process
    .venv/bin/python bench/bench_engine.py --symbols 1000 --ticks 1000000 --baseline-ticks 200000

Data: page snapshots (every symbol at one shared ts, shuffled order, every 3 minutes) with random-walk
prices, including the registry's pegged assets and their references, cut into batches of
``--batch`` ticks. The first batch (which registers every symbol) is a warm-up and is timed apart.
The baseline runs on a prefix of the same stream (it is slow); the engine is re-run on that
prefix and both must emit the same events, so the ratio compares implementations of the same rules.
Peak memory is the process's max RSS (each size runs in a fresh process) and the engine's arrays.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_engine import DequeEngine
from tickerstream.engine import Engine, TickBatch

PEGGED = {
    "USDT": 1.0,
    "USDC": 1.0,
    "DAI": 1.0,
    "USDS": 1.0,
    "USDE": 1.0,
    "FDUSD": 1.0,
    "PYUSD": 1.0,
    "BTC": 100_000.0,
    "WBTC": 100_000.0,
    "CBBTC": 100_000.0,
    "ETH": 3_000.0,
    "WETH": 3_000.0,
    "STETH": 2_995.0,
    "WSTETH": 3_600.0,
}


def make_stream(n_symbols: int, n_ticks: int, seed: int = 0) -> TickBatch:
    rng = np.random.default_rng(seed)
    names = list(PEGGED) + [f"S{i:05d}" for i in range(n_symbols - len(PEGGED))]
    start = np.array([PEGGED.get(s, 0.0) for s in names])
    start[start == 0] = np.exp(rng.uniform(-5, 8, size=int((start == 0).sum())))
    snaps = n_ticks // n_symbols
    vol = np.where(start == 1.0, 0.0005, 0.0015)  # per 3 min: ~3.6 % a day, crypto-like
    steps = rng.normal(0, 1, size=(snaps, n_symbols)) * vol
    steps[rng.random(size=steps.shape) < 0.0005] *= 25  # rare jumps: moves to detect
    level = start * np.exp(np.cumsum(steps, axis=0))
    sym = np.concatenate([rng.permutation(n_symbols) for _ in range(snaps)])
    snap = np.repeat(np.arange(snaps), n_symbols)
    px = level[snap, sym]
    px = np.where(px >= 1, np.round(px, 2), np.round(px, 6))
    px = np.maximum(px, 1e-6)
    ts = 1_700_000_000_000 + snap.astype(np.int64) * 180_000
    # the step the widget shows, carried as the parser does (NaN would make the engine estimate it)
    q = np.where(px >= 1, 0.01, 1e-6)
    return TickBatch([names[i] for i in sym.tolist()], ts, px, q)


def run_engine(stream: TickBatch, batch: int) -> tuple[list[bytes], float, float, Engine]:
    e = Engine()
    out = e.process(stream.slice(0, batch))
    t0 = time.perf_counter()
    for lo in range(batch, len(stream), batch):
        out += e.process(stream.slice(lo, lo + batch))
    dt = time.perf_counter() - t0
    out += e.flush()
    return sorted(ev.to_json() for ev in out), dt, (len(stream) - batch) / dt, e


def child(n_symbols: int, n_ticks: int, n_base: int, batch: int) -> None:
    stream = make_stream(n_symbols, n_ticks)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    events, dt, rate, engine = run_engine(stream, batch)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    w = engine.windows
    arrays = sum(a.nbytes for a in w.arrays())
    arrays += sum(
        a.nbytes for a in (engine.moves.armed, engine.moves.last_fire_ts, engine.moves.anchor_price)
    )
    print(f"symbols={n_symbols} ticks={len(stream)} batch={batch}")
    print(
        f"engine: {rate:,.0f} ticks/s (steady state, {len(stream) - batch:,} ticks in {dt:.3f} s); "
        f"events={len(events)}"
    )
    print(
        f"engine memory: arrays {arrays / 1e6:.1f} MB for {w.rows} rows allocated "
        f"({arrays / w.rows:,.0f} B/row); max RSS {rss0 / 1024:.0f} MB before, {rss1 / 1024:.0f} MB after"
    )
    prefix = stream.slice(0, n_base)
    ref_events, _, _, _ = run_engine(prefix, batch)
    base = DequeEngine()
    t0 = time.perf_counter()
    base_events = base.process(prefix) + base.flush()
    base_rate = n_base / (time.perf_counter() - t0)
    same = sorted(ev.to_json() for ev in base_events) == ref_events
    print(
        f"baseline (deque per symbol, per tick): {base_rate:,.0f} ticks/s on the first {n_base:,} ticks; "
        f"same events as the engine: {same} ({len(ref_events)} events)"
    )
    print(f"ratio engine/baseline: {rate / base_rate:.1f}x")
    if not same:
        sys.exit("baseline and engine disagree")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--symbols", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--ticks", type=int, default=1_000_000)
    ap.add_argument("--baseline-ticks", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.symbols[0], a.ticks, a.baseline_ticks, a.batch)
        return
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: nproc={os.cpu_count()} cpu={cpu} python={platform.python_version()} numpy={np.__version__}"
    )
    for n in a.symbols:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--symbols",
            str(n),
            "--ticks",
            str(a.ticks),
            "--baseline-ticks",
            str(a.baseline_ticks),
            "--batch",
            str(a.batch),
        ]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
