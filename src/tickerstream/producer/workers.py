"""Parsing ``ticker-produce``'s files in worker processes, producing in this one, in input order.

Threads would share one GIL, and parsing is the reader's CPU cost, so big inputs are parsed and
encoded to JSON in processes (``--parse-workers``). The file list is planned here with the same
directory walk as :func:`tickerstream.sources.files.iter_snapshots`, cut into groups by size; groups are
submitted in order and their results taken in the same order, so the topic sees what a single
reader would have sent.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from tickerstream.model import Reject
from tickerstream.producer.clock import DEFAULT_MAX_FUTURE_MS
from tickerstream.producer.encoding import page_symbols_only, tick_encoder
from tickerstream.producer.inputs import PULL_BYTES, note_future_snapshot, pull
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.sources.files import iter_snapshots, walk_files

#: Inputs at least this big are parsed in worker processes (``--parse-workers auto``).
WORKER_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class Encoded:
    """A group of files parsed and encoded by a worker: the ticks as (key, ts, JSON) columns."""

    symbols: list[str]
    ts: list[int]
    values: list[bytes]
    rejects: list[tuple[int, list[Reject]]]  # (snapshot event time, its rejects)
    #: Snapshots whose ticks became rejects for their time: (source, why, rejects).
    future: list[tuple[str, str, int]]
    snapshots: int
    size: int
    lines: int


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what a signal means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def parse_files(
    files: list[str], ts_override: int | None, tick_version: int, max_future_ms: int = DEFAULT_MAX_FUTURE_MS
) -> Encoded:
    """Runs in a worker: read, parse and encode ``files`` (one snapshot each, timed like any input)
    as tick records of ``tick_version`` (the producer's, which the worker cannot ask for itself);
    a snapshot more than ``max_future_ms`` ahead of the clock gives rejects (``producer/clock.py``)."""
    snapshots = iter_snapshots(files, ts_override=ts_override)
    group = pull(snapshots, limit=None, max_future_ms=max_future_ms, ts_given=ts_override is not None)
    ticks, left_out = page_symbols_only([t for p in group for t in p.result.ticks], tick_version)
    rejects = [(p.ts, p.result.rejects) for p in group if p.result.rejects]
    if left_out:  # ticks a v1 or v2 record cannot carry honestly (``send_ticks`` does the same)
        rejects.append((group[0].ts, left_out))
    return Encoded(
        symbols=[t.symbol for t in ticks],
        ts=[t.ts for t in ticks],
        values=list(map(tick_encoder(tick_version), ticks)),
        rejects=rejects,
        future=[(p.source, p.future, len(p.result.rejects)) for p in group if p.future is not None],
        snapshots=len(group),
        size=sum(p.size for p in group),
        lines=sum(p.lines for p in group),
    )


def expand_files(paths: list[str]) -> list[tuple[str, int]]:
    """(file, size) of ``paths`` in the order ``sources.iter_snapshots`` reads them (its own walk)."""
    out: list[tuple[str, int]] = []
    for path in paths:
        files = walk_files(path) if os.path.isdir(path) else (path,)
        out.extend((name, os.path.getsize(name)) for name in files)
    return out


def file_groups(files: list[tuple[str, int]]) -> Iterator[list[str]]:
    """Consecutive files of about ``PULL_BYTES`` each: one worker task, big enough to amortise the
    round trip to the process, small enough to keep every worker busy and memory bounded."""
    group: list[str] = []
    size = 0
    for name, n in files:
        group.append(name)
        size += n
        if size >= PULL_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def worker_count(paths: list[str], setting: str) -> tuple[int, list[tuple[str, int]] | None]:
    """How many parse workers for these paths (0: parse in this process), and their file list."""
    if setting == "0" or (setting == "auto" and (os.cpu_count() or 1) < 2):
        return 0, None
    files = expand_files(paths)
    if setting == "auto":
        big = sum(n for _, n in files) >= WORKER_MIN_BYTES
        return (min(2, (os.cpu_count() or 1)) if big else 0), files
    return int(setting), files


async def produce_in_workers(
    producer: TickProducer,
    files: list[tuple[str, int]],
    workers: int,
    ts_override: int | None,
    stop: asyncio.Event,
) -> None:
    """Parse and encode in worker processes, produce here, in input order: groups of files are
    submitted in order and their results taken in the same order."""
    loop = asyncio.get_running_loop()
    stats = producer.stats
    tick_version = producer.config.tick_version
    max_future_ms = producer.config.max_future_ms
    groups = file_groups(files)
    context = multiprocessing.get_context("spawn")  # no fork of a process running an event loop
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        pending: deque[asyncio.Future[Encoded]] = deque()

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                pending.append(
                    loop.run_in_executor(pool, parse_files, group, ts_override, tick_version, max_future_ms)
                )

        for _ in range(workers + 1):  # every worker busy, and one result ready ahead
            submit()
        try:
            while pending and not stop.is_set():
                encoded = await pending.popleft()
                if stop.is_set():
                    break
                submit()
                await producer.send_encoded(encoded.symbols, encoded.ts, encoded.values)
                for source, why, n in encoded.future:
                    note_future_snapshot(producer, source, why, n)
                for ts, rejects in encoded.rejects:
                    await producer.send_rejects(rejects, ts=ts)
                stats.snapshots += encoded.snapshots
                stats.bytes_read += encoded.size
                stats.lines_read += encoded.lines
        finally:
            for future in pending:
                future.cancel()
            # Wait (off the event loop) until the workers are gone, at most one group's parse: a pool
            # left to the interpreter's exit hooks can hang there if a second signal arrives.
            await loop.run_in_executor(None, functools.partial(pool.shutdown, wait=True, cancel_futures=True))
