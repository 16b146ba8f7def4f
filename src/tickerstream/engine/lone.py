"""Lone prints as anchors: a move is never measured from a price its own neighbours contradict.

One page showing USDC at 0.93 between pages at $1.00 is, an hour later, the as-of price of the 1 h
horizon: measured from it, the flat $1.00 reads +7.5 %. Market-data spike filters call such a print
bad when it is far off both the print before it and the print after it while those two agree
(the classic one-tick spike). As an anchor it is known with both neighbours, so it costs no delay
to skip: the anchor is then the point before it (still at or before ``ts - h``, its own slack check
applies), as if the lone print had never been shown.

A ring point ``k`` (price ``p``) is a lone print for a horizon of threshold ``x`` (a fraction) when
``p`` is at least ``x`` beyond both neighbours ``p_prev`` and ``p_next`` on the same side, and the
neighbours are within ``x * agree`` of each other: a V (100, 93, 106) is a real reversal, a step
(100, 93, 93) a real move; only (100, 93, 100) is a lone print. Neighbours are the ring's points
next to ``k`` held just before the tick evaluated (never the tick itself): an anchor whose next
point is not there yet (a gap of the horizon after it) is taken as it is.

Two points in a row, each as far beyond both points around them on one side while those agree,
are a *lone pair* (two bad pages: another coin's row twice), skipped for the point before them the
same way, when the points around them are at most ``pair_span_ms`` apart: a price away for hours
is a real dip however few pages showed it.

The volatility leaves lone prints and pairs out too (``Windows.returns_and_vol``, at the smallest
threshold), with the same rules (``lone_between``, ``lone_pair``) on the points of its estimator.
A page at exactly the price of two earlier lone prints (a stale mirror's row, again and again)
neither triggers a move nor re-arms one (``repeats_of_lone_prints``).

Only anchors the tick's price is at least ``x * agree`` away from are looked at (about 1 % of the
ticks of ``bench/engine_steady.py``; looking at all cost a fifth of the engine's time). A price
back near a lone print is so measured from it: should the price have really moved there, from the
print's neighbours, that move fires one ring point later, once the anchor is past the print.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import Grouped
from tickerstream.engine.rings import Ring, ring_slot

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Two points in a row are a lone pair only when the points around them are at most this far apart
#: (ms), and half the horizon: two bad pages among 10-minute pages are a misprint's echo an hour
#: later, while a price away for hours is a real dip, however few pages showed it (on the
#: scorecard's random hourly pages, two pages 5 minutes apart inside a 2.5-hour dip; counting such
#: pairs lost true moves).
PAIR_MS = 1_800_000

#: Candidates looked at together for a repeated lone print (a candidates x ring capacity matrix).
REPEAT_CHUNK = 2048
#: A repeated lone print is told by its exact price only on pages whose quantum is at most the
#: lone distance over this: a price many steps away recurs by chance rarely, one step away often.
REPEAT_STEPS = 10
#: ... and only once it was a lone print this many times: a real wick to a price, and a second one
#: to the same price (a resting bid), are each news, a stale mirror's third page at it is not.
REPEAT_PRINTS = 2


def pair_span_ms(horizon_ms: int) -> int:
    """The longest span, from the point before a lone pair to the point after it, for a horizon."""
    return min(horizon_ms // 2, PAIR_MS)


class Held:
    """The points a ring holds just before each tick of a batch, by sequence number: the ring's
    points as they were before the batch (``seq < n0``), then the batch's kept ticks."""

    def __init__(self, ring: Ring, g: Grouped, w: I64, wrank: I64) -> None:
        self.ring = ring
        self.w = w
        self.g = g
        self.wrank = wrank
        self.seg_n0 = ring.count[g.seg_rows]
        # Per segment, the position in ``w`` of its first kept tick.
        self.seg_first_w = np.searchsorted(g.seg_of[w], np.arange(g.seg_rows.size), side="left")

    def where(self, i: I64, seq: I64) -> tuple[I64, I64]:
        """For ticks ``i`` and sequence numbers ``seq``: the flat ring index of a point held from
        before the batch, else -1, and the batch index of one from the batch, else -1."""
        cap = self.ring.capacity
        seg = self.g.seg_of[i]
        n0 = self.seg_n0[seg]
        # Held just before tick i: the last ``cap`` of the points before it.
        end = n0 + self.wrank[i]
        held = (seq >= np.maximum(end - cap, 0)) & (seq < end)
        in_ring = held & (seq < n0)
        in_batch = held & ~in_ring
        flat = np.where(in_ring, self.g.rows[i] * cap + ring_slot(seq, cap), -1)
        pos = np.where(in_batch, self.seg_first_w[seg] + (seq - n0), 0)
        b = np.where(in_batch, self.w[np.minimum(pos, self.w.size - 1)] if self.w.size else -1, -1)
        return flat, b

    def price(self, g: Grouped, i: I64, seq: I64) -> F64:
        """Price of point ``seq`` as held before tick ``i``; NaN when not held."""
        out: F64 = _taken(self.where(i, seq), self.ring.price, g.price, np.full(i.size, np.nan))
        return out

    def ts(self, g: Grouped, i: I64, seq: I64) -> I64:
        """Ts of point ``seq`` as held before tick ``i``; 0 when not held."""
        out: I64 = _taken(self.where(i, seq), self.ring.ts, g.ts, np.zeros(i.size, dtype=np.int64))
        return out

    def point(
        self, g: Grouped, i: I64, seq: I64, v_rate: F64, qexp: npt.NDArray[np.int8]
    ) -> tuple[I64, F64, F64, npt.NDArray[np.int8]]:
        """(ts, price, variance rate, quantum exponent) of held points (the caller checks they are)."""
        at, ring, n = self.where(i, seq), self.ring, i.size
        return (
            _taken(at, ring.ts, g.ts, np.zeros(n, dtype=np.int64)),
            _taken(at, ring.price, g.price, np.full(n, np.nan)),
            _taken(at, ring.var, v_rate, np.full(n, np.nan)),
            _taken(at, ring.qexp, qexp, np.zeros(n, dtype=np.int8)),
        )


