"""Parquet recordings: which library reads them into the engine's ``TickBatch`` fastest, and what a
replay from Parquet costs next to one from JSON Lines and to the engine alone, on the same ticks.

    PYTHONPATH=src .venv/bin/python bench/bench_parquet.py              # ~1M ticks, 1,000 symbols
    PYTHONPATH=src .venv/bin/python bench/bench_parquet.py --days 0.5   # quick

Data: ``ticker-sample --format jsonl`` (25 assets plus ``--extra-symbols``, a snapshot about every
``--interval`` s), written once to ``bench/out``; the Parquet file is made from it by our own writer
(``columnar.ParquetFile``), so it is what ``ticker-produce --archive x.parquet`` writes.

Read to ``TickBatch`` (all rows, batches of ~64k rows, in process, warm file cache), per candidate:

* ``pyarrow``: ours, ``replay/parquet_input.py`` (dictionary-encoded strings, zero-copy numbers, the
  JSON decoder's validation included);
* ``polars``: ``pl.read_parquet`` of the six columns, ``to_list`` / ``to_numpy`` per column, no validation;
* ``fastparquet``: ``ParquetFile.to_pandas`` of the six columns, ``tolist`` / ``to_numpy``, no validation;
* ``jsonl``: our JSON Lines reader (``jsonl_batches``), for scale.

Write (what ``--archive`` costs per acknowledged tick): the JSON records, 10,000 per call as the
producer hands them over, to a Parquet file with ``ParquetFile.write_values``, against appending
them to a JSON Lines file (the previous archive).

Replay end to end (in process, events to memory): ``run_replay`` over ``open_recorded(parquet)``, over
``open_recorded(jsonl)``, and over the batches already in memory (the engine alone). Rounds alternate
the three; CPU time (``time.process_time``) is reported beside wall time because the machine is shared.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tickerstream.columnar import ParquetFile
from tickerstream.engine import EngineConfig, TickBatch
from tickerstream.replay.inputs import ReadStats, jsonl_batches, open_recorded
from tickerstream.replay.parquet_input import parquet_batches
from tickerstream.replay.runner import run_replay

OUT = Path(__file__).parent / "out"
COLUMNS = ["symbol", "ts", "price", "price_quantum", "currency", "coin_id"]


def data_files(days: float, interval: float, extra: int) -> tuple[Path, Path]:
    OUT.mkdir(exist_ok=True)
    jsonl = OUT / f"parquet-{days:g}d-{interval:g}s-{extra}x.jsonl"
    parquet = jsonl.with_suffix(".parquet")
    if not jsonl.exists():
        sample = [sys.executable, "-m", "tickerstream.cli.sample", str(jsonl), "--format", "jsonl"]
        opts = ["--days", f"{days}", "--interval", f"{interval}", "--extra-symbols", str(extra)]
        subprocess.run([*sample, *opts], check=True)
    if not parquet.exists():
        out = ParquetFile(parquet, overwrite=True)
        with jsonl.open("rb") as fh:
            while lines := fh.readlines(8 << 20):
                out.write_values([line.rstrip(b"\n") for line in lines])
        out.close()
    return jsonl, parquet


def read_pyarrow(path: Path) -> Iterator[TickBatch]:
    return parquet_batches(path, ReadStats())


def read_polars(path: Path) -> Iterator[TickBatch]:
    import polars as pl

    df = pl.read_parquet(path, columns=COLUMNS)
    for lo in range(0, df.height, 65_536):
        part = df.slice(lo, 65_536)
        yield TickBatch.from_arrays(
            part["symbol"].to_list(),
            part["ts"].dt.epoch("ms").to_numpy(),
            part["price"].to_numpy(),
            quantum=part["price_quantum"].fill_null(np.nan).to_numpy(),
            currency=part["currency"].to_list(),
            coin_ids=part["coin_id"].to_list(),
        )


def read_fastparquet(path: Path) -> Iterator[TickBatch]:
    import fastparquet

    pf = fastparquet.ParquetFile(str(path))
    for df in pf.iter_row_groups(columns=COLUMNS):
        yield TickBatch.from_arrays(
            df["symbol"].tolist(),
            df["ts"].to_numpy().astype("datetime64[ms]").view(np.int64),
            df["price"].to_numpy(),
            quantum=df["price_quantum"].to_numpy(dtype=np.float64, na_value=np.nan),
            currency=df["currency"].tolist(),
            coin_ids=[None if c is None or c != c else c for c in df["coin_id"].tolist()],
        )


def read_jsonl(path: Path) -> Iterator[TickBatch]:
    return jsonl_batches(path, ReadStats())


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    w0, c0 = time.perf_counter(), time.process_time()
    n = fn()
    return time.perf_counter() - w0, time.process_time() - c0, n


def count(batches: Iterator[TickBatch]) -> int:
    return sum(len(b) for b in batches)


def replay(batches: Iterator[TickBatch]) -> int:
    out = io.BytesIO()
    summary = run_replay(batches, EngineConfig(), out)
    return summary.ticks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=float, default=3.5)
    p.add_argument("--interval", type=float, default=300.0)
    p.add_argument("--extra-symbols", type=int, default=975)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--readers", default="pyarrow,polars,fastparquet,jsonl")
    args = p.parse_args()
    jsonl, parquet = data_files(args.days, args.interval, args.extra_symbols)
    n = count(read_pyarrow(parquet))
    symbols = len({s for b in read_pyarrow(parquet) for s in b.symbols})
    print(
        f"{platform.processor() or platform.machine()}, nproc={os.cpu_count()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{n:,} ticks, {symbols:,} symbols; jsonl {jsonl.stat().st_size / 1e6:.1f} MB, "
        f"parquet {parquet.stat().st_size / 1e6:.1f} MB"
    )
    readers = {
        "pyarrow": read_pyarrow,
        "polars": read_polars,
        "fastparquet": read_fastparquet,
        "jsonl": read_jsonl,
    }
    chosen = args.readers.split(",")
    print("\nread -> TickBatch (median of rounds; CPU s, wall s, ticks/s by CPU)")
    results: dict[str, list[tuple[float, float, int]]] = {k: [] for k in chosen}
    for name in chosen:  # warm-up: imports and the file cache are not what is measured
        count(readers[name](jsonl if name == "jsonl" else parquet))
    for _ in range(args.rounds):
        for name in chosen:
            path = jsonl if name == "jsonl" else parquet
            results[name].append(timed(lambda name=name, path=path: count(readers[name](path))))  # type: ignore[misc]
    base = statistics.median(r[1] for r in results["pyarrow"]) if "pyarrow" in results else None
    for name, runs in results.items():
        cpu = statistics.median(r[1] for r in runs)
        wall = statistics.median(r[0] for r in runs)
        rel = f"  {cpu / base:.2f}x pyarrow's CPU" if base else ""
        rate = f"{n / cpu:>12,.0f}/s"
        print(f"  {name:12s} {runs[0][2]:>9,} ticks  cpu {cpu:6.2f} s  wall {wall:6.2f} s  {rate}{rel}")

    values = [line for line in jsonl.read_bytes().split(b"\n") if line]
    scratch = OUT / "bench-write.parquet"

    def write_parquet() -> int:
        out = ParquetFile(scratch, overwrite=True)
        for i in range(0, len(values), 10_000):
            out.write_values(values[i : i + 10_000])
        out.close()
        return len(values)

    def write_jsonl() -> int:
        with scratch.with_suffix(".jsonl").open("wb") as fh:
            for i in range(0, len(values), 10_000):
                chunk = values[i : i + 10_000]
                chunk.append(b"")
                fh.write(b"\n".join(chunk))
        return len(values)

    print("\nwrite the JSON records, 10,000 per call (median of rounds; CPU s, wall s, ticks/s by CPU)")
    writes: dict[str, list[tuple[float, float, int]]] = {"parquet": [], "jsonl": []}
    for _ in range(args.rounds):
        writes["parquet"].append(timed(write_parquet))
        writes["jsonl"].append(timed(write_jsonl))
    for name, runs in writes.items():
        cpu = statistics.median(r[1] for r in runs)
        wall = statistics.median(r[0] for r in runs)
        per_tick = f"{cpu / n * 1e6:.2f} us/tick"
        print(f"  {name:12s} cpu {cpu:6.2f} s  wall {wall:6.2f} s  {n / cpu:>12,.0f}/s  {per_tick}")
    values.clear()  # the replays below should not share the process with 1 M extra objects

    in_memory = list(read_pyarrow(parquet))
    sides: dict[str, Callable[[], int]] = {
        "engine alone": lambda: replay(iter(in_memory)),
        "from parquet": lambda: replay(open_recorded([str(parquet)], ReadStats())),
        "from jsonl": lambda: replay(open_recorded([str(jsonl)], ReadStats())),
    }
    print(f"\nreplay end to end, {args.rounds} alternated rounds (median; CPU s, wall s, ticks/s by CPU)")
    ends: dict[str, list[tuple[float, float, int]]] = {k: [] for k in sides}
    for _ in range(args.rounds):
        for name, fn in sides.items():
            ends[name].append(timed(fn))
    engine_cpu = statistics.median(r[1] for r in ends["engine alone"])
    for name, runs in ends.items():
        cpu = statistics.median(r[1] for r in runs)
        wall = statistics.median(r[0] for r in runs)
        cpus = ", ".join(f"{r[1]:.2f}" for r in runs)
        print(
            f"  {name:13s} cpu {cpu:6.2f} s ({cpus})  wall {wall:6.2f} s  {n / cpu:>12,.0f} ticks/s  "
            f"{engine_cpu / cpu:.2f}x the engine's speed"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
