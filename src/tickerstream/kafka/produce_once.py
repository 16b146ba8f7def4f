"""``ticker-produce`` without ``--follow``: every input once, in the order given, each run of paths
handed to the reader that pays for it.

stdin is one snapshot. A run of files and directories is parsed in worker processes when it is big
enough for that to pay (``--parse-workers``), else in a thread of this process; either way the ticks
reach the producer in input order. Unreadable inputs raise :class:`~tickerstream.sources.SourceError`.
"""

from __future__ import annotations

import asyncio

from tickerstream.kafka.produce import TickProducer
from tickerstream.kafka.produce_inputs import produce_in_thread, produce_stdin_once
from tickerstream.kafka.produce_workers import produce_in_workers, worker_count


async def produce_once(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event, workers: str
) -> None:
    """Each path in turn; runs of file/directory paths are parsed in worker processes when it pays.

    ``workers`` is the ``--parse-workers`` setting ("auto" or a count). Returns early once ``stop`` is set.
    """
    for run in _runs(paths):
        if stop.is_set():
            return
        if run == ["-"]:
            await produce_stdin_once(producer, ts_override, stop)
        elif run:
            count, files = worker_count(run, workers)
            if count and files:
                await produce_in_workers(producer, files, count, ts_override, stop)
            else:
                await produce_in_thread(producer, run, ts_override, stop)


def _runs(paths: list[str]) -> list[list[str]]:
    """``paths`` cut around '-': stdin gets a run of its own, so it is read exactly where it was given."""
    runs: list[list[str]] = [[]]
    for path in paths:
        if path == "-":
            runs += [["-"], []]
        else:
            runs[-1].append(path)
    return runs
