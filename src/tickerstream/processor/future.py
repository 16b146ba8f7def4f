"""Ticks stamped ahead of their time: refused before they reach the engine.

Per series the engine drops every tick older than the latest it accepted (``engine/grouping.py``), so
one tick stamped hours ahead (a capture named in local time and read as UTC, a scraper with a wrong
clock, microseconds for milliseconds) would make every later tick of its series *late* until the
wall clock caught up: hours of a coin's prices dropped, its peg judged on nothing. A clock-skew
allowance (``process.max_future_ms``, 5 minutes by default) bounds that: a tick further ahead is a
dead letter (``invalid_tick``) whose detail names the fix, and a tick inside the allowance can hold
its series back for at most the allowance.

Ahead of what: of the time the broker appended the record, on our topics (LogAppendTime), so that a
record read again after a restart or a rebalance gets the same verdict however late it is read; on a
CreateTime topic, whose timestamps the producer chose (ours sends the tick's ts), of the wall clock.
Kafka bounds record timestamps the same way (``log.message.timestamp.after.max.ms``, KIP-937; one hour
by default since Kafka 4.0).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.kafka.codec import DecodedTicks, drop_rows
from tickerstream.model import RejectReason, iso_ms, span

I64 = npt.NDArray[np.int64]

#: Default clock-skew allowance of a live processor (``ProcessorConfig.max_future_ms``).
DEFAULT_MAX_FUTURE_MS = 5 * 60 * 1000
#: ``ConsumerRecord.timestamp_type`` of a topic that stamps records when the broker appends them.
LOG_APPEND_TIME = 1
#: An event time above this (year 5138 in ms) is almost surely micro- or nanoseconds.
_NOT_MS = 10**14
_TIMESTAMP = operator.attrgetter("timestamp")


def arrival_times(batches: Sequence[Sequence[Any]], now_ms: int) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Per record of ``batches`` (consecutive consumer records per partition), what its ts is checked
    against, and whether that is the broker's append time: the record's timestamp on a LogAppendTime
    topic (ours: when the broker wrote it, so reading it again after a restart gives the same verdict),
    else (CreateTime: the producer's own stamp, possibly the tick's ts) the wall clock ``now_ms``.
    Never later than ``now_ms`` (a broker clock ahead of ours gains nothing)."""
    refs: list[I64] = []
    appended: list[npt.NDArray[np.bool_]] = []
    for recs in batches:
        n = len(recs)
        if n and getattr(recs[0], "timestamp_type", 0) == LOG_APPEND_TIME:
            stamps = np.fromiter(map(_TIMESTAMP, recs), dtype=np.int64, count=n)
            refs.append(np.minimum(stamps, now_ms))
            appended.append(np.ones(n, dtype=bool))
        else:
            refs.append(np.full(n, now_ms, dtype=np.int64))
            appended.append(np.zeros(n, dtype=bool))
    if not refs:
        return np.empty(0, np.int64), np.empty(0, bool)
    return np.concatenate(refs), np.concatenate(appended)


def refuse_future(
    decoded: DecodedTicks, reference: I64, appended: npt.NDArray[np.bool_], max_future_ms: int
) -> DecodedTicks:
    """``decoded`` without the ticks stamped more than ``max_future_ms`` after their ``reference`` time
    (per input record, see :func:`arrival_times`): those become bad records (``invalid_tick``) whose
    detail says how far ahead they are and what to fix."""
    ts = decoded.batch.ts
    rows = decoded.rows
    ahead = np.flatnonzero(ts > reference[rows] + max_future_ms)
    if not len(ahead):
        return decoded
    refused: dict[int, tuple[RejectReason, str]] = {}
    for i in ahead.tolist():
        k = int(rows[i])
        detail = future_detail(int(ts[i]), int(reference[k]), max_future_ms, appended=bool(appended[k]))
        refused[i] = (RejectReason.INVALID_TICK, detail)
    return drop_rows(decoded, refused)


def future_detail(
    ts: int,
    reference_ms: int,
    max_future_ms: int,
    *,
    appended: bool = False,
    setting: str = "process.max_future_ms",
) -> str:
    """Why a tick at ``ts`` is refused against ``reference_ms`` (the broker's append time if
    ``appended``, else the processor's clock), and what to fix."""
    what = "the time Kafka appended it" if appended else "the processor's clock"
    if ts >= _NOT_MS:
        return (
            f"ts {ts} is not milliseconds since the epoch (micro- or nanoseconds?): it lies far ahead "
            f"of {what} ({iso_ms(reference_ms)}); fix the source's timestamps"
        )
    return (
        f"ts {ts} ({iso_ms(ts)}) is {span(ts - reference_ms)} ahead of {what} ({iso_ms(reference_ms)}), "
        f"more than the allowed clock skew of {span(max_future_ms)} ({setting}): fix the clock or the "
        "time zone of the source that stamped it (a local time read as UTC is hours ahead)"
    )
