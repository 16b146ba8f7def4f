"""Scale jumps: one page at a thousandth (or a thousand times) of the price is a misparse, not a move.

A page that read ETH 3083.56 as 3.08 (a decimal or thousands separator misread) used to publish a
-99.9 % move on both horizons at once, z -1755; the page after it, back at 3083, published nothing
(it was measured from the anchors before the bad page). A price is not plausible at ``FACTOR`` (10)
times or a tenth of the series' last taken tick: no listed coin does that from one page to the next.
Such a tick (a *scale jump*) is dropped (counted, ``EngineStats.scale_jumps``) unless a dropped tick
confirms its scale:

- a tick is judged against the series' last *taken* tick (``Windows.last_price``), never against a
  dropped one: the page after a misparse, back at the true scale, is no jump and is taken;
- a scale jump is taken when the series' latest dropped tick (``Windows.held_price``, ``held_ts``)
  is within ``CONFIRM`` (2) times of it and at most ``CONFIRM_MS`` (1 h) older: two pages at the
  new scale confirm it, even when pages of the old scale came between (a second source still
  showing the price before a crash, stale or minutes behind). The move of a real change of scale (a
  redenomination, a crash of more than 90 % in one page) is so reported at the second page that
  shows it, from the price before;
- except that a jump back to the scale the series left at its latest confirmed jump (within 2x of
  the price before it, ``Windows.left_price``) is confirmed only by the page right before it: a
  source still showing the old scale for good (stale) is dropped page after page (and counted, so
  alerted on) while the new scale keeps coming, instead of taking each source every other page and
  flapping between the two; a real return shows on two pages in a row and is taken from the second;
- otherwise it is dropped and becomes the series' latest dropped tick.

Why an hour: pages come every few minutes, so a source that shows a real new scale shows it again
well within the hour, whatever other sources interleave; a misparse of the same kind that recurs
less often than hourly (a page template bug hit now and then) stays dropped each time. A dropped
tick older than that confirms nothing.

The decision needs the ticks of a series in order: batches are cut anywhere, so the state is the
last taken price, the latest dropped tick (price and ts) and the scale last left, all in
checkpoints, and a tick is decided the same way in a replay and under Kafka. Ticks are vectorised:
only the (rare) segments with a jump from the tick before (or from the last taken price) go
through the per-tick rule.

Nothing is held back: a dropped tick is not emitted later, so no event waits for a later page. The
costs: a real scale change loses its first page, a misparse repeated within the hour is taken as
real (as a redenomination must be), a real crash of more than 90 % that reverts on the next page is
never reported (one page at x0.07 cannot be told from a misparse: it is counted as a dropped
scale jump, which ``TickerScaleJumps`` alerts on), and a source that shows the old scale for
good interleaved with live pages is dropped for as long as the live pages come (a real return to
the old scale needs two pages in a row).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import Grouped, grouped

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: A tick at this multiple of its series' last taken price, or this fraction of it, is a scale jump.
FACTOR = 10.0
#: A scale jump within this factor of the series' latest dropped tick confirms the dropped tick's scale.
CONFIRM = 2.0
#: ... when the dropped tick is at most this much older (ms): pages of a real new scale come again
#: well within an hour; a misparse recurring less often than that stays dropped.
CONFIRM_MS = 3_600_000


def _is_jump(ratio: F64) -> B:
    with np.errstate(invalid="ignore"):
        out: B = (ratio >= FACTOR) | (ratio <= 1.0 / FACTOR)  # NaN (no previous tick): no
    return out


def scale_jumps(
    g: Grouped, last_price: F64, last_ts: I64, held: F64, held_ts: I64, left: F64
) -> tuple[B | None, I64, F64, I64, F64]:
    """Per tick of ``g``: is it dropped (None: none is); and the rows whose state changed with their
    new ``held``, ``held_ts`` (the latest dropped tick, NaN once a jump confirmed it) and ``left``
    (the price before the latest confirmed jump). Per row: ``last_price``, ``last_ts`` the last
    taken tick, ``held``, ``held_ts`` the latest dropped tick, ``left`` the scale last left."""
    prev = np.empty(len(g), dtype=np.float64)
    prev[1:] = g.price[:-1]
    prev[g.starts] = last_price[g.seg_rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = _is_jump(g.price / prev)
    none = np.zeros(0, dtype=np.int64)
    if not jump.any():  # no tick is a jump from the tick before: every tick is taken, state unchanged
        return None, none, np.zeros(0), none, np.zeros(0)
    # Only segments with a jump can drop a tick (without a drop, the tick before is the last taken).
    segs = np.unique(g.seg_of[jump])
    drop = np.zeros(len(g), dtype=bool)
    new_held = np.empty(segs.size)
    new_ts = np.empty(segs.size, dtype=np.int64)
    new_left = np.empty(segs.size)
    price, ts = g.price.tolist(), g.ts.tolist()
    for k, s in enumerate(segs.tolist()):
        row = int(g.seg_rows[s])
        last, last_t = float(last_price[row]), int(last_ts[row])
        hp, ht, lp = float(held[row]), int(held_ts[row]), float(left[row])
        for i in range(int(g.starts[s]), int(g.ends[s])):
            p, t = price[i], ts[i]
            r = p / last if last > 0 else float("nan")  # NaN: no taken tick yet
            if not (r >= FACTOR or r <= 1.0 / FACTOR):
                last, last_t = p, t
            elif (
                hp == hp
                and t - ht <= CONFIRM_MS
                and 1.0 / CONFIRM <= p / hp <= CONFIRM
                # back to the scale left at the latest confirmed jump: two pages in a row
                and (ht > last_t or not 1.0 / CONFIRM <= p / lp <= CONFIRM)
            ):
                # a second page at the dropped one's scale: confirmed
                lp, last, last_t, hp = last, p, t, float("nan")
            else:
                drop[i] = True
                hp, ht = p, t
        new_held[k], new_ts[k], new_left[k] = hp, ht, lp
    return drop, g.seg_rows[segs], new_held, new_ts, new_left


def without(g: Grouped, drop: B) -> Grouped:
    """``g`` without the dropped ticks (segments left empty disappear)."""
    k = np.flatnonzero(~drop)
    return grouped(g.order[k], g.rows[k], g.ts[k], g.price[k], g.quantum[k], g.late, g.duplicates)
