"""Per-symbol rolling windows of (ts, price) in 2-D numpy ring buffers, fed a whole batch at a time.

Layout: row ``r`` of ``ts``/``price`` (shape rows x capacity) is one symbol's ring. ``count[r]`` is
the number of points ever accepted for it, so point number ``s`` (its sequence number) lives in slot
``s % capacity`` and the ring holds sequence numbers ``[max(0, count - capacity), count)``. Rows
grow by half; a row is never moved, so a symbol's id stays valid for the engine's lifetime.

Memory at the defaults (capacity 512): 512 x (8 B ts + 8 B price) = 8,192 B of ring per symbol,
plus 40 B of per-row scalars here and 17 B per move horizon in the detector (8,266 B per row
with two horizons; ``Engine`` adds the name and its dict entry): about 8.3 KB per
symbol, 83 MB for 10,000 symbols (up to 1.5x that allocated right after growing).

Policy for ticks that do not extend a symbol's series (counted, never merged):
- **duplicate**: same symbol and ts as the latest accepted tick: dropped, the first one wins;
- **late**: ts older than the latest accepted ts: dropped. Ticks arrive per symbol in event-time
  order (Kafka keys by symbol); an older tick is a replayed or re-scraped snapshot, and inserting it
  into the past would rewrite moves already published.

The time horizon is logical: statistics cover the points within ``horizon_s`` of the latest tick;
the ring's fixed capacity is what bounds memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: ``last_ts`` of a row with no points: older than any valid ts (ts >= 0).
NO_TS = -1


@dataclass(frozen=True, slots=True)
class Grouped:
    """The accepted ticks of a batch, grouped by row (segments) in event-time order within a row."""

    order: I64  # positions in the batch, in grouped order
    rows: I64
    ts: I64
    price: F64
    starts: I64  # index of each segment's first tick
    ends: I64  # one past each segment's last tick
    seg_rows: I64
    seg_of: I64  # per tick: index of its segment
    rank: I64  # per tick: position within its segment
    late: int
    duplicates: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def group_and_accept(rows: I64, ts: I64, price: F64, last_ts: I64) -> Grouped:
    """Group a batch by row (stable, keeping stream order) and drop late ticks and duplicates."""
    order = np.argsort(rows, kind="stable")
    r = rows[order]
    t = ts[order]
    n = r.shape[0]
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(r[1:], r[:-1], out=first[1:])
    # The running max of earlier ts in the row; while a row's ts never decrease within the batch
    # (the normal case) that is simply the previous tick's ts, or the row's last accepted ts.
    prev_max = np.empty(n, dtype=np.int64)
    prev_max[1:] = t[:-1]
    prev_max[first] = NO_TS
    np.maximum(prev_max, last_ts[r], out=prev_max)
    decreasing = np.flatnonzero(~first[1:] & (t[1:] < t[:-1])) + 1
    if decreasing.size:
        starts = np.flatnonzero(first)
        for s in np.unique(np.searchsorted(starts, decreasing, side="right") - 1):
            lo = int(starts[s])
            hi = int(starts[s + 1]) if s + 1 < starts.size else n
            run = np.maximum.accumulate(t[lo:hi])
            prev_max[lo + 1 : hi] = np.maximum(run[:-1], last_ts[r[lo]])
    accepted = t > prev_max
    duplicates = int(np.count_nonzero(t == prev_max))
    late = n - int(np.count_nonzero(accepted)) - duplicates
    keep = np.flatnonzero(accepted)
    order = order[keep]
    r = r[keep]
    t = t[keep]
    m = r.shape[0]
    seg_first = np.empty(m, dtype=bool)
    seg_first[:1] = True
    np.not_equal(r[1:], r[:-1], out=seg_first[1:])
    starts = np.flatnonzero(seg_first)
    ends = np.append(starts[1:], m)
    seg_of = np.cumsum(seg_first) - 1
    rank = np.arange(m, dtype=np.int64) - starts[seg_of]
    return Grouped(order, r, t, price[order], starts, ends, r[starts], seg_of, rank, late, duplicates)


#: Below this many segments still running, the recurrence continues in plain Python (cheaper
#: than a numpy call per position for a handful of elements).
_PY_TAIL_SEGMENTS = 32


def segmented_recurrence(a: F64, b: F64, starts: I64, lens: I64) -> F64:
    """``x[i] = a[i] * x[i-1] + b[i]`` within each segment; ``x[start] = b[start]``.

    Evaluated in exactly the sequential order, one position of all segments per numpy step, so
    the floats are bit-identical however the stream was cut into batches (a parallel prefix scan
    regroups the products and differs in the last bits). The few long segments that remain when
    most have ended finish in plain Python, so one long run costs O(n) Python steps, not numpy calls.
    """
    x = b.copy()
    by_len = np.argsort(-lens, kind="stable")
    s_starts = starts[by_len]
    s_lens = lens[by_len]
    neg_lens = -s_lens
    k = 1
    max_len = int(s_lens[0]) if s_lens.size else 0
    while k < max_len:
        active = int(np.searchsorted(neg_lens, -k, side="left"))  # segments with len > k
        if active < _PY_TAIL_SEGMENTS:
            break
        idx = s_starts[:active] + k
        x[idx] = a[idx] * x[idx - 1] + b[idx]
        k += 1
    if k < max_len:
        for s0, n in zip(s_starts.tolist(), s_lens.tolist(), strict=True):
            if n <= k:
                break
            lo = s0 + k - 1
            xs = x[lo : s0 + n].tolist()
            aa = a[lo : s0 + n].tolist()
            bb = b[lo : s0 + n].tolist()
            for i in range(1, len(xs)):
                xs[i] = aa[i] * xs[i - 1] + bb[i]
            x[lo : s0 + n] = xs
    return x


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


class Windows:
    """The ring buffers and the per-row scalars that summarise them (last point, EWMA variance)."""

    def __init__(self, horizon_s: int, capacity: int, ewma_alpha: float, rows: int = 64) -> None:
        self.horizon_ms = horizon_s * 1000
        self.capacity = capacity
        self.alpha = ewma_alpha
        self.rows = 0
        self.ts = np.zeros((0, capacity), dtype=np.int64)
        self.price = np.zeros((0, capacity), dtype=np.float64)
        self.count = np.zeros(0, dtype=np.int64)
        self.last_ts = np.zeros(0, dtype=np.int64)
        self.last_price = np.zeros(0, dtype=np.float64)
        self.var = np.zeros(0, dtype=np.float64)  # EWMA of squared log returns (not debiased)
        self.n_ret = np.zeros(0, dtype=np.int64)  # log returns seen (EWMA warm-up)
        self.grow(rows)

    def grow(self, rows: int) -> None:
        """Make room for at least ``rows`` rows, growing by half (amortised O(1) appends, at most
        1.5x the rows in use, where doubling would allocate up to 2x at 10,000 symbols)."""
        if rows <= self.rows:
            return
        new = max(rows, self.rows + self.rows // 2)
        old = self.rows

        def ext(a: npt.NDArray[np.generic], fill: float) -> npt.NDArray[np.generic]:
            out = np.full((new, *a.shape[1:]), fill, dtype=a.dtype)
            out[:old] = a[:old]
            return out

        self.ts = ext(self.ts, 0)  # type: ignore[assignment]
        self.price = ext(self.price, 0.0)  # type: ignore[assignment]
        self.count = ext(self.count, 0)  # type: ignore[assignment]
        self.last_ts = ext(self.last_ts, NO_TS)  # type: ignore[assignment]
        self.last_price = ext(self.last_price, np.nan)  # type: ignore[assignment]
        self.var = ext(self.var, 0.0)  # type: ignore[assignment]
        self.n_ret = ext(self.n_ret, 0)  # type: ignore[assignment]
        self.rows = new

    def reset(self, rows: I64) -> None:
        """Empty the given rows (symbol dropped; the row may be reused)."""
        self.count[rows] = 0
        self.last_ts[rows] = NO_TS
        self.last_price[rows] = np.nan
        self.var[rows] = 0.0
        self.n_ret[rows] = 0

    def nbytes_per_row(self) -> int:
        arrays = (self.ts, self.price, self.count, self.last_ts, self.last_price, self.var, self.n_ret)
        return sum(a.itemsize * (a.size // max(self.rows, 1)) for a in arrays)

    def returns_and_vol(self, g: Grouped) -> tuple[F64, F64, I64]:
        """Per accepted tick: its log return, the EWMA variance and return count *before* it.

        The variance excludes the tick's own return so a shock is measured against the calm before
        it. Updates the rows' EWMA state. The variance is debiased for its start at zero.
        """
        prev = np.empty(len(g), dtype=np.float64)
        prev[1:] = g.price[:-1]
        prev[g.starts] = self.last_price[g.seg_rows]
        ret = np.log(g.price / prev)  # NaN for a symbol's first tick ever
        valid = ~np.isnan(ret)
        a = np.where(valid, 1.0 - self.alpha, 1.0)
        b = np.where(valid, self.alpha * ret * ret, 0.0)
        b[g.starts] += a[g.starts] * self.var[g.seg_rows]
        v_after = segmented_recurrence(a, b, g.starts, g.ends - g.starts)
        n_after = np.cumsum(valid)
        base = np.where(g.starts > 0, n_after[g.starts - 1], 0)
        n_after = n_after - base[g.seg_of] + self.n_ret[g.seg_rows][g.seg_of]
        v_before = np.empty_like(v_after)
        v_before[1:] = v_after[:-1]
        v_before[g.starts] = self.var[g.seg_rows]
        n_before = n_after - valid
        last = g.ends - 1
        self.var[g.seg_rows] = v_after[last]
        self.n_ret[g.seg_rows] = n_after[last]
        with np.errstate(divide="ignore", invalid="ignore"):
            debias = 1.0 - (1.0 - self.alpha) ** n_before
            v_before = np.where(n_before > 0, v_before / debias, np.nan)
        return ret, v_before, n_before

    def asof(self, g: Grouped, target: I64) -> tuple[I64, F64]:
        """Per accepted tick i: the latest point of its row with ts <= target[i], among the points
        the ring held just before tick i (the last ``capacity`` points before it). Returns its ts
        and price, or (NO_TS, NaN). Must run before ``write`` of the same batch."""
        n = len(g)
        cap = self.capacity
        seg_start = g.starts[g.seg_of]
        lo_batch = np.maximum(seg_start, np.arange(n) - cap)
        j = self._search_batch(g, target)
        in_batch = j >= lo_batch
        a_ts = np.full(n, NO_TS, dtype=np.int64)
        a_px = np.full(n, np.nan)
        a_ts[in_batch] = g.ts[j[in_batch]]
        a_px[in_batch] = g.price[j[in_batch]]
        # Not in the batch: search the ring as it was before the batch.
        rest = np.flatnonzero(~in_batch & (g.rank < cap))
        if rest.size:
            seq = self._search_ring(g, rest, target[rest])
            ok = seq >= 0
            hit = rest[ok]
            flat = g.rows[hit] * cap + seq[ok] % cap
            a_ts[hit] = self.ts.reshape(-1).take(flat)
            a_px[hit] = self.price.reshape(-1).take(flat)
        return a_ts, a_px

    def _search_ring(self, g: Grouped, rest: I64, tgt: I64) -> I64:
        """Sequence numbers of the as-of points in the pre-batch rings for ticks ``rest`` (-1: none).

        Anchors only move forward within a row, so two binary searches per row (for its first and
        last tick) bracket every anchor of the row; the bracketed ring points are gathered (about
        as many as the row's ticks) and all ticks are answered by one packed ``searchsorted``.
        """
        cap = self.capacity
        rows = g.rows[rest]
        n0 = self.count[rows]
        lo = np.maximum(np.maximum(n0 - cap, 0), n0 + g.rank[rest] - cap)
        seg = g.seg_of[rest]
        first = np.empty(rest.size, dtype=bool)
        first[:1] = True
        np.not_equal(seg[1:], seg[:-1], out=first[1:])
        fi = np.flatnonzero(first)
        la = np.append(fi[1:], rest.size) - 1
        k = fi.size
        found = _bsearch_rows(
            self.ts,
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
        rts = self.ts.reshape(-1).take(rows[fi][owner] * cap + seqs % cap)
        sidx = np.repeat(np.arange(k), la - fi + 1)
        base = int(min(rts.min(), tgt.min()))
        span = int(max(rts.max(), tgt.max())) - base + 2
        if k * span >= 2**62:  # cannot pack (ts spread over centuries): search per tick
            return _bsearch_rows(self.ts, rows, lo, n0 - 1, tgt, cap)
        p = np.searchsorted(owner * span + (rts - base), sidx * span + (tgt - base), side="right") - 1
        ok = p >= offs[sidx]
        seq = np.where(ok, seqs[np.maximum(p, 0)], -1)
        return np.where(seq >= lo, seq, -1)

    def _search_batch(self, g: Grouped, target: I64) -> I64:
        """Per tick, the last index j in the grouped batch with same segment and ts <= target."""
        n = len(g)
        base = int(min(g.ts.min(), target.min()))
        span = int(max(g.ts.max(), target.max())) - base + 2
        nseg = int(g.starts.shape[0])
        if nseg * span < 2**62:
            # One searchsorted over (segment, ts) packed into a single sorted int64 key.
            key = g.seg_of * span + (g.ts - base)
            q = g.seg_of * span + (target - base)
            return np.searchsorted(key, q, side="right").astype(np.int64) - 1
        seg_start = g.starts[g.seg_of]
        ts = g.ts
        return bsearch_last_le(lambda k: ts[k], seg_start, np.arange(n) - 1, target)

    def write(self, g: Grouped) -> int:
        """Append the accepted ticks to their rings; returns how many old points were overwritten."""
        cap = self.capacity
        lens = g.ends - g.starts
        n0 = self.count[g.seg_rows]
        keep = np.flatnonzero(g.rank >= (lens - cap)[g.seg_of])
        slot = (n0[g.seg_of[keep]] + g.rank[keep]) % cap
        self.ts[g.rows[keep], slot] = g.ts[keep]
        self.price[g.rows[keep], slot] = g.price[keep]
        evicted = int(np.maximum(0, np.minimum(lens, n0 + lens - cap)).sum())
        last = g.ends - 1
        self.count[g.seg_rows] = n0 + lens
        self.last_ts[g.seg_rows] = g.ts[last]
        self.last_price[g.seg_rows] = g.price[last]
        return evicted

    def points(self, row: int) -> tuple[I64, F64]:
        """The ring content of one row, oldest first (all held points, not only the horizon)."""
        n = int(self.count[row])
        k = min(n, self.capacity)
        slots = np.arange(n - k, n) % self.capacity
        return self.ts[row, slots], self.price[row, slots]

    def ordered(self, rows: I64) -> tuple[I64, F64, B]:
        """Ring contents of ``rows`` unrotated (oldest first) with a mask of held points."""
        cap = self.capacity
        n = self.count[rows]
        k = np.minimum(n, cap)
        pos = np.arange(cap)
        slots = (n - k)[:, None] + pos[None, :]
        held = pos[None, :] < k[:, None]
        slots %= cap
        return self.ts[rows[:, None], slots], self.price[rows[:, None], slots], held


def _bsearch_rows(ts_buf: I64, rows: I64, lo: I64, hi: I64, target: I64, cap: int) -> I64:
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
        ok = flat.take(row_base + mid % cap) <= target
        ok &= n > 0
        base = np.where(ok, mid + 1, base)
        n = np.where(ok, n - half - 1, half)
    return base - 1
