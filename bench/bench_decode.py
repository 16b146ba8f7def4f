"""The Kafka decode path alone: ``decode_tick_values`` on fetch-sized batches of tick JSON values.

The values are what ``TickProducer`` writes (``Tick.to_json``) for bench_process.py's generator
(1,000 symbols), cut into batches of ``--batch`` values (ticker-process's ``max_records``).
Reports ns per tick, median and best of ``--repeat`` passes over all batches. ``--before FILE``
loads another version of ``kafka/codec.py`` (e.g. ``git show REV:src/tickerstream/kafka/codec.py``)
and alternates the two pass by pass in this one process, so that a shared machine's load falls on
both alike; the figure to compare is then the median of the per-pair ratios.

    PYTHONPATH=src .venv/bin/python bench/bench_decode.py --ticks 200000
    git show HEAD~1:src/tickerstream/kafka/codec.py > /tmp/codec_before.py
    PYTHONPATH=src .venv/bin/python bench/bench_decode.py --before /tmp/codec_before.py --repeat 15
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script: its own folder is on sys.path, so the processor benchmark's generator is shared.
from bench_process import sample_ticks
from tickerstream.kafka.codec import decode_tick_values


def load_codec(path: Path) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location("codec_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["codec_before"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.decode_tick_values  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--before", type=Path, help="another codec.py to alternate with")
    args = ap.parse_args()
    values = [t.to_json() for t in sample_ticks(args.ticks, 975)]
    batches = [values[i : i + args.batch] for i in range(0, len(values), args.batch)]
    sides = {"this": decode_tick_values}
    if args.before:
        sides["before"] = load_codec(args.before)
    runs: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(args.repeat):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        for name, decode in order:
            t0 = time.perf_counter()
            for b in batches:
                decode(b)
            runs[name].append((time.perf_counter() - t0) / len(values) * 1e9)
    for name, ns in runs.items():
        print(f"{name:6s} decode_tick_values: median {statistics.median(ns):.0f} ns/tick, best {min(ns):.0f}")
    if args.before:
        ratios = [a / b for a, b in zip(runs["this"], runs["before"], strict=True)]
        print(
            f"this/before per pair: median {statistics.median(ratios):.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
