"""Recordings of ticks (JSON Lines, the ticks topic's own JSON) produced as they are.

Each value is validated by the same decoder the processor uses; a valid one is sent byte for byte
(no re-encoding), an invalid one becomes a reject with the decoder's reason, so nothing is lost.
With ``--tick-version 1`` or ``2`` the valid ones are re-encoded as records of that version instead
(no field beyond the frozen schema; a tick whose symbol the coin registry mapped becomes a reject, as
for parsed pages), so a consumer of that version can read what a newer recording held.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tickerstream.errors import SourceError
from tickerstream.kafka.codec import decode_tick_values
from tickerstream.model import TICK_SCHEMA_VERSION, Reject
from tickerstream.producer.clock import refuse_future_ticks
from tickerstream.producer.encoding import decode_values
from tickerstream.producer.tick_producer import TickProducer
from tickerstream.sources.recordings import open_binary

#: JSON Lines read and validated per batch.
JSONL_BATCH_BYTES = 4 * 1024 * 1024


async def produce_jsonl(producer: TickProducer, path: Path, stop: asyncio.Event) -> None:
    """Every line of ``path`` (``.gz`` decompressed) as a tick record or a reject; stops between batches."""
    stats = producer.stats
    version = producer.config.tick_version
    try:
        fh = open_binary(path)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    with fh:
        while not stop.is_set() and (lines := fh.readlines(JSONL_BATCH_BYTES)):
            stats.bytes_read += sum(len(line) for line in lines)
            stats.lines_read += len(lines)
            values = [v for v in (line.strip() for line in lines) if v]
            decoded = refuse_future_ticks(decode_tick_values(values), producer.config.max_future_ms)
            good = [values[i] for i in decoded.rows.tolist()]
            if version == TICK_SCHEMA_VERSION:
                await producer.send_encoded(decoded.batch.symbols, decoded.batch.ts.tolist(), good)
            else:  # re-encoded, and registry-mapped symbols left out as for parsed pages
                await producer.send_ticks(decode_values(good))
            if decoded.bad:
                rejects = [
                    Reject(values[b.index].decode("utf-8", "replace"), b.reason, str(path), b.detail)
                    for b in decoded.bad
                ]
                await producer.send_rejects(rejects)
