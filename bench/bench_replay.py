"""ticker-replay end to end on a few million JSON Lines ticks, against a straightforward replay.

    .venv/bin/python bench/bench_replay.py                      # ~3.6M ticks, 425 symbols, 30 days
    .venv/bin/python bench/bench_replay.py --days 5 --runs 1    # quick

Ours: the ``ticker-replay`` command as a user runs it (a subprocess, process start included), timed
from outside: wall time, CPU time (user + sys) and peak RSS of the child. Baseline, same file, same
run: the naive way to write a replay: ``json.loads`` per line, ``tick_from_dict`` per line, and the
per-tick deque engine of ``bench/baseline_engine.py`` (same rules), fed one tick at a time. Both must
print the same events; the script checks it on the first ``--baseline-ticks`` lines.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from baseline_engine import DequeEngine
from tickerstream.engine import EngineConfig, TickBatch
from tickerstream.model import tick_from_dict
from tickerstream.replay.inputs import ReadStats, open_recorded
from tickerstream.replay.runner import run_replay

OUT = Path(__file__).parent / "out"


def data_file(days: float, interval: float, extra: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"replay-{days:g}d-{interval:g}s-{extra}x.jsonl"
    if not path.exists():
        # In a child process: a parent that grew to hold the generated data would be counted in the
        # peak RSS of every replay child it forks afterwards.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tickerstream.cli.sample",
                str(path),
                "--format",
                "jsonl",
                "--days",
                f"{days}",
                "--interval",
                f"{interval}",
                "--extra-symbols",
                str(extra),
            ],
            check=True,
        )
    return path


def time_ours(path: Path) -> tuple[float, float, int]:
    """(wall s, cpu s, peak RSS KB) of one `ticker-replay PATH --out /dev/null` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tickerstream.cli.replay", str(path), "--out", os.devnull],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


def naive_replay(lines: list[bytes]) -> tuple[list[bytes], float]:
    """The straightforward replay: one json.loads, one validation, one engine call per tick."""
    engine = DequeEngine(EngineConfig())
    out: list[bytes] = []
    t0 = time.process_time()
    for line in lines:
        tick = tick_from_dict(json.loads(line))
        batch = TickBatch.from_ticks([tick])
        out.extend(e.to_json() for e in engine.process(batch))
    out.extend(e.to_json() for e in engine.flush())
    return out, time.process_time() - t0


def ours_in_process(path: Path) -> list[bytes]:
    buf = io.BytesIO()
    run_replay(open_recorded([str(path)], ReadStats()), EngineConfig(), buf)
    return buf.getvalue().splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=300.0, help="mean seconds between snapshots")
    parser.add_argument("--extra-symbols", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-ticks", type=int, default=300_000)
    args = parser.parse_args()

    path = data_file(args.days, args.interval, args.extra_symbols)
    with path.open("rb") as fh:
        n_ticks = sum(1 for _ in fh)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}, numpy {np.__version__}, load {os.getloadavg()[0]:.2f}"
    )
    print(f"input: {path.name}, {n_ticks:,} ticks, {path.stat().st_size / 1e6:,.0f} MB")

    runs = [time_ours(path) for _ in range(args.runs)]
    walls = sorted(r[0] for r in runs)
    cpus = sorted(r[1] for r in runs)
    wall, cpu, rss = walls[len(walls) // 2], cpus[len(cpus) // 2], max(r[2] for r in runs)
    print(
        f"ticker-replay: median wall {wall:.2f} s -> {n_ticks / wall:,.0f} ticks/s; "
        f"median cpu {cpu:.2f} s -> {n_ticks / cpu:,.0f} ticks/s per core; peak RSS {rss / 1024:,.0f} MB "
        f"(runs: {', '.join(f'{w:.2f}' for w in walls)} s)"
    )

    with path.open("rb") as fh:
        head = [next(fh) for _ in range(min(args.baseline_ticks, n_ticks))]
    naive_events, naive_cpu = naive_replay(head)
    print(
        f"naive replay: {len(head):,} ticks in {naive_cpu:.2f} s cpu -> "
        f"{len(head) / naive_cpu:,.0f} ticks/s per core"
    )
    print(f"ratio (cpu, ticks/s per core): {(n_ticks / cpu) / (len(head) / naive_cpu):.1f}x")

    head_file = OUT / "replay-head.jsonl"
    head_file.write_bytes(b"".join(head))
    ours = ours_in_process(head_file)
    # Each engine call returns its events sorted; the naive engine is called per tick, so compare sorted.
    assert sorted(ours) == sorted(naive_events), "ours and the naive replay disagree on the events"
    print(f"events agree on the first {len(head):,} ticks ({len(ours):,} events)")


if __name__ == "__main__":
    main()
