"""Recorded inputs for replay, as streams of columnar tick batches merged in event-time order.

Three kinds of recording are accepted, as files or directories (searched recursively):

* JSON Lines of ticks (``*.jsonl``, ``*.jsonl.gz``, ``*.ndjson``): the ticks topic's JSON; each
  file is one stream, expected in event-time order (a file out of order is still read, and the
  engine counts the late ticks).
* Parquet (``*.parquet``, e.g. a ``ticker-produce --archive DIR`` dataset): each file is one
  stream, read a record batch at a time straight into columns (``parquet_input.py``).
* anything else is page text, parsed as ``ticker-parse`` does; every page is one snapshot whose
  event time comes from its file name or mtime, and all pages together form one stream sorted by it.

The streams are merged by a columnar k-way merge: rows up to the smallest "last ts" buffered
across streams are safe to emit, so the merge never looks at ticks one by one in Python.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from tickerstream.engine import TickBatch
from tickerstream.errors import InputError
from tickerstream.kafka.codec import decode_tick_lines
from tickerstream.model import Reject, RejectReason
from tickerstream.parse import parse_bytes
from tickerstream.replay.stats import ReadStats
from tickerstream.sources.files import iter_snapshots
from tickerstream.sources.recordings import expand_inputs, open_binary

#: Bytes decoded per chunk (~40k ticks): big enough to amortise per-call costs, small enough to stay
#: cache-friendly and to keep memory flat whatever the file size.
CHUNK_BYTES = 8 * 1024 * 1024


def jsonl_batches(path: Path, stats: ReadStats) -> Iterator[TickBatch]:
    """Stream a JSON Lines file as batches sorted by ts (stable within a chunk)."""
    source = str(path)
    with open_binary(path) as fh:
        raw_fh = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        carry = b""
        while True:
            block = fh.read(CHUNK_BYTES)
            chunk = carry + block
            if not block:
                carry = b""
            else:  # hand on whole lines only; the tail waits for the next block
                cut = chunk.rfind(b"\n") + 1
                chunk, carry = chunk[:cut], chunk[cut:]
            if chunk:
                stats.positions[source] = _position(raw_fh, stats.positions.get(source, 0))
                decoded, lines = decode_tick_lines(chunk)
                stats.records += len(decoded.batch) + len(decoded.bad)
                for bad in decoded.bad:
                    raw = lines[bad.index].decode("utf-8", "replace")
                    stats.reject(Reject(raw, bad.reason, source, bad.detail))
                if len(decoded.batch):
                    yield decoded.batch.in_ts_order()
            if not block:
                return


def _position(raw_fh: object, fallback: int) -> int:
    try:
        return int(raw_fh.tell())  # type: ignore[attr-defined]
    except (OSError, AttributeError, ValueError):
        return fallback


def page_batches(paths: Sequence[Path], stats: ReadStats) -> Iterator[TickBatch]:
    """Parse page files into one batch per snapshot, in event-time order of the snapshots."""
    snapshots = sorted(iter_snapshots([str(p) for p in paths]), key=lambda s: (s.ts, s.source))
    for snap in snapshots:
        result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
        stats.positions[snap.source] = len(snap.data)
        stats.records += len(result.ticks) + len(result.rejects)
        for reject in result.rejects:
            stats.reject(reject)
        if result.ticks:
            yield TickBatch.from_ticks(result.ticks)


def merge_by_time(streams: Sequence[Iterator[TickBatch]]) -> Iterator[TickBatch]:
    """K-way merge of streams that are each in event-time order, a batch at a time.

    Invariant: every stream keeps at least one buffered row until it is exhausted, and rows with
    ``ts <= min(last buffered ts of each live stream)`` can be emitted, since no stream can
    still produce an earlier one. Ties keep stream order (stable sort), so output is deterministic.
    """
    if len(streams) == 1:
        yield from streams[0]
        return
    buffers: list[TickBatch | None] = [next(s, None) for s in streams]
    while True:
        live = [i for i, b in enumerate(buffers) if b is not None and len(b)]
        if not live:
            return
        bound = min(int(buffers[i].ts[-1]) for i in live)  # type: ignore[union-attr]
        ready: list[TickBatch] = []
        for i in live:
            buf = buffers[i]
            assert buf is not None
            cut = int(np.searchsorted(buf.ts, bound, side="right"))
            if cut:
                ready.append(buf.slice(0, cut) if cut < len(buf) else buf)
            buffers[i] = buf.slice(cut, len(buf)) if cut < len(buf) else next(streams[i], None)
        merged = ready[0] if len(ready) == 1 else TickBatch.concat(ready)
        yield merged.take(np.argsort(merged.ts, kind="stable")) if len(ready) > 1 else merged


def open_recorded(inputs: Sequence[str], stats: ReadStats) -> Iterator[TickBatch]:
    """All inputs as one event-time-ordered stream of batches."""
    jsonl, pages, parquet = expand_inputs(inputs)
    stats.bytes_total = sum(os.path.getsize(p) for p in [*jsonl, *pages, *parquet])
    streams: list[Iterator[TickBatch]] = [jsonl_batches(p, stats) for p in jsonl]
    if parquet:
        # Imported here: pyarrow takes a while to load, and replays of JSON Lines or pages don't need it.
        from tickerstream.replay.parquet_input import parquet_batches

        streams += [parquet_batches(p, stats) for p in parquet]
    if pages:
        streams.append(page_batches(pages, stats))
    if not streams:
        raise InputError("no input files found in " + ", ".join(inputs))
    return merge_by_time(streams)


__all__ = ["InputError", "ReadStats", "RejectReason", "expand_inputs", "merge_by_time", "open_recorded"]
