"""Steady-state engine throughput of the tree on ``PYTHONPATH``, for alternated A/B comparisons.

    for i in 1 2 3 4 5; do
        PYTHONPATH=/tmp/base/src python bench/engine_steady.py base
        PYTHONPATH=src python bench/engine_steady.py new
    done

``bench_engine.py``'s stream (1,000 symbols, 500,000 ticks); the first batch of 100,000 registers
every symbol and is not timed; the other 400,000 ticks are, in batches of 100,000, five times with
a fresh engine each. Prints the best and the median of the five. On a shared machine compare the
two trees run by run (the ratio of each pair), not one run against another session's.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import make_stream
from tickerstream.engine import Engine


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "engine"
    stream = make_stream(1000, 500_000, seed=0)
    rates = []
    for _ in range(5):
        engine = Engine()
        engine.process(stream.slice(0, 100_000))
        t0 = time.perf_counter()
        for lo in range(100_000, 500_000, 100_000):
            engine.process(stream.slice(lo, lo + 100_000))
        rates.append(400_000 / (time.perf_counter() - t0))
    rates.sort()
    print(f"{label}: best {rates[-1]:,.0f} ticks/s, median {rates[2]:,.0f} ticks/s")


if __name__ == "__main__":
    main()
