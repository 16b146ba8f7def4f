"""One pass over ``ticker-produce``'s inputs in this process: read, parse, hand to the producer.

Files are read and parsed in a worker thread, one group of snapshots ahead of what the event loop
is sending, so parsing, compression and the network overlap; back-pressure from the producer
(``send_ticks`` waiting for acks) pauses the reading. stdin is one snapshot, like ``ticker-parse``.

Unreadable inputs raise :class:`~tickerstream.sources.files.SourceError`; the command decides what that
means for the user (a usage error for a one-pass run, a skipped file for a watched directory).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from tickerstream.log import get_logger
from tickerstream.parse import ParseResult, parse_bytes
from tickerstream.producer.clock import DEFAULT_MAX_FUTURE_MS, refuse_future_snapshot
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.sources.files import Snapshot, iter_snapshots, now_ms
from tickerstream.sources.stdin import stdin_chunks

log = get_logger(__name__)

#: A worker-thread pull parses snapshots until it holds this many bytes of input (or the input ends).
PULL_BYTES = 4 * 1024 * 1024


@dataclass
class Parsed:
    """One snapshot parsed, with what the run's counters need to know about its input."""

    source: str
    ts: int
    size: int
    lines: int
    result: ParseResult
    #: Why the snapshot's ticks became rejects: stamped too far ahead of the clock (None: they did not).
    future: str | None = None


def pull(
    snapshots: Iterator[Snapshot],
    limit: int | None = PULL_BYTES,
    *,
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
    ts_given: bool = False,
) -> list[Parsed]:
    """Read and parse the next group of snapshots, up to ``limit`` bytes of input (None: all). A
    snapshot stamped more than ``max_future_ms`` ahead of the clock gives rejects instead of ticks
    (``producer/clock.py``); ``ts_given``: the snapshots' time is ``--ts``."""
    out: list[Parsed] = []
    size = 0
    for snap in snapshots:
        result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
        result, future = refuse_future_snapshot(
            result, snap.source, snap.ts, max_future_ms, ts_given=ts_given
        )
        out.append(Parsed(snap.source, snap.ts, len(snap.data), snap.data.count(b"\n"), result, future))
        size += len(snap.data)
        if limit is not None and size >= limit:
            break
    return out


async def send_group(producer: TickProducer, group: list[Parsed]) -> None:
    """Ticks of the whole group in one call (fewer, fuller batches), then each snapshot's rejects."""
    stats = producer.stats
    ticks = [t for p in group for t in p.result.ticks] if len(group) > 1 else group[0].result.ticks
    await producer.send_ticks(ticks)
    for p in group:
        if p.future is not None:
            note_future_snapshot(producer, p.source, p.future, len(p.result.rejects))
        if p.result.rejects:
            await producer.send_rejects(p.result.rejects, ts=p.ts)
        stats.snapshots += 1
        stats.bytes_read += p.size
        stats.lines_read += p.lines


def note_future_snapshot(producer: TickProducer, source: str, detail: str, rejects: int) -> None:
    """A snapshot's ticks were refused for its time: counted, and logged with what to fix."""
    producer.stats.future_snapshots += 1
    log.warning("produce.snapshot_from_future", source=source, rejects=rejects, detail=detail)


async def produce_in_thread(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event
) -> None:
    """Files and directories in order, parsed in a thread one group ahead of the sending."""
    snapshots = iter_snapshots(paths, ts_override=ts_override)
    read = functools.partial(
        pull, snapshots, max_future_ms=producer.config.max_future_ms, ts_given=ts_override is not None
    )
    pending = asyncio.create_task(asyncio.to_thread(read))
    while True:
        group = await pending
        if not group or stop.is_set():
            break
        pending = asyncio.create_task(asyncio.to_thread(read))  # read ahead
        await send_group(producer, group)


async def produce_stdin_once(producer: TickProducer, ts_override: int | None, stop: asyncio.Event) -> None:
    """stdin as one snapshot, like ticker-parse (event time: --ts, else when reading started)."""
    ts = ts_override if ts_override is not None else now_ms()
    chunks: list[bytes] = []
    async for chunk in stdin_chunks(stop):
        chunks.append(chunk)
    if stop.is_set():
        return  # stopped before the snapshot was complete: nothing of it was accepted
    data = b"".join(chunks)
    result = await asyncio.to_thread(parse_bytes, data, ts=ts, source="-")
    result, future = refuse_future_snapshot(
        result, "-", ts, producer.config.max_future_ms, ts_given=ts_override is not None
    )
    await send_group(producer, [Parsed("-", ts, len(data), data.count(b"\n"), result, future)])