def _taken(at: tuple[I64, I64], ring_buf: Any, batch_buf: Any, out: Any) -> Any:
    """``out`` with the values of the held points ``at`` (``Held.where``) from the ring's buffer or
    the batch's array (the others left as they are)."""
    flat, b = at
    r, k = flat >= 0, b >= 0
    out[r] = ring_buf.reshape(-1).take(flat[r])
    out[k] = batch_buf[b[k]]
    return out


def lone_prints(
    held: Held, g: Grouped, i: I64, seq: I64, price: F64, x: float, agree: float, pair_ms: int
) -> tuple[I64, I64]:
    """Which of the anchors ``seq`` (prices ``price``) of ticks ``i`` are lone prints or one of a
    lone pair (whose points around it are at most ``pair_ms`` apart): positions into ``i``, and
    per position the sequence number of the point that stands in (the one before the print, or
    before the pair)."""
    after = held.price(g, i, seq + 1)
    before = held.price(g, i, seq - 1)
    with np.errstate(invalid="ignore"):
        far_after = np.abs(price - after) >= after * x
        far_before = np.abs(price - before) >= before * x
    single = np.flatnonzero(far_after & far_before)
    single = single[lone_between(before[single], price[single], after[single], x, agree)]
    # A pair: the anchor is its second page (far from the point after it, not from the one before)
    # or its first (the other way round); the points around the pair must agree.
    second = np.flatnonzero(far_after & ~far_before)
    if second.size:
        ii, s = i[second], seq[second]
        outer = held.price(g, ii, s - 2)
        pair = lone_pair(outer, before[second], price[second], after[second], x, agree)
        second = second[pair & (held.ts(g, ii, s + 1) - held.ts(g, ii, s - 2) <= pair_ms)]
    first = np.flatnonzero(far_before & ~far_after)
    if first.size:
        ii, s = i[first], seq[first]
        outer = held.price(g, ii, s + 2)
        pair = lone_pair(before[first], price[first], after[first], outer, x, agree)
        first = first[pair & (held.ts(g, ii, s + 2) - held.ts(g, ii, s - 1) <= pair_ms)]
    pos = np.concatenate([single, first, second])
    stand_in = np.concatenate([seq[single] - 1, seq[first] - 1, seq[second] - 2])
    return pos, stand_in


