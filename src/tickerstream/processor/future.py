"""Ticks stamped ahead of the wall clock: refused before they reach the engine.

Per series the engine drops every tick older than the latest it accepted (``engine/grouping.py``), so
one tick stamped hours ahead (a capture named in local time and read as UTC, a scraper with a wrong
clock, microseconds for milliseconds) would make every later tick of its series *late* until the
wall clock caught up: hours of a coin's prices dropped, its peg judged on nothing. A clock-skew
allowance (``process.max_future_ms``, 5 minutes by default) bounds that: a tick further ahead is a
dead letter (``invalid_tick``) whose detail names the fix, and a tick inside the allowance can hold
its series back for at most the allowance. Kafka bounds record timestamps the same way
(``log.message.timestamp.after.max.ms``, KIP-937; one hour by default since Kafka 4.0).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tickerstream.kafka.codec import BadRecord, DecodedTicks
from tickerstream.model import RejectReason

#: Default clock-skew allowance of a live processor (``ProcessorConfig.max_future_ms``).
DEFAULT_MAX_FUTURE_MS = 5 * 60 * 1000
#: An event time above this (year 5138 in ms) is almost surely micro- or nanoseconds.
_NOT_MS = 10**14


def refuse_future(decoded: DecodedTicks, now_ms: int, max_future_ms: int) -> DecodedTicks:
    """``decoded`` without the ticks stamped more than ``max_future_ms`` after ``now_ms``: those become
    bad records (``invalid_tick``) whose detail says how far ahead they are and what to fix."""
    ts = decoded.batch.ts
    ahead = np.flatnonzero(ts > now_ms + max_future_ms)
    if not len(ahead):
        return decoded
    mask = np.ones(len(ts), dtype=bool)
    mask[ahead] = False
    keep = np.flatnonzero(mask)
    rows = decoded.rows
    refused = [
        BadRecord(int(rows[i]), RejectReason.INVALID_TICK, future_detail(int(ts[i]), now_ms, max_future_ms))
        for i in ahead.tolist()
    ]
    bad = sorted(decoded.bad + refused, key=lambda b: b.index)
    return DecodedTicks(decoded.batch.take(keep), rows[keep], bad)


def future_detail(ts: int, now_ms: int, max_future_ms: int, setting: str = "process.max_future_ms") -> str:
    """Why a tick at ``ts`` is refused at wall time ``now_ms``, and what to fix."""
    if ts >= _NOT_MS:
        return (
            f"ts {ts} is not milliseconds since the epoch (micro- or nanoseconds?): it lies far ahead "
            f"of the clock ({iso_ms(now_ms)}); fix the source's timestamps"
        )
    return (
        f"ts {ts} ({iso_ms(ts)}) is {span(ts - now_ms)} ahead of the clock ({iso_ms(now_ms)}), more than "
        f"the allowed clock skew of {span(max_future_ms)} ({setting}): fix the clock or the time "
        "zone of the source that stamped it (a local time read as UTC is hours ahead)"
    )


def iso_ms(ms: int) -> str:
    """``ms`` since the epoch as ISO 8601 UTC, to the second."""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def span(ms: int) -> str:
    """A duration for people, rounded to its last unit: ``45 s``, ``12 min``, ``8 h 0 min``, ``3 d 2 h``."""
    s = (max(0, ms) + 500) // 1000
    if s < 120:
        return f"{s} s"
    m = (s + 30) // 60
    if m < 120:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min"
    d, h = divmod(h + (m >= 30), 24)
    return f"{d} d {h} h"
