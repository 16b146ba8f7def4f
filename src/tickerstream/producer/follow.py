"""``ticker-produce --follow``: keep producing what followed files, directories and stdin deliver.

:mod:`tickerstream.sources.follow` does the reading (tail -F, directory watching, line chunking) and knows
nothing of Kafka or clocks; these loops poll it, time each chunk of complete lines as the moment it
was read (followed text has no timestamps of its own) and hand the parsed chunk to the producer.
Every loop ends when ``stop`` is set, between two sends, so everything accepted is still flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from tickerstream.errors import SourceError
from tickerstream.log import get_logger
from tickerstream.parse import parse_bytes
from tickerstream.producer.inputs import Parsed, pull, send_group
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.sources.files import iter_snapshots, now_ms
from tickerstream.sources.follow import DirectoryWatcher, FollowedFile, LineChunker
from tickerstream.sources.stdin import stdin_chunks

log = get_logger(__name__)


async def follow_all(
    producer: TickProducer, paths: list[str], poll_interval: float, from_end: bool, stop: asyncio.Event
) -> None:
    """Follow every path concurrently ('-': stdin, a directory: its new files, else a growing file)."""
    tasks = []
    for path in paths:
        if path == "-":
            coro = follow_stdin(producer, stop)
        elif os.path.isdir(path):
            coro = follow_directory(producer, Path(path), poll_interval, stop)
        else:
            coro = follow_file(producer, Path(path), poll_interval, from_end, stop)
        tasks.append(asyncio.create_task(coro))
    log.info("produce.following", paths=paths, poll_interval_s=poll_interval)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def follow_file(
    producer: TickProducer, path: Path, interval: float, from_end: bool, stop: asyncio.Event
) -> None:
    followed = FollowedFile(path, start_at_end=from_end)
    chunker = LineChunker()
    source = str(path)
    try:
        while not stop.is_set():
            data = followed.read()
            if data:
                lines = chunker.push(data)
                await send_text(producer, lines, source, data.count(b"\n"))
                continue  # more may be waiting: read on before sleeping
            await _sleep_or_stop(stop, interval)
    finally:
        followed.close()


async def follow_directory(producer: TickProducer, root: Path, interval: float, stop: asyncio.Event) -> None:
    """Each settled new file is one snapshot, timed like any input file (name stamp, else mtime)."""
    watcher = DirectoryWatcher(root)
    while not stop.is_set():
        ready = await asyncio.to_thread(watcher.poll)
        for path in ready:
            if stop.is_set():
                return
            try:
                snapshots = iter_snapshots([str(path)])
                max_future_ms = producer.config.max_future_ms
                group = await asyncio.to_thread(pull, snapshots, max_future_ms=max_future_ms)
            except SourceError as exc:  # vanished or unreadable meanwhile: not fatal for a watcher
                log.warning("produce.file_skipped", path=str(path), error=str(exc))
                continue
            if group:
                await send_group(producer, group)
                log.debug("produce.file_produced", path=str(path), ticks=len(group[0].result.ticks))
        await _sleep_or_stop(stop, interval)


async def follow_stdin(producer: TickProducer, stop: asyncio.Event) -> None:
    chunker = LineChunker()
    async for data in stdin_chunks(stop):
        await send_text(producer, chunker.push(data), "-", data.count(b"\n"))
    if not stop.is_set():
        await send_text(producer, chunker.finish(), "-", 0)


async def send_text(producer: TickProducer, data: bytes, source: str, lines: int) -> None:
    """One chunk of complete lines: one snapshot timed now (the time it was read)."""
    if not data:
        return
    ts = now_ms()
    result = parse_bytes(data, ts=ts, source=source)
    await send_group(producer, [Parsed(source, ts, len(data), lines, result)])


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
