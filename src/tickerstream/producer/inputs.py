"""One pass over ``ticker-produce``'s inputs in this process: read, parse, hand to the producer.

Files are read and parsed in a worker thread, one group of snapshots ahead of what the event loop
is sending, so parsing, compression and the network overlap; back-pressure from the producer
(``send_ticks`` waiting for acks) pauses the reading. stdin is one snapshot, like ``ticker-parse``.

Unreadable inputs raise :class:`~tickerstream.sources.files.SourceError`; the command decides what that
means for the user (a usage error for a one-pass run, a skipped file for a watched directory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from tickerstream.parse import ParseResult, parse_bytes
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.sources.files import Snapshot, iter_snapshots, now_ms
from tickerstream.sources.stdin import stdin_chunks

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


def pull(snapshots: Iterator[Snapshot], limit: int | None = PULL_BYTES) -> list[Parsed]:
    """Read and parse the next group of snapshots, up to ``limit`` bytes of input (None: all)."""
    out: list[Parsed] = []
    size = 0
    for snap in snapshots:
        result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
        out.append(Parsed(snap.source, snap.ts, len(snap.data), snap.data.count(b"\n"), result))
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
        if p.result.rejects:
            await producer.send_rejects(p.result.rejects, ts=p.ts)
        stats.snapshots += 1
        stats.bytes_read += p.size
        stats.lines_read += p.lines


async def produce_in_thread(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event
) -> None:
    """Files and directories in order, parsed in a thread one group ahead of the sending."""
    snapshots = iter_snapshots(paths, ts_override=ts_override)
    pending = asyncio.create_task(asyncio.to_thread(pull, snapshots))
    while True:
        group = await pending
        if not group or stop.is_set():
            break
        pending = asyncio.create_task(asyncio.to_thread(pull, snapshots))  # read ahead
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
    await send_group(producer, [Parsed("-", ts, len(data), data.count(b"\n"), result)])
