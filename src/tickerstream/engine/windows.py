"""Per-symbol rolling windows of (ts, price) in 2-D numpy ring buffers, fed a whole batch at a time.

One ring per distinct horizon (each move horizon and ``windows.horizon_s``). Row ``r`` of a ring's
``ts``/``price`` (shape rows x capacity) is one symbol's ring; ``count[r]`` is the number of points
ever written to it, so point number ``s`` lives in slot ``s % capacity`` and the ring holds sequence
numbers ``[max(0, count - capacity), count)``. Rows grow by half; a row is never moved.

**Any cadence, bounded memory.** A ring does not keep every tick: it keeps the first accepted tick
of each time bucket of ``bucket_ms = ceil(h * (1 + anchor_slack) / (capacity - 2))``. So a ring of
``capacity`` points always spans the horizon plus its slack, at one tick a second as well as at one
tick an hour, and the as-of point found for ``ts - h`` is at most one bucket older than the latest
tick at or before ``ts - h`` (at the defaults, 256 points: 21 s for 1 h, 8.5 min for 24 h, i.e.
0.6 % of the horizon). At slow cadence every tick is its own bucket and nothing is thinned. Which
ticks a ring keeps depends only on the ticks' ts, never on how the stream is cut into batches.

Memory at the defaults (two rings of 256 points of ts, price, variance rate and quantum exponent):
2 x (256 x 25 B + 8 B) = 12,816 B of rings per series, plus 41 B of per-row scalars here, 25 B per
move horizon in the detector and 9 B for the 24 h change check (12,916 B per row).

Policy for ticks that do not extend a symbol's series (counted, never merged):
- **duplicate**: same series and ts as the latest accepted tick: dropped, the first one wins;
- **late**: ts older than the latest accepted ts: dropped. Ticks arrive per series in event-time
  order (Kafka keys by symbol); an older tick is a replayed or re-scraped snapshot, and inserting it
  into the past would rewrite moves already published.

Volatility is estimated per unit of time (see ``returns_and_vol``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    quantum: F64  # per tick: the quantum in effect (shown digits, else the series' estimate); 0 = none
    starts: I64  # index of each segment's first tick
    ends: I64  # one past each segment's last tick
    seg_rows: I64
    seg_of: I64  # per tick: index of its segment
    rank: I64  # per tick: position within its segment
    late: int
    duplicates: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def per_tick(self, per_segment: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """``per_segment[seg_of]``: segments are contiguous runs, so a repeat (a few copies per
        segment) instead of a gather per tick, about 4x cheaper."""
        return np.repeat(per_segment, self.ends - self.starts)


def stable_order(rows: I64) -> I64:
    """``np.argsort(rows, kind="stable")``, computed on 16-bit keys when the rows fit: numpy sorts
    8/16-bit integers stably by radix sort, O(n), about 3x faster than the merge sort it uses for
    int64 at 100,000 ticks. A stable order is unique, so the result is the same either way."""
    if rows.size and int(rows.max()) < 2**16:
        out: I64 = np.argsort(rows.astype(np.uint16), kind="stable")
    else:
        out = np.argsort(rows, kind="stable")
    return out


def group_and_accept(rows: I64, ts: I64, price: F64, quantum: F64, last_ts: I64) -> Grouped:
    """Group a batch by row (stable, keeping stream order) and drop late ticks and duplicates."""
    order = stable_order(rows)
    r = rows[order]
    t = ts[order]
    n = r.shape[0]
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(r[1:], r[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    # The running max of earlier ts in the row; while a row's ts never decrease within the batch
    # (the normal case) that is simply the previous tick's ts, or the row's last accepted ts (one
    # gather per row, repeated over its ticks: cheaper than a gather per tick).
    prev_max = np.empty(n, dtype=np.int64)
    prev_max[1:] = t[:-1]
    prev_max[first] = NO_TS
    np.maximum(prev_max, np.repeat(last_ts[r[starts]], ends - starts), out=prev_max)
    decreasing = np.flatnonzero(~first[1:] & (t[1:] < t[:-1])) + 1
    if decreasing.size:
        for s in np.unique(np.searchsorted(starts, decreasing, side="right") - 1):
            lo = int(starts[s])
            hi = int(ends[s])
            run = np.maximum.accumulate(t[lo:hi])
            prev_max[lo + 1 : hi] = np.maximum(run[:-1], last_ts[r[lo]])
    accepted = t > prev_max
    duplicates = int(np.count_nonzero(t == prev_max))
    late = n - int(np.count_nonzero(accepted)) - duplicates
    if late or duplicates:  # the common case drops nothing: no regrouping, no gathers per tick
        keep = np.flatnonzero(accepted)
        order = order[keep]
        r = r[keep]
        t = t[keep]
        first = np.empty(r.shape[0], dtype=bool)
        first[:1] = True
        np.not_equal(r[1:], r[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        ends = np.append(starts[1:], r.shape[0])
    m = r.shape[0]
    seg_of = np.cumsum(first) - 1
    rank = np.arange(m, dtype=np.int64) - np.repeat(starts, ends - starts)
    return Grouped(
        order, r, t, price[order], quantum[order], starts, ends, r[starts], seg_of, rank, late, duplicates
    )


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


#: Decimals past which a price is taken as unrounded (a float printed with ~15 significant digits).
MAX_SIGNIFICANT = 12
#: ``decimals`` value meaning "no visible rounding": quantum 0.
UNROUNDED = 16
#: An estimated quantum is at most a cent: a price that happens to print as ``100.0`` (or ``1.0``)
#: is far more likely a rounder number than a page that shows whole units of a 100-dollar asset.
MIN_ESTIMATED_DECIMALS = 2


def price_decimals(price: F64) -> I64:
    """Per price, the fewest decimals that print it exactly (``0.000019`` -> 6, ``104442.98`` -> 2).

    ``UNROUNDED`` when that takes more than ``MAX_SIGNIFICANT`` significant digits. "Prints exactly"
    is monotone in the number of decimals, so a vectorised binary search needs 4 passes for 0..15.
    """
    lo = np.zeros(price.shape[0], dtype=np.int64)
    hi = np.full(price.shape[0], UNROUNDED, dtype=np.int64)  # hi: smallest known to print exactly
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        scaled = price * 10.0**mid
        # float noise (0.1 + 0.2 = 0.30000000000000004) is within 1e-12 of the shown digits
        exact = np.abs(scaled - np.round(scaled)) <= 1e-12 * np.maximum(scaled, 1.0)
        hi = np.where(active & exact, mid, hi)
        lo = np.where(active & ~exact, mid + 1, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        significant = hi + np.floor(np.log10(price)).astype(np.int64) + 1
    return np.where(significant > MAX_SIGNIFICANT, UNROUNDED, hi)


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


class Windows:
    """The rings and the per-row scalars that summarise a series (last point, volatility, quantum)."""

    def __init__(
        self, horizons_s: list[int], capacity: int, anchor_slack: float, halflife_s: float, rows: int = 64
    ) -> None:
        self.capacity = capacity
        self.halflife_ms = halflife_s * 1000.0
        self.rows = 0
        self.rings = [
            Ring(
                h * 1000,
                max(1, math.ceil(h * 1000 * (1.0 + anchor_slack) / (capacity - 2))),
                np.zeros((0, capacity), dtype=np.int64),
                np.zeros((0, capacity), dtype=np.float64),
                np.zeros(0, dtype=np.int64),
                np.zeros((0, capacity), dtype=np.float64),
                np.zeros((0, capacity), dtype=np.int8),
            )
            for h in sorted(set(horizons_s))
        ]
        self.last_ts = np.zeros(0, dtype=np.int64)
        self.last_price = np.zeros(0, dtype=np.float64)
        self.first_ts = np.zeros(0, dtype=np.int64)  # ts of the series' first point (EWMA weight)
        self.var = np.zeros(0, dtype=np.float64)  # EWMA of squared returns per second (not debiased)
        self.n_ret = np.zeros(0, dtype=np.int64)  # returns seen (z-score warm-up)
        self.decimals = np.zeros(0, dtype=np.int8)  # finest decimals seen (quantum estimate); -1 none
        self.grow(rows)

    def kept(self, g: Grouped) -> list[B]:
        """Per ring, which accepted ticks it keeps: the first accepted tick of each bucket, i.e. whose
        bucket differs from that of the series' previous accepted tick (none: NO_TS, and as ts are
        >= 0, NO_TS // bucket is -1, never a bucket). The previous tick's bucket is the bucket array
        shifted by one: one integer division per tick and ring, not two."""
        out: list[B] = []
        last = self.last_ts[g.seg_rows]
        for r in self.rings:
            bucket = g.ts // r.bucket_ms
            prev = np.empty_like(bucket)
            prev[1:] = bucket[:-1]
            prev[g.starts] = last // r.bucket_ms
            out.append(bucket != prev)
        return out

    def ring(self, horizon_s: int) -> Ring:
        return next(r for r in self.rings if r.horizon_ms == horizon_s * 1000)

    def grow(self, rows: int) -> None:
        """Make room for at least ``rows`` rows, growing by half (amortised O(1) appends, at most
        1.5x the rows in use, where doubling would allocate up to 2x at 10,000 symbols)."""
        if rows <= self.rows:
            return
        new = max(rows, self.rows + self.rows // 2)
        old = self.rows

        def ext(a: Any, fill: float) -> Any:
            out = np.full((new, *a.shape[1:]), fill, dtype=a.dtype)
            out[:old] = a[:old]
            return out

        for r in self.rings:
            r.ts = ext(r.ts, 0)
            r.price = ext(r.price, 0.0)
            r.var = ext(r.var, np.nan)
            r.qexp = ext(r.qexp, NO_Q)
            r.count = ext(r.count, 0)
        self.last_ts = ext(self.last_ts, NO_TS)
        self.last_price = ext(self.last_price, np.nan)
        self.first_ts = ext(self.first_ts, NO_TS)
        self.var = ext(self.var, 0.0)
        self.n_ret = ext(self.n_ret, 0)
        self.decimals = ext(self.decimals, -1)
        self.rows = new

    def reset(self, rows: I64) -> None:
        """Empty the given rows (series dropped; the row may be reused)."""
        for r in self.rings:
            r.count[rows] = 0
        self.last_ts[rows] = NO_TS
        self.last_price[rows] = np.nan
        self.first_ts[rows] = NO_TS
        self.var[rows] = 0.0
        self.n_ret[rows] = 0
        self.decimals[rows] = -1

    def arrays(self) -> list[npt.NDArray[Any]]:
        out: list[npt.NDArray[Any]] = [self.last_ts, self.last_price, self.first_ts, self.var, self.n_ret]
        out.append(self.decimals)
        for r in self.rings:
            out += [r.ts, r.price, r.var, r.qexp, r.count]
        return out

    def nbytes_per_row(self) -> int:
        return sum(a.itemsize * (a.size // max(self.rows, 1)) for a in self.arrays())

    def quantum(self, g: Grouped) -> F64:
        """Per accepted tick, the price quantum in effect: the one the tick carries (the digits its
        page showed), else the series' estimate: ten to the minus the most decimals any of its
        prices without a quantum needed so far, at least ``MIN_ESTIMATED_DECIMALS`` (0: prices look
        unrounded). Updates the estimate."""
        given = g.quantum
        unknown = np.isnan(given)
        if not unknown.any():
            return given
        dec = np.full(len(g), -1, dtype=np.int64)
        dec[unknown] = np.maximum(price_decimals(g.price[unknown]), MIN_ESTIMATED_DECIMALS)
        dec[g.starts] = np.maximum(dec[g.starts], self.decimals[g.seg_rows])
        off = g.seg_of * 64
        running = np.maximum.accumulate(dec + off) - off
        self.decimals[g.seg_rows] = running[g.ends - 1]
        est = np.where(running >= UNROUNDED, 0.0, 10.0 ** (-running.astype(np.float64)))
        return np.where(unknown, est, given)

    def returns_and_vol(self, g: Grouped, q: F64, kept: B) -> tuple[F64, I64, F64]:
        """Per accepted tick: the variance rate (per second), the return count and the EWMA's total
        weight (``1 - 0.5 ** (history / halflife)``: 0.5 after one half-life) *before* it.

        Volatility per unit of time from the points of the longest ring (``kept``: the first tick
        of each of its time buckets, every tick at slow cadence): each return between two such
        points enters as ``r^2 / dt`` (dt in seconds) with the weight ``1 - 0.5 ** (dt / halflife)``,
        so a 6-hour gap weighs what 6 hours of ticks would, and the estimate is a variance per second
        whatever the cadence. Sampling at the bucket (minutes at the defaults) rather than tick by
        tick keeps display rounding from passing for volatility at fast cadence, where consecutive
        ticks differ by a quantum back and forth; and each squared return is corrected for the
        rounding noise it carries on average (``(q / price)^2 / 6``: two errors uniform in +-q/2).
        The variance excludes the tick's own return so a shock is measured against the calm before
        it; it is debiased for its start at zero by the total weight
        ``1 - 0.5 ** ((ts_last_point - first_ts) / halflife)``.
        """
        ring = self.rings[-1]
        cap = ring.capacity
        k_idx = np.flatnonzero(kept)
        m = k_idx.size
        seg_k = g.seg_of[k_idx]
        price_k = g.price[k_idx]
        ts_k = g.ts[k_idx]
        # Runs of kept ticks per segment (only segments with one): what is per segment is read once
        # per run and repeated, not gathered per kept tick.
        first_k = np.empty(m, dtype=bool)
        first_k[:1] = True
        np.not_equal(seg_k[1:], seg_k[:-1], out=first_k[1:])
        starts_k = np.flatnonzero(first_k)
        ends_k = np.append(starts_k[1:], m)
        lens_k = ends_k - starts_k
        segs_k = seg_k[starts_k]
        rows_seg_k = g.seg_rows[segs_k]
        # Previous point of each kept tick: the previous kept tick of its segment, else the ring's last.
        prev = np.empty(m, dtype=np.float64)
        prev_ts = np.empty(m, dtype=np.int64)
        prev[1:] = price_k[:-1]
        prev_ts[1:] = ts_k[:-1]
        count = ring.count[rows_seg_k]
        has_pt = count > 0
        last_slot = np.where(has_pt, rows_seg_k * cap + _slot(count - 1, cap), 0)
        prev[starts_k] = np.where(has_pt, ring.price.reshape(-1).take(last_slot), np.nan)
        prev_ts[starts_k] = np.where(has_pt, ring.ts.reshape(-1).take(last_slot), NO_TS)
        valid = ~np.isnan(prev)
        dt_ms = (ts_k - prev_ts).astype(np.float64)
        # Rounding noise: each shown price is the true one plus an error uniform in +-q/2 (variance
        # q^2/12), so a shown return's square carries 2 q^2/12 of it on average: taken off.
        q_rel = q[k_idx] / price_k
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.log(price_k / prev)
            sq = r * r - q_rel * q_rel / 6.0
        decay = np.where(valid, 0.5 ** (dt_ms / self.halflife_ms), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            b = np.where(valid, (1.0 - decay) * sq / (dt_ms / 1000.0), 0.0)
        b[starts_k] += decay[starts_k] * self.var[rows_seg_k]
        v_after = segmented_recurrence(decay, b, starts_k, lens_k)
        n_after = np.cumsum(valid)
        base = np.where(starts_k > 0, n_after[np.maximum(starts_k - 1, 0)], 0)
        n_after += np.repeat(self.n_ret[rows_seg_k] - base, lens_k)
        first = self.first_ts[g.seg_rows]
        first = np.where(first == NO_TS, g.ts[g.starts], first)
        self.first_ts[g.seg_rows] = first
        hl = self.halflife_ms
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # Debiased rates, computed once per state (per kept tick, and per row before the batch)
            # rather than per tick. With no point yet the weight is meaningless: masked by n == 0.
            # The noise correction can take a quiet series below zero: no volatility seen, floors apply.
            n0 = self.n_ret[g.seg_rows]
            w0 = 1.0 - 0.5 ** ((ring_ts_all(ring, g.seg_rows) - first).astype(np.float64) / hl)
            r0 = np.where(n0 > 0, np.maximum(self.var[g.seg_rows] / w0, 0.0), np.nan)
            wk = 1.0 - 0.5 ** ((ts_k - np.repeat(first[segs_k], lens_k)).astype(np.float64) / hl)
            rk = np.where(n_after > 0, np.maximum(v_after / wk, 0.0), np.nan)
        # Per tick: the state after the last kept tick strictly before it, else the pre-batch state
        # of its segment. Both kinds of state sit in one array (segments first, then kept ticks),
        # so each value is one gather per tick.
        ck = np.cumsum(kept)
        before_seg = np.where(g.starts > 0, ck[np.maximum(g.starts - 1, 0)], 0)
        before_tick = g.per_tick(before_seg)
        j = ck - kept - before_tick  # kept ticks of the segment strictly before tick i
        nseg = g.seg_rows.shape[0]
        at = np.where(j > 0, before_tick + j - 1 + nseg, g.seg_of)
        v_rate = np.concatenate([r0, rk]).take(at)
        n_before = np.concatenate([n0, n_after]).take(at)
        weight = np.concatenate([w0, wk]).take(at)
        if m:
            self.var[rows_seg_k] = v_after[ends_k - 1]
            self.n_ret[rows_seg_k] = n_after[ends_k - 1]
        weight = np.where(n_before > 0, weight, 0.0)
        return v_rate, n_before, weight

    def asof(
        self, ring: Ring, g: Grouped, kept: B, target: I64, v_rate: F64, qexp: npt.NDArray[np.int8]
    ) -> tuple[I64, F64, F64, F64]:
        """Per accepted tick i: the latest point of ``ring`` with ts <= target[i] among the points the
        ring held just before tick i (its last ``capacity`` kept points). Returns its ts, price,
        variance rate and quantum, or (NO_TS, NaN, NaN, NaN). ``kept``: which ticks of ``g`` the ring
        keeps; ``v_rate`` and ``qexp`` the batch's variance rates (``returns_and_vol``) and quantum
        exponents. Must run before ``write``."""
        n = len(g)
        cap = ring.capacity
        all_kept = bool(kept.all())  # the common case at slow cadence: nothing thinned
        w = np.arange(n) if all_kept else np.flatnonzero(kept)
        # Per tick, how many kept ticks precede it in its segment (its rank among the ring's new points).
        if all_kept:
            wrank = g.rank
        else:
            ck: I64 = np.cumsum(kept) - kept
            wrank = ck - g.per_tick(ck[g.starts])
        a_ts = np.full(n, NO_TS, dtype=np.int64)
        a_px = np.full(n, np.nan)
        a_var = np.full(n, np.nan)
        a_qx = np.full(n, NO_Q, dtype=np.int8)
        in_batch = np.zeros(n, dtype=bool)
        # An in-batch anchor needs a target at or after the segment's first tick: a horizon longer
        # than the batch's span (24 h on a few hours of ticks) never finds one, so skip the search.
        if w.size and bool((target >= g.per_tick(g.ts[g.starts])).any()):
            j = _search_kept(g, w, target)  # index into w, or -1
            jj = w[np.maximum(j, 0)]
            in_batch = (j >= 0) & (g.seg_of[jj] == g.seg_of) & (wrank[jj] >= wrank - cap)
            src = jj[in_batch]
            a_ts[in_batch] = g.ts[src]
            a_px[in_batch] = g.price[src]
            a_var[in_batch] = v_rate[src]
            a_qx[in_batch] = qexp[src]
        # Not in the batch: search the ring as it was before the batch.
        rest = np.flatnonzero(~in_batch & (wrank < cap))
        if rest.size:
            seq = _search_ring(ring, g, rest, wrank[rest], target[rest])
            ok = seq >= 0
            hit = rest[ok]
            flat = g.rows[hit] * cap + _slot(seq[ok], cap)
            a_ts[hit] = ring.ts.reshape(-1).take(flat)
            a_px[hit] = ring.price.reshape(-1).take(flat)
            a_var[hit] = ring.var.reshape(-1).take(flat)
            a_qx[hit] = ring.qexp.reshape(-1).take(flat)
        return a_ts, a_px, a_var, exponent_quanta(a_qx)

    def write(self, g: Grouped, kept: list[B], v_rate: F64, qexp: npt.NDArray[np.int8]) -> int:
        """Append the kept ticks to each ring and update the last point; returns how many old points
        the longest ring overwrote (its capacity, not the horizon, pushed them out)."""
        evicted = 0
        for ring, k in zip(self.rings, kept, strict=True):
            evicted = _append(ring, g, k, v_rate, qexp)
        last = g.ends - 1
        self.last_ts[g.seg_rows] = g.ts[last]
        self.last_price[g.seg_rows] = g.price[last]
        return evicted

    def points(self, row: int, ring: Ring | None = None) -> tuple[I64, F64]:
        """The content of one row of ``ring`` (default: the longest), oldest first."""
        r = ring or self.rings[-1]
        n = int(r.count[row])
        k = min(n, r.capacity)
        slots = np.arange(n - k, n) % r.capacity
        return r.ts[row, slots], r.price[row, slots]

    def ordered(self, ring: Ring, rows: I64) -> tuple[I64, F64, B]:
        """Contents of ``rows`` of ``ring`` unrotated (oldest first) with a mask of held points."""
        cap = ring.capacity
        n = ring.count[rows]
        k = np.minimum(n, cap)
        pos = np.arange(cap)
        slots = (n - k)[:, None] + pos[None, :]
        held = pos[None, :] < k[:, None]
        slots %= cap
        return ring.ts[rows[:, None], slots], ring.price[rows[:, None], slots], held


#: ``qexp`` of a point whose quantum is unknown (or zero: a price that looks unrounded).
NO_Q = -128


def quantum_exponents(q: F64) -> npt.NDArray[np.int8]:
    """Each quantum as the power of ten at or above it (1 B per ring point instead of 8; rounding
    up only makes a decision more cautious): 0.01 -> -2, 1e-6 -> -6, 0.05 -> -1; NaN/0 -> NO_Q.

    Per tick on the hot path, so no log10 (a quarter of the engine's whole budget per tick): a
    quantum in [2**k, 2**(k+1)) has one of two answers, since 2 < 10. The float's exponent bits
    give k, a table the smaller answer and the threshold above which it is the larger one."""
    out = np.full(q.shape, NO_Q, dtype=np.int8)
    ok = (q > 0) & (q < 1e127)  # NaN compares false: unknown
    if not ok.any():
        return out
    every = bool(ok.all())
    qq = q if every else q[ok]
    k = qq.view(np.int64) >> 52  # the biased binary exponent (the sign bit is 0: qq > 0)
    e = _EXP_LOW.take(k) + (_EXP_LOW_LIMIT.take(k) < qq)
    if every:
        out[:] = e
    else:
        out[ok] = e
    return out


def _smallest_exponent_at_or_above(x: float) -> int:
    """The smallest e in [-127, 127] with 10 ** e >= x, allowing float noise of 1e-9 (0.01 -> -2)."""
    e = min(max(-127, math.floor(math.log10(x)) - 1), 127) if x > 0 else -127
    while e < 127 and 10.0**e * (1.0 + 1e-9) < x:
        e += 1
    return e


def _exponent_tables() -> tuple[npt.NDArray[np.int8], F64]:
    """Per biased binary exponent k (a quantum in [2**(k-1023), 2**(k-1022))): the answer at the
    bottom of that range, and the quantum beyond which the answer is one more."""
    low = np.empty(2048, dtype=np.int8)
    limit = np.full(2048, np.inf)
    for k in range(2048):
        bottom = math.ldexp(1.0, k - 1023) if 0 < k < 2047 else 0.0 if k == 0 else math.inf
        e = _smallest_exponent_at_or_above(bottom) if math.isfinite(bottom) else 127
        low[k] = e
        if e < 127:
            limit[k] = 10.0**e * (1.0 + 1e-9)
    return low, limit


_EXP_LOW, _EXP_LOW_LIMIT = _exponent_tables()


#: 10 ** e for every int8 e read as a byte (``e & 0xFF``), NaN at NO_Q: a gather per tick instead
#: of a pow (this runs per tick and horizon on the hot path, where a pow costs more than the rest
#: of the anchor lookup), indexed by the raw byte so that no conversion pass precedes it.
_QUANTUM_OF_BYTE = np.array(
    [np.nan if b == NO_Q & 0xFF else 10.0 ** (b - 256 if b >= 128 else b) for b in range(256)]
)


def exponent_quanta(qexp: npt.NDArray[np.int8]) -> F64:
    """Inverse of ``quantum_exponents``: 10 ** e, NaN for NO_Q."""
    out: F64 = _QUANTUM_OF_BYTE.take(qexp.view(np.uint8))
    return out


def _slot(seq: I64, cap: int) -> I64:
    """``seq % cap`` (numpy's floor modulo). With a power-of-two capacity (the default 256) that is
    ``seq & (cap - 1)`` for every int64, negatives included, and a bitwise and costs a tenth of an
    integer division."""
    out: I64 = seq & (cap - 1) if cap & (cap - 1) == 0 else seq % cap
    return out


def ring_ts_all(ring: Ring, rows: I64) -> I64:
    """Per row, the ts of the ring's newest point (NO_TS when empty)."""
    cap = ring.capacity
    cnt = ring.count[rows]
    slot = rows * cap + _slot(np.maximum(cnt - 1, 0), cap)
    out: I64 = np.where(cnt > 0, ring.ts.reshape(-1).take(slot), NO_TS)
    return out


def _append(ring: Ring, g: Grouped, kept: B, v_rate: F64, qexp: npt.NDArray[np.int8]) -> int:
    cap = ring.capacity
    ck: I64 = np.cumsum(kept)
    before: I64 = np.where(g.starts > 0, ck[g.starts - 1], 0)
    lens: I64 = ck[g.ends - 1] - before  # kept ticks per segment
    wrank: I64 = ck - kept - g.per_tick(before)
    n0 = ring.count[g.seg_rows]
    keep = np.flatnonzero(kept & (wrank >= g.per_tick(lens - cap)))
    flat = g.rows[keep] * cap + _slot(n0[g.seg_of[keep]] + wrank[keep], cap)
    ring.ts.reshape(-1)[flat] = g.ts[keep]
    ring.price.reshape(-1)[flat] = g.price[keep]
    ring.var.reshape(-1)[flat] = v_rate[keep]
    ring.qexp.reshape(-1)[flat] = qexp[keep]
    ring.count[g.seg_rows] = n0 + lens
    return int(np.maximum(0, np.minimum(lens, n0 + lens - cap)).sum())


def _search_kept(g: Grouped, w: I64, target: I64) -> I64:
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


def _search_ring(ring: Ring, g: Grouped, rest: I64, rank: I64, tgt: I64) -> I64:
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
    found = _bsearch_rows(
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
    rts = ring.ts.reshape(-1).take(rows[fi][owner] * cap + _slot(seqs, cap))
    sidx = np.repeat(np.arange(k), la - fi + 1)
    base = int(min(rts.min(), tgt.min()))
    span = int(max(rts.max(), tgt.max())) - base + 2
    if k * span >= 2**62:  # cannot pack (ts spread over centuries): search per tick
        return _bsearch_rows(ring.ts, rows, lo, n0 - 1, tgt, cap)
    p = np.searchsorted(owner * span + (rts - base), sidx * span + (tgt - base), side="right") - 1
    ok = p >= offs[sidx]
    seq = np.where(ok, seqs[np.maximum(p, 0)], -1)
    return np.where(seq >= lo, seq, -1)


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
        ok = flat.take(row_base + _slot(mid, cap)) <= target
        ok &= n > 0
        base = np.where(ok, mid + 1, base)
        n = np.where(ok, n - half - 1, half)
    return base - 1