def repeats_of_lone_prints(held: Held, g: Grouped, cand: I64, x: float, agree: float) -> I64:
    """Which of the ticks ``cand`` (each far from the point before it, whose two points before it
    agree) show exactly the price of ``REPEAT_PRINTS`` lone prints among the points ``held`` before
    them, whose neighbours agree with the points beyond them: a stale mirror's row between a live
    site's pages, again. Returns positions into ``cand``."""
    cap = held.ring.capacity
    found: list[I64] = []
    for lo in range(0, cand.size, REPEAT_CHUNK):  # a bounded matrix, however many ticks jump
        part = cand[lo : lo + REPEAT_CHUNK]
        end = held.seg_n0[g.seg_of[part]] + held.wrank[part]
        # Every point held before each candidate (NaN: none), oldest first.
        seq = end[:, None] - cap + np.arange(cap)[None, :]
        px = held.price(g, np.repeat(part, cap), seq.reshape(-1)).reshape(part.size, cap)
        # ... jumping off a level the two points before it agree on: a page after a page of another
        # site (two sites taking turns, a crash pinned at a bid that wicked there before) is none.
        with np.errstate(invalid="ignore", divide="ignore"):
            steady = np.abs(px[:, -1] / px[:, -2] - 1.0) < x * agree
        hit_c, hit_k = np.nonzero((px == g.price[part][:, None]) & steady[:, None])
        if hit_c.size:
            s, at = seq[hit_c, hit_k], part[hit_c]
            before, after = held.price(g, at, s - 1), held.price(g, at, s + 1)
            lone = lone_between(before, px[hit_c, hit_k], after, x, agree)
            # ... whose neighbours each agree with the point on their other side: with two sites
            # taking turns, each site's pages are lone among the other's, and the live one's are
            # no repeated misprint (a drop it shows first, the lagging one later).
            with np.errstate(invalid="ignore", divide="ignore"):
                lone &= np.abs(held.price(g, at, s - 2) / before - 1.0) < x * agree
                lone &= np.abs(held.price(g, at, s + 2) / after - 1.0) < x * agree
            prints = np.bincount(hit_c[lone], minlength=part.size)
            found.append(lo + np.flatnonzero(prints >= REPEAT_PRINTS))
    out: I64 = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
    return out


def lone_pair(before: F64, p1: F64, p2: F64, after: F64, x: float, agree: float) -> npt.NDArray[np.bool_]:
    """Elementwise: are ``p1`` and ``p2`` (two points in a row) a lone pair between ``before`` and
    ``after``: each at least ``x`` beyond both on the same side, the two neighbours within
    ``x * agree`` of each other (NaN anywhere: no). The caller also bounds the pair's span."""
    with np.errstate(invalid="ignore", divide="ignore"):
        near = np.abs(after / before - 1.0) < x * agree
        lo, hi = np.minimum(before, after), np.maximum(before, after)
        up = (np.minimum(p1, p2) >= hi * (1.0 + x)) & near
        down = (np.maximum(p1, p2) <= lo * (1.0 - x)) & near
    out: npt.NDArray[np.bool_] = up | down
    return out


def lone_between(before: F64, p: F64, after: F64, x: float, agree: float) -> npt.NDArray[np.bool_]:
    """``is_lone`` elementwise on arrays, quietly (NaN anywhere, or a zero neighbour: no)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: npt.NDArray[np.bool_] = is_lone(before, p, after, x, agree)
    return out


@overload
def is_lone(before: float, p: float, after: float, x: float, agree: float) -> bool: ...
@overload
def is_lone(before: F64, p: F64, after: F64, x: float, agree: float) -> npt.NDArray[np.bool_]: ...
def is_lone(before: Any, p: Any, after: Any, x: float, agree: float) -> Any:
    """The lone-print rule on prices (floats, or arrays elementwise): ``p`` at least ``x`` beyond both
    neighbours on the same side, the neighbours within ``x * agree`` of each other. The reference
    prices of pegs (``pegref.py``) use it too."""
    up = (p >= before * (1.0 + x)) & (p >= after * (1.0 + x))
    down = (p <= before * (1.0 - x)) & (p <= after * (1.0 - x))
    return (up | down) & (abs(after / before - 1.0) < x * agree)
