"""Which pages a move waits one page on: a page far off every page just before it, at fast cadence.

One page of ETH at +40 % between two ordinary pages a minute apart (another coin's row, a parse
error) fired a `new` move at once, and nothing took it back when the next page showed the price
where it was: at fast cadence such a page is far more often a bad tick than the market. Market-data
spike filters hold a tick that jumps that far off the last one until the next tick confirms it or
not; so does this, at the cost of one page of latency where pages come at most ``spike_hold_s``
apart (1 minute at 1-minute pages), and of none at slower cadence, where a page is minutes of
market and holding it would delay a real crash as long.

A page is *isolated* when it is as far as its symbol's smallest move threshold off the page before
it, which came at most ``spike_hold_s`` earlier, and off each of the series' ``RECENT`` latest
pages. An
isolated page is held unless the page before it was: it neither triggers nor recedes (its change
is taken as undefined), and it is a point of the rings like any other. The next page is judged as
usual: a crash that stays down fires there with its own change over the horizon, and a bad tick is
gone (its next page is back near the pages before it). Near one of the recent pages is not
isolated: a live site's second page after a crash, between pages of sites that still show the
price before it (up to three of them in turn), is near its first, so the crash fires at the live
site's second page and lagging sources cannot hold it back for good. Never two held in a row, so
a move in two big steps (100, 80, 64 at one page a minute) fires at its second (-36 %).
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


def held_pages(
    g: Grouped, gap_ms: I64, recent_px: F64, recent_ts: I64, held_last: B, far_seg: F64, within_ms: int
) -> B:
    """Per accepted tick of ``g``: whether a move waits for the next page before judging it.

    ``gap_ms`` is each tick's time since the series' tick before it, ``recent_px`` and
    ``recent_ts`` (rows x ``RECENT``, newest first; NO_TS: none) each row's latest pages before the
    batch, ``held_last`` whether the last of them was held, ``far_seg`` per segment its symbol's
    smallest threshold as a fraction (measured on the lower of two prices). Only the ticks decide,
    never how the stream is cut into batches.
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
    # Never two held in a row: of a run of isolated ticks every other one is held, from the first
    # unless the tick before the run was held.
    iso = np.zeros(n, dtype=bool)
    iso[cand] = isolated
    i = np.arange(n)
    seg_start = i - g.rank
    run0 = np.maximum(np.maximum.accumulate(np.where(iso, -1, i)) + 1, seg_start)
    before = np.where(run0 == seg_start, g.per_tick(held_last[g.seg_rows]), False)
    held = iso & ((i - run0 + before) % 2 == 0)
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
    for j in range(RECENT):
        from_batch = lens > j
        at = np.maximum(g.ends - 1 - j, 0)
        older = np.clip(j - lens, 0, RECENT - 1)
        take = np.arange(rows.size)
        recent_px[rows, j] = np.where(from_batch, g.price[at], old_px[take, older])
        recent_ts[rows, j] = np.where(from_batch, g.ts[at], old_ts[take, older])
