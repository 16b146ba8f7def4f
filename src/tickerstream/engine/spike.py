"""Which pages a move waits one page on: a page far off every page just before it, at fast cadence.

Off by default (``moves.spike_hold_s = 0``); a desk that would rather be a page late than alerted
by a bad tick turns it on. One page of ETH at +40 % between two ordinary pages a minute apart
(another coin's row, a parse error) fires a `new` move at once, and nothing takes it back when the
next page shows the price where it was. Market-data spike filters hold a tick that jumps that far
off the last one until the next tick confirms it or not; so does this, where pages come at most
``spike_hold_s`` apart, at the cost of one page of latency (a minute at 1-minute pages).

A page is *isolated* when it is as far as its symbol's smallest move threshold off the page before
it, which came at most ``spike_hold_s`` earlier, and off each of the series' ``RECENT`` latest
pages. An isolated page is held unless the series held one in the last ``HOLD_AGAIN_AFTER`` x
``spike_hold_s``: it neither triggers nor recedes (its change is taken as undefined), and it is a
point of the rings like any other. The page after it is judged as usual: a crash that stays down
fires there with its own change over the horizon, and a bad tick is gone (its next page is back
near the pages before it). One hold per window, not one page: a live site's crash pages between
the pages of a mirror still showing the old price, paging more often than the live site, are
each isolated; the live site's second page is judged, whatever the mirror does in between (a
first version held every such page, and the crash went unreported). A move in two big steps
(100, 80, 64 at one page a minute) fires at its second (-36 %).

The cost, why it is off by default: a held page waits for the next page however long that takes.
A crash page followed by an outage of the site (sites go down in crashes) is reported when the
pages come back, and not on 1 h at all when the outage is longer than the hour (the held page is
then the next page's 1 h anchor); 24 h reports it when the pages come back.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import NO_TS, Grouped

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Pages per series a page is compared with (the page before it and the three before that).
RECENT = 4

#: After a held page, no page of the series is held for this many ``spike_hold_s``: a live site's
#: crash pages between the pages of a mirror that still shows the old price, and pages more often,
#: are each isolated; the second is judged, whatever the mirror does in between.
HOLD_AGAIN_AFTER = 10


def held_pages(
    g: Grouped,
    gap_ms: I64,
    recent_px: F64,
    recent_ts: I64,
    held_ts: I64,
    far_seg: F64,
    within_ms: int,
) -> B:
    """Per accepted tick of ``g``: whether a move waits for the next page before judging it.

    ``gap_ms`` is each tick's time since the series' tick before it, ``recent_px`` and
    ``recent_ts`` (rows x ``RECENT``, newest first; NO_TS: none) each row's latest pages before the
    batch, ``held_ts`` each row's latest held page (NO_TS: none; updated in place), ``far_seg`` per
    segment its symbol's smallest threshold as a fraction (measured on the lower of two prices).
    Only the ticks decide, never how the stream is cut into batches.
    """
    n = len(g)
    held: B = np.zeros(n, dtype=bool)
    # Only a page close behind the one before it can be held: at slower cadence nothing more is read.
    cand = np.flatnonzero(gap_ms <= within_ms)
    if cand.size == 0:
        return held
    price, rate = g.price[cand], far_seg[g.seg_of[cand]]
    isolated = np.ones(cand.size, dtype=bool)
    for k in range(1, RECENT + 1):
        px, ts = _back(g, recent_px, recent_ts, cand, k)
        with np.errstate(invalid="ignore"):
            far = np.abs(price - px) >= np.minimum(price, px) * rate  # NaN (none): False
        # The page before must be far; an older one that does not exist is no objection.
        isolated &= far if k == 1 else far | (ts == NO_TS)
        if not isolated.any():
            return held
    # At most one held page per series in HOLD_AGAIN_AFTER x within_ms: isolated pages are few, so
    # a plain loop in stream order.
    again_ms = HOLD_AGAIN_AFTER * within_ms
    for i in cand[isolated].tolist():
        row = int(g.rows[i])
        ts_i = int(g.ts[i])
        last = int(held_ts[row])
        if last == NO_TS or ts_i - last > again_ms:
            held[i] = True
            held_ts[row] = ts_i
    return held


def _back(g: Grouped, recent_px: F64, recent_ts: I64, at: I64, k: int) -> tuple[F64, I64]:
    """For the ticks ``at``, the price and ts of the series' ``k``-th page before each: in the
    batch, else the row's recent pages before it."""
    px = np.empty(at.size, dtype=np.float64)
    ts = np.empty(at.size, dtype=np.int64)
    rank = g.rank[at]
    inside = rank >= k
    px[inside] = g.price[at[inside] - k]
    ts[inside] = g.ts[at[inside] - k]
    out = ~inside
    rows, slot = g.rows[at[out]], k - 1 - rank[out]
    px[out] = recent_px[rows, slot]
    ts[out] = recent_ts[rows, slot]
    return px, ts


def latest_pages(g: Grouped, recent_px: F64, recent_ts: I64) -> None:
    """Update each row of ``g`` to its ``RECENT`` latest pages after the batch (in place)."""
    rows = g.seg_rows
    lens = g.ends - g.starts
    old_px, old_ts = recent_px[rows], recent_ts[rows]
    take = np.arange(rows.size)
    for j in range(RECENT):
        from_batch = lens > j
        at = np.maximum(g.ends - 1 - j, 0)
        older = np.clip(j - lens, 0, RECENT - 1)
        recent_px[rows, j] = np.where(from_batch, g.price[at], old_px[take, older])
        recent_ts[rows, j] = np.where(from_batch, g.ts[at], old_ts[take, older])
