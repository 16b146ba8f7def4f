"""Every input once, in the order given, each run of paths handed to the reader that pays for it.

stdin is one snapshot. Recordings of ticks (``*.jsonl``, ``*.ndjson``, optionally ``.gz``) are
validated and sent as they are. A run of page files and directories is parsed in worker processes
when it is big enough for that to pay (``--parse-workers``), else in a thread of this process; either
way the ticks reach the producer in input order. Unreadable inputs raise
:class:`~tickerstream.errors.SourceError`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

from tickerstream.errors import SourceError
from tickerstream.producer.inputs import produce_in_thread, produce_stdin_once
from tickerstream.producer.jsonl import produce_jsonl
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.producer.workers import produce_in_workers, worker_count
from tickerstream.sources.files import walk_files
from tickerstream.sources.recordings import PARQUET_SUFFIX, is_jsonl


async def produce_once(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event, workers: str
) -> None:
    """Each path in turn; runs of page paths are parsed in worker processes when it pays.

    ``workers`` is the ``--parse-workers`` setting ("auto" or a count). Returns early once ``stop`` is set.
    """
    _refuse_parquet(paths)
    for run in _runs(paths):
        if stop.is_set():
            return
        if run == ["-"]:
            await produce_stdin_once(producer, ts_override, stop)
            continue
        for recorded, group in itertools.groupby(_files_of(run), key=lambda p: is_jsonl(Path(p))):
            files = list(group)
            if recorded:
                for path in files:
                    await produce_jsonl(producer, Path(path), stop)
            else:
                await _produce_pages(producer, files, ts_override, stop, workers)


async def _produce_pages(
    producer: TickProducer, files: list[str], ts_override: int | None, stop: asyncio.Event, workers: str
) -> None:
    count, sized = worker_count(files, workers)
    if count and sized:
        await produce_in_workers(producer, sized, count, ts_override, stop)
    else:
        await produce_in_thread(producer, files, ts_override, stop)


def _refuse_parquet(paths: list[str]) -> None:
    """Parquet recordings are for ``ticker-replay``: read as page text they would give no ticks and
    binary rejects, so they are refused up front (a usage error), before anything is sent."""
    for run in _runs(paths):
        if run != ["-"]:
            found = next((f for f in _files_of(run) if f.endswith(PARQUET_SUFFIX)), None)
            if found is not None:
                raise SourceError(
                    f"{found}: ticker-produce reads pages and JSON Lines of ticks, not Parquet "
                    "(replay it with ticker-replay)"
                )


def _files_of(run: list[str]) -> list[str]:
    """Directories walked (sorted, hidden entries skipped) as every reader walks them; files as given."""
    return [f for path in run for f in (walk_files(path) if os.path.isdir(path) else [path])]


def _runs(paths: list[str]) -> list[list[str]]:
    """``paths`` cut around '-': stdin gets a run of its own, so it is read exactly where it was given."""
    runs: list[list[str]] = [[]]
    for path in paths:
        if path == "-":
            runs += [["-"], []]
        else:
            runs[-1].append(path)
    return [run for run in runs if run]
