"""The ring buffers of the windows: one per horizon, rows x capacity points, written a batch at a time
and searched for the as-of point of each tick (see ``windows.py`` for what a ring keeps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import NO_TS, Grouped

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass(slots=True)
class Ring:
    """The thinned ring of one horizon: the first tick of each ``bucket_ms`` bucket, per row."""

    horizon_ms: int
    bucket_ms: int
    ts: I64
    price: F64
    count: I64
    #: Per point: the series' variance rate (per second) just before it; NaN during warm-up. A move's
    #: z uses the one at its anchor: the volatility known before the move began.
    var: F64
    #: Per point: its price quantum as a power of ten (``quantum_exponents``). The anchor's own, not the
    #: current tick's: the seed widget shows $1.08 in cents but $0.97093 with six decimals.
    qexp: npt.NDArray[np.int8]

    @property
    def capacity(self) -> int:
        return int(self.ts.shape[1])


def bsearch_last_le(values_at: Callable[[I64], I64], lo: I64, hi: I64, target: I64) -> I64:
    """Per query, the largest index k in [lo, hi] with ``values_at(k) <= target``, else ``lo - 1``.

    Values must be non-decreasing on each [lo, hi]. Vectorised: ~log2(hi - lo) passes over all queries.
    """
    lo = lo.copy()
    hi = hi.copy()
    found = lo - 1
    active = lo <= hi
    while active.any():
        idx = np.flatnonzero(active)
        l_, h_ = lo[idx], hi[idx]
        mid = (l_ + h_ + 1) // 2
        ok = values_at(mid) <= target[idx]
        found[idx] = np.where(ok, mid, found[idx])
        lo[idx] = np.where(ok, mid + 1, l_)
        hi[idx] = np.where(ok, h_, mid - 1)
        active[idx] = lo[idx] <= hi[idx]
    return found


def ring_slot(seq: I64, cap: int) -> I64:
    """``seq % cap`` (numpy's floor modulo). With a power-of-two capacity (the default 256) that is
    ``seq & (cap - 1)`` for every int64, negatives included, and a bitwise and costs a tenth of an
    integer division."""
    out: I64 = seq & (cap - 1) if cap & (cap - 1) == 0 else seq % cap
    return out


def ring_ts_all(ring: Ring, rows: I64) -> I64:
    """Per row, the ts of the ring's newest point (NO_TS when empty)."""
    cap = ring.capacity
    cnt = ring.count[rows]
    slot = rows * cap + ring_slot(np.maximum(cnt - 1, 0), cap)
    out: I64 = np.where(cnt > 0, ring.ts.reshape(-1).take(slot), NO_TS)
    return out


def append_kept(ring: Ring, g: Grouped, kept: B, v_rate: F64, qexp: npt.NDArray[np.int8]) -> int:
    cap = ring.capacity
    ck: I64 = np.cumsum(kept)
    before: I64 = np.where(g.starts > 0, ck[g.starts - 1], 0)
    lens: I64 = ck[g.ends - 1] - before  # kept ticks per segment
    wrank: I64 = ck - kept - g.per_tick(before)
    n0 = ring.count[g.seg_rows]
    keep = np.flatnonzero(kept & (wrank >= g.per_tick(lens - cap)))
    flat = g.rows[keep] * cap + ring_slot(n0[g.seg_of[keep]] + wrank[keep], cap)
    ring.ts.reshape(-1)[flat] = g.ts[keep]
    ring.price.reshape(-1)[flat] = g.price[keep]
    ring.var.reshape(-1)[flat] = v_rate[keep]
    ring.qexp.reshape(-1)[flat] = qexp[keep]
    ring.count[g.seg_rows] = n0 + lens
    return int(np.maximum(0, np.minimum(lens, n0 + lens - cap)).sum())


def search_kept(g: Grouped, w: I64, target: I64) -> I64:
    """Per tick, the last position p in ``w`` (kept ticks) with seg_of[w[p]] <= seg_of[i] and
    ts <= target within that order (the caller checks the segment); -1 if none."""
    base = int(min(g.ts.min(), target.min()))
    span = int(max(g.ts.max(), target.max())) - base + 2
    nseg = int(g.starts.shape[0])
    if nseg * span < 2**62:
        # One searchsorted over (segment, ts) packed into a single sorted int64 key.
        every = w.size == len(g)  # every tick kept: no gather
        key = g.seg_of * span + (g.ts - base) if every else g.seg_of[w] * span + (g.ts[w] - base)
        q = g.seg_of * span + (target - base)
        return np.searchsorted(key, q, side="right").astype(np.int64) - 1
    # ts spread over centuries: per tick binary search among the kept ticks of its segment.
    seg_w = g.seg_of[w]
    lo = np.searchsorted(seg_w, g.seg_of, side="left").astype(np.int64)
    hi = np.searchsorted(seg_w, g.seg_of, side="right").astype(np.int64) - 1
    tw = g.ts[w]
    found = bsearch_last_le(lambda k: tw[k], lo, hi, target)
    return np.where(found >= lo, found, -1)


def search_ring(ring: Ring, g: Grouped, rest: I64, rank: I64, tgt: I64) -> I64:
    """Sequence numbers of the as-of points in the pre-batch ring for ticks ``rest`` (-1: none).

    ``rank``: per tick of ``rest``, how many points the batch already added to the ring before it.
    Anchors only move forward within a row, so two binary searches per row (for its first and
    last tick) bracket every anchor of the row; the bracketed ring points are gathered (about
    as many as the row's ticks) and all ticks are answered by one packed ``searchsorted``.
    """
    cap = ring.capacity
    rows = g.rows[rest]
    n0 = ring.count[rows]
    lo = np.maximum(np.maximum(n0 - cap, 0), n0 + rank - cap)
    seg = g.seg_of[rest]
    first = np.empty(rest.size, dtype=bool)
    first[:1] = True
    np.not_equal(seg[1:], seg[:-1], out=first[1:])
    fi = np.flatnonzero(first)
    la = np.append(fi[1:], rest.size) - 1
    k = fi.size
    found = bsearch_rows(
        ring.ts,
        np.concatenate([rows[fi], rows[fi]]),
        np.concatenate([lo[fi], lo[fi]]),
        np.concatenate([n0[fi] - 1, n0[fi] - 1]),
        np.concatenate([tgt[fi], tgt[la]]),
        cap,
    )
    r_start = np.maximum(found[:k], lo[fi])
    r_len = np.maximum(found[k:] - r_start + 1, 0)
    total = int(r_len.sum())
    if total == 0:
        return np.full(rest.size, -1, dtype=np.int64)
    owner = np.repeat(np.arange(k), r_len)
    offs = np.cumsum(r_len) - r_len
    seqs = r_start[owner] + (np.arange(total) - offs[owner])
    rts = ring.ts.reshape(-1).take(rows[fi][owner] * cap + ring_slot(seqs, cap))
    sidx = np.repeat(np.arange(k), la - fi + 1)
    base = int(min(rts.min(), tgt.min()))
    span = int(max(rts.max(), tgt.max())) - base + 2
    if k * span >= 2**62:  # cannot pack (ts spread over centuries): search per tick
        return bsearch_rows(ring.ts, rows, lo, n0 - 1, tgt, cap)
    p = np.searchsorted(owner * span + (rts - base), sidx * span + (tgt - base), side="right") - 1
    ok = p >= offs[sidx]
    seq = np.where(ok, seqs[np.maximum(p, 0)], -1)
    return np.where(seq >= lo, seq, -1)


def bsearch_rows(ts_buf: I64, rows: I64, lo: I64, hi: I64, target: I64, cap: int) -> I64:
    """``bsearch_last_le`` over ring sequence numbers of ``rows`` (slot = seq % cap).

    Branchless: every query takes the same ~log2(capacity) steps of a flat ``take``, which beats
    compacting the active set each step (the gathers into a large 2-D array dominate).
    """
    flat = ts_buf.reshape(-1)
    row_base = rows * cap
    base = lo.copy()
    n = hi - lo + 1
    while True:
        if n.size == 0 or int(n.max()) <= 0:
            break
        half = n >> 1
        mid = base + half
        ok = flat.take(row_base + ring_slot(mid, cap)) <= target
        ok &= n > 0
        base = np.where(ok, mid + 1, base)
        n = np.where(ok, n - half - 1, half)
    return base - 1
