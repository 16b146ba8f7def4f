"""Snapshots and recorded ticks stamped ahead of this machine's clock: rejects, not ticks.

A page file's event time is ``--ts``, else the timestamp in its file name (UTC unless the name carries
an offset), else its modification time (``sources/files.py``). A capture named in local time (UTC+8)
is therefore read as 8 hours ahead, and once such a tick is on the topic the engine drops every later
tick of its series as late until the clock catches up (docs/processing.md, "Ticks from the future").
``ticker-process`` refuses such ticks too (``process.max_future_ms``); refusing them here says which
file is wrong and why, before anything reaches the topic. Nothing is lost: each refused tick becomes an
``invalid_tick`` reject holding its tick record, so it can be sent again once its time is fixed.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from tickerstream.kafka.codec import DecodedTicks, drop_rows
from tickerstream.model import Reject, RejectReason, iso_ms, span
from tickerstream.parse import ParseResult
from tickerstream.sources.files import now_ms, ts_from_name

#: Default clock-skew allowance (``ProducerConfig.max_future_ms``), the processor's default too.
DEFAULT_MAX_FUTURE_MS = 5 * 60 * 1000


def refuse_future_snapshot(
    result: ParseResult,
    source: str,
    ts: int,
    max_future_ms: int,
    *,
    ts_given: bool = False,
    now: Callable[[], int] = now_ms,
) -> tuple[ParseResult, str | None]:
    """``result`` unchanged if the snapshot's ``ts`` is at most ``max_future_ms`` ahead of ``now()``
    (or the check is off, 0); else every tick as an ``invalid_tick`` reject (after the parser's own
    rejects) and the reason, which says where the time came from and what to fix."""
    if max_future_ms <= 0:
        return result, None
    clock = now()
    if ts <= clock + max_future_ms:
        return result, None
    detail = snapshot_detail(source, ts, clock, max_future_ms, ts_given=ts_given)
    refused = [Reject(t.to_json().decode(), RejectReason.INVALID_TICK, source, detail) for t in result.ticks]
    return ParseResult(ticks=[], rejects=[*result.rejects, *refused]), detail


def snapshot_detail(source: str, ts: int, clock: int, max_future_ms: int, *, ts_given: bool = False) -> str:
    """Why a snapshot stamped ``ts`` is refused at ``clock``: how far ahead, from where, what to fix."""
    if ts_given:
        origin, fix = "--ts", "give a --ts that is not in the future"
    elif source != "-" and ts_from_name(os.path.basename(source)) == ts:
        origin = "the timestamp in its file name (read as UTC unless the name carries an offset)"
        fix = (
            "name captures in UTC (2025-01-20T06-00-00Z) or with their offset (2025-01-20T14-00-00+08:00), "
            "or fix the clock of the machine that named it; --ts sets the time of every snapshot"
        )
    else:
        origin = "its modification time"
        fix = "fix the clock of the machine that wrote it; --ts sets the time of every snapshot"
    return (
        f"snapshot stamped {iso_ms(ts)} by {origin} is {span(ts - clock)} ahead of this machine's clock "
        f"({iso_ms(clock)}), more than the allowed clock skew of {span(max_future_ms)}: {fix}"
    )


def refuse_future_ticks(
    decoded: DecodedTicks, max_future_ms: int, *, now: Callable[[], int] = now_ms
) -> DecodedTicks:
    """Recorded ticks (JSON Lines) stamped more than ``max_future_ms`` ahead of ``now()`` as bad records
    (``invalid_tick``), as ``ticker-process`` would dead-letter them."""
    if max_future_ms <= 0:
        return decoded
    clock = now()
    ts = decoded.batch.ts
    ahead = np.flatnonzero(ts > clock + max_future_ms)
    if not len(ahead):
        return decoded
    refused = {
        i: (
            RejectReason.INVALID_TICK,
            f"ts {int(ts[i])} ({iso_ms(int(ts[i]))}) is {span(int(ts[i]) - clock)} ahead of this machine's "
            f"clock ({iso_ms(clock)}), more than the allowed clock skew of {span(max_future_ms)}: fix the "
            "clock or the time zone of the source that stamped it",
        )
        for i in ahead.tolist()
    }
    return drop_rows(decoded, refused)
