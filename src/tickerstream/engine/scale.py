"""Scale jumps: one page at a thousandth (or a thousand times) of the price is a misparse, not a move.

A page that read ETH 3083.56 as 3.08 (a decimal or thousands separator misread) used to publish a
-99.9 % move on both horizons at once, z -1755; the page after it, back at 3083, published nothing
(it was measured from the anchors before the bad page). A price is not plausible at ``FACTOR`` (10)
times or a tenth of the series' previous tick: no listed coin does that from one page to the next.
Such a tick is dropped (counted, ``EngineStats.scale_jumps``) unless the tick after it confirms it:

- a tick at ``FACTOR`` or more off the previous tick of its series is a scale jump;
- a scale jump is dropped when the previous tick was taken, taken when the previous tick was dropped:
  the page after a misparse, back at the true scale, is a scale jump from the dropped tick and is
  taken; a real change of scale (a redenomination, a crash of more than 90 % in one page) is dropped
  once and taken from its second page on (that page's move is then reported, one page late);
- the previous tick is the series' previous tick in event time, taken or dropped: the dropped one's
  price is kept per series (``Windows.held_price``, in checkpoints), so the decision is the same
  however the stream is cut into batches, in a replay and under Kafka.

Nothing is held back: the first tick is dropped at once, not delayed, so no event waits for a
later page, and the state is one price per series. The cost: a real scale change loses its first
page (the move comes from the second), and a misparse that lasts two pages is taken as real.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import Grouped

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: A tick at this multiple of its series' previous price, or this fraction of it, is a scale jump.
FACTOR = 10.0


def scale_jumps(g: Grouped, last_price: F64, held_price: F64) -> tuple[B | None, F64]:
    """Per tick of ``g``: is it dropped (None: none is), and per segment, the price of its last tick
    if that was dropped, else NaN (the new ``held_price`` of its row). ``last_price`` and
    ``held_price`` per row: the last taken tick's price and the price of a dropped tick after it."""
    held = held_price[g.seg_rows]
    prev = np.empty(len(g), dtype=np.float64)
    prev[1:] = g.price[:-1]
    was_held = ~np.isnan(held)
    prev[g.starts] = np.where(was_held, held, last_price[g.seg_rows])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = g.price / prev
        jump = (ratio >= FACTOR) | (ratio <= 1.0 / FACTOR)  # NaN (no previous tick): no
    if not jump.any():
        return None, np.full(g.seg_rows.size, np.nan)
    # In a run of consecutive scale jumps, every other one is dropped, starting with the first
    # unless the tick before the run was dropped (a run at a segment's start after a held tick).
    idx = np.arange(len(g), dtype=np.int64)
    brk = np.where(jump, -1, idx)
    brk[g.starts] = np.where(jump[g.starts], g.starts - 1, g.starts)
    last_break = np.maximum.accumulate(brk)
    offset = (last_break == g.per_tick(g.starts) - 1) & g.per_tick(was_held)
    drop = jump & ((idx - last_break - 1 + offset) % 2 == 0)
    last = g.ends - 1
    new_held = np.where(drop[last], g.price[last], np.nan)
    return drop, new_held


def without(g: Grouped, drop: B) -> Grouped:
    """``g`` without the dropped ticks (segments left empty disappear)."""
    keep = np.flatnonzero(~drop)
    r = g.rows[keep]
    m = r.shape[0]
    first = np.empty(m, dtype=bool)
    first[:1] = True
    np.not_equal(r[1:], r[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], m)
    seg_of = np.cumsum(first) - 1
    rank = np.arange(m, dtype=np.int64) - np.repeat(starts, ends - starts)
    return Grouped(
        g.order[keep],
        r,
        g.ts[keep],
        g.price[keep],
        g.quantum[keep],
        starts,
        ends,
        r[starts],
        seg_of,
        rank,
        g.late,
        g.duplicates,
    )
