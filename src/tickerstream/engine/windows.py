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
2 x (256 x 25 B + 8 B) = 12,816 B of rings per series, plus 192 B of per-row scalars here (74 B of
them the volatility's last points, 13 B the start of the last price's run, its repeats and whether
it is frozen), 33 B per move horizon and 72 B of the latest pages (``spike.py``) in the detector,
and 9 B for the 24 h change check (13,155 B per row).

Which ticks extend a series (late ticks and duplicates do not) is decided in ``grouping.py``.

Volatility is estimated per unit of time (see ``returns_and_vol``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import NO_TS, Grouped, segmented_recurrence
from tickerstream.engine.lone import PAIR_MS, Held, lone_between, lone_pair, lone_prints
from tickerstream.engine.quanta import (
    MIN_ESTIMATED_DECIMALS,
    NO_Q,
    UNROUNDED,
    exponent_quanta,
    price_decimals,
    quantum_exponents,
)
from tickerstream.engine.rings import Ring, append_kept, ring_slot, search_kept, search_ring

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: A quantum at least this share of the price (a cent at $0.50) can hold one error for hours: a
#: calm major moves about 2 % a day, so its price may sit inside one such step all day
#: (``Windows._finest_points``).
COARSE_REL = 0.02

#: The weight the estimate before a return keeps at least: one return across a gap longer than the
#: half-life (a source back after 36 h at the same price) took two thirds of the weight, and its
#: one sample of the variance (zero there) cut sigma by 0.6; the next ordinary page read z 6.7.
MIN_DECAY = 0.5

#: How a volatility point was left out (``Windows.vol_gone``): not, as a lone print, as the second
#: or the first point of a lone pair.
GONE_NONE, GONE_PRINT, GONE_PAIR_SECOND, GONE_PAIR_FIRST = 0, 1, 2, 3

#: The share of a series' squared returns, as shown, that its volatility never goes below: the
#: rounding correction may take off the rest at most (``Windows.var_raw``).
MIN_SHOWN_SHARE = 0.2


class Vol(NamedTuple):
    """Per accepted tick: a state of the volatility estimate."""

    rate: F64  # variance rate per second, debiased; NaN before any return
    n: I64  # returns it rests on
    weight: F64  # the EWMA's total weight, ``1 - 0.5 ** (history / halflife)`` (0 without a return)


class Runs(NamedTuple):
    """The points of a batch (ticks ``k_idx``) in runs, one per segment that has any."""

    k_idx: I64
    first_k: B  # per point: the first of its run
    starts_k: I64  # per run: its first point's index among the points
    ends_k: I64
    lens_k: I64
    segs_k: I64  # per run: its segment


def _kept_ranks(g: Grouped, kept: B) -> tuple[I64, I64]:
    """The kept ticks of ``g`` and, per tick, how many kept ticks precede it in its segment (its
    rank among a ring's new points)."""
    if kept.all():  # the common case at slow cadence: nothing thinned
        return np.arange(len(g)), g.rank
    ck: I64 = np.cumsum(kept) - kept
    return np.flatnonzero(kept), ck - g.per_tick(ck[g.starts])


class Pairs(NamedTuple):
    """Lone pairs the volatility leaves out, as known with a batch (``Windows._lone_pairs``)."""

    first: B  # per point: the first of a pair in the batch (it and the next point are left out)
    from_b: B  # per run: the last point before the batch and the run's first point are one
    from_c: B  # per run: the last two points before the batch are one


def _return_counts(q_a: F64, p_a: F64, q_b: F64, p_b: F64) -> B:
    """Whether a return between two points (quantum ``q``, price ``p``) is one of the volatility's:
    both points of one quantum (a power of ten), or neither's quantum ``COARSE_REL`` of its price."""
    with np.errstate(invalid="ignore"):
        coarse = (q_a >= p_a * COARSE_REL) | (q_b >= p_b * COARSE_REL)
    out: B = ~coarse | (quantum_exponents(q_a) == quantum_exponents(q_b))
    return out


def _runs(g: Grouped, kept: B) -> Runs:
    """The runs of ``kept`` ticks per segment: what is per segment is read once per run and repeated,
    not gathered per point."""
    k_idx = np.flatnonzero(kept)
    m = k_idx.size
    seg_k = g.seg_of[k_idx]
    first_k = np.empty(m, dtype=bool)
    first_k[:1] = True
    np.not_equal(seg_k[1:], seg_k[:-1], out=first_k[1:])
    starts_k = np.flatnonzero(first_k)
    ends_k = np.append(starts_k[1:], m)
    return Runs(k_idx, first_k, starts_k, ends_k, ends_k - starts_k, seg_k[starts_k])


class _Ewma:
    """The volatility's EWMA recurrence over a batch's points in runs (``starts``, ``lens``,
    ``ends``, ``first``: per point, the first of its run), with the weight ``decay`` of the state
    before each point, leaving out the ``removed`` points (lone prints and pairs: the recurrence
    runs over the other points). A removed point's own state, what is known until the points after
    it tell, is one step from the point before it (a run's first: from the state before the batch
    that counts the points before it). At most two removed points are in a row, never a run's last.
    """

    def __init__(self, decay: F64, removed: B, starts: I64, lens: I64, ends: I64, first: B) -> None:
        self.decay, self.starts, self.lens, self.ends, self.first = decay, starts, lens, ends, first
        self.gone = np.flatnonzero(removed)
        if self.gone.size:
            self.keep = np.flatnonzero(~removed)
            self.lens_c = lens - np.add.reduceat(removed.astype(np.int64), starts)
            self.starts_c = np.cumsum(self.lens_c) - self.lens_c
            after_gone = np.zeros(removed.size, dtype=bool)
            after_gone[1:] = removed[:-1]
            after_gone[starts] = False
            # Removed points after a kept one (or a run's start), then the second ones of pairs.
            self.gone1 = self.gone[~after_gone[self.gone]]
            self.gone2 = self.gone[after_gone[self.gone]]
            self.run_of = np.cumsum(first) - 1

    def run(self, step: F64, init_kept: F64, init_own: F64, init_prev: F64) -> tuple[F64, F64, F64]:
        """Per point, the state after it, from each run's state before the batch plus ``step`` (its
        return's weighted term): ``init_kept`` for the run's first kept point (one step from the
        last point the estimate keeps), ``init_own`` for a removed first point (one step from the
        last point as it was counted). Per run: the state its last point's return was added to, and
        the state its point before that one's was (``init_prev`` when that point is the last one
        before the batch; meaningless when it is a removed one)."""
        decay, starts, lens, ends = self.decay, self.starts, self.lens, self.ends
        if not step.size:
            return step.copy(), init_kept, init_prev
        if not self.gone.size:
            b = step.copy()
            b[starts] += decay[starts] * init_kept
            v_after = segmented_recurrence(decay, b, starts, lens)
            last = ends - 1
            v_prev = np.where(lens > 1, v_after[np.maximum(last - 1, 0)], init_kept)
            v_prev2 = np.where(lens > 2, v_after[np.maximum(last - 2, 0)], init_kept)
            return v_after, v_prev, np.where(lens == 1, init_prev, v_prev2)
        keep, starts_c, lens_c = self.keep, self.starts_c, self.lens_c
        b_c = step[keep]
        d_c = decay[keep]
        b_c[starts_c] += d_c[starts_c] * init_kept
        v_c = segmented_recurrence(d_c, b_c, starts_c, lens_c)
        v_after = np.empty(step.size, dtype=np.float64)
        v_after[keep] = v_c
        g1 = self.gone1
        base = np.where(self.first[g1], init_own[self.run_of[g1]], v_after[np.maximum(g1 - 1, 0)])
        v_after[g1] = step[g1] + decay[g1] * base
        g2 = self.gone2
        v_after[g2] = step[g2] + decay[g2] * v_after[g2 - 1]
        last_c = starts_c + lens_c - 1
        v_prev = np.where(lens_c > 1, v_c[np.maximum(last_c - 1, 0)], init_kept)
        # The point before the last, when kept in the batch: the state before it is the kept one
        # before it (when removed, there is none: the caller says so).
        v_prev2 = np.where(lens_c > 2, v_c[np.maximum(last_c - 2, 0)], init_kept)
        return v_after, v_prev, np.where(lens == 1, init_prev, v_prev2)


class Windows:
    """The rings and the per-row scalars that summarise a series (last point, volatility, quantum)."""

    def __init__(
        self,
        horizons_s: list[int],
        capacity: int,
        anchor_slack: float,
        halflife_s: float,
        rows: int = 64,
        lone: tuple[float, float] | None = None,
    ) -> None:
        self.capacity = capacity
        self.halflife_ms = halflife_s * 1000.0
        #: (threshold, agreement) of a lone print the volatility leaves out (``lone_between``); None: none.
        self.lone = lone
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
        # ... before the return into the last point (from the point before it): what the estimate
        # goes back to should the last point turn out to be a lone print. NaN: unknown (restored
        # from a checkpoint without it, or no point yet): the last point is then kept as it is.
        self.var_prev = np.zeros(0, dtype=np.float64)
        # ... and before the return into the point before it: what it goes back to should the last
        # two points turn out to be a lone pair (NaN: unknown).
        self.var_prev2 = np.zeros(0, dtype=np.float64)
        # The same EWMA of the squared returns as shown, without the rounding correction (and before
        # the last point's return): the estimate never goes below ``MIN_SHOWN_SHARE`` of it
        # (``floored``).
        self.var_raw = np.zeros(0, dtype=np.float64)
        self.var_raw_prev = np.zeros(0, dtype=np.float64)
        self.var_raw_prev2 = np.zeros(0, dtype=np.float64)
        # The latest tick dropped as a scale jump: its price (NaN: none), which a jump within 2x of
        # it confirms, and ts (``scale.py``).
        self.held_price = np.zeros(0, dtype=np.float64)
        self.held_ts = np.zeros(0, dtype=np.int64)  # its ts (NO_TS: none)
        # The price before the latest confirmed scale jump (NaN: none): the scale a return to needs
        # two pages in a row.
        self.left_price = np.zeros(0, dtype=np.float64)
        self.n_ret = np.zeros(0, dtype=np.int64)  # returns seen (z-score warm-up)
        # The ts of the first tick of the run of the last taken price (``stale.py``; NO_TS: none).
        self.run_since = np.zeros(0, dtype=np.int64)
        # How many ticks repeated that price since, and whether the run was found frozen
        # (``stale.py``): a changed price then resumes it.
        self.run_repeats = np.zeros(0, dtype=np.int32)
        self.run_frozen = np.zeros(0, dtype=bool)
        self.decimals = np.zeros(0, dtype=np.int8)  # finest decimals seen (quantum estimate); -1 none
        # The last three points of the volatility, newest first (price, ts and quantum in effect):
        # where the next return starts and what tells a lone print or pair. They are the longest
        # ring's last points unless a coarser page's point was left out (``_finest_points``).
        self.vol_price = np.zeros((0, 3), dtype=np.float64)  # NaN: none
        self.vol_ts = np.zeros((0, 3), dtype=np.int64)  # NO_TS: none
        self.vol_q = np.zeros((0, 3), dtype=np.float64)
        # How the point before the newest, and the one before that, were left out (``GONE_*``):
        # whether a return was taken from them, and which point is the price back after a pair.
        self.vol_gone = np.zeros((0, 2), dtype=np.int8)
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
        self.var_prev = ext(self.var_prev, np.nan)
        self.var_prev2 = ext(self.var_prev2, np.nan)
        self.var_raw = ext(self.var_raw, 0.0)
        self.var_raw_prev = ext(self.var_raw_prev, np.nan)
        self.var_raw_prev2 = ext(self.var_raw_prev2, np.nan)
        self.held_price = ext(self.held_price, np.nan)
        self.held_ts = ext(self.held_ts, NO_TS)
        self.run_since = ext(self.run_since, NO_TS)
        self.run_repeats = ext(self.run_repeats, 0)
        self.run_frozen = ext(self.run_frozen, False)
        self.left_price = ext(self.left_price, np.nan)
        self.n_ret = ext(self.n_ret, 0)
        self.decimals = ext(self.decimals, -1)
        self.vol_price = ext(self.vol_price, np.nan)
        self.vol_ts = ext(self.vol_ts, NO_TS)
        self.vol_q = ext(self.vol_q, np.nan)
        self.vol_gone = ext(self.vol_gone, GONE_NONE)
        self.rows = new

    def reset(self, rows: I64) -> None:
        """Empty the given rows (series dropped; the row may be reused)."""
        for r in self.rings:
            r.count[rows] = 0
        self.last_ts[rows] = NO_TS
        self.last_price[rows] = np.nan
        self.first_ts[rows] = NO_TS
        self.var[rows] = 0.0
        self.var_prev[rows] = np.nan
        self.var_prev2[rows] = np.nan
        self.var_raw[rows] = 0.0
        self.var_raw_prev[rows] = np.nan
        self.var_raw_prev2[rows] = np.nan
        self.held_price[rows] = np.nan
        self.held_ts[rows] = NO_TS
        self.run_since[rows] = NO_TS
        self.run_repeats[rows] = 0
        self.run_frozen[rows] = False
        self.left_price[rows] = np.nan
        self.n_ret[rows] = 0
        self.decimals[rows] = -1
        self.vol_price[rows] = np.nan
        self.vol_ts[rows] = NO_TS
        self.vol_q[rows] = np.nan
        self.vol_gone[rows] = GONE_NONE

    def arrays(self) -> list[npt.NDArray[Any]]:
        out: list[npt.NDArray[Any]] = [self.last_ts, self.last_price, self.first_ts, self.var, self.var_prev]
        out += [self.var_prev2, self.var_raw, self.var_raw_prev, self.var_raw_prev2]
        out += [self.held_price, self.held_ts, self.left_price, self.n_ret]
        out += [self.run_since, self.run_repeats, self.run_frozen]
        out += [self.decimals, self.vol_price, self.vol_ts, self.vol_q, self.vol_gone]
        for r in self.rings:
            out += [r.ts, r.price, r.var, r.qexp, r.count]
        return out

    @staticmethod
    def floored(var: F64, raw: F64) -> F64:
        """The volatility's EWMA (not debiased) as used: never below ``MIN_SHOWN_SHARE`` of the
        squared returns as shown, nor below zero.

        Why: the rounding correction takes off each return's average noise, which is right when the
        endpoints' errors are independent and small next to the moves. A price inside one cent for
        hours (a cent of 0.5-2 % of the price) repeats one error, and a cents page beside a
        six-decimal one gives returns that are mostly that error: the corrected sum is then a small
        difference of large ones, noisy, and can sit near zero for hours (sigma at its floor, an
        ordinary hour read as z 6-9). Estimators of variance under noise truncate so; what is shown
        is never taken to be more than ``1 - MIN_SHOWN_SHARE`` rounding."""
        return np.maximum(np.maximum(var, raw * MIN_SHOWN_SHARE), 0.0)

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

    def returns_and_vol(self, g: Grouped, q: F64, kept: B) -> tuple[Vol, Vol]:
        """Per accepted tick: the variance rate (per second), the return count and the EWMA's total
        weight (``1 - 0.5 ** (history / halflife)``: 0.5 after one half-life) *before* it, and the
        same *with* its own return (when the tick is a point of the estimator, else the same state):
        what is known once its price is, the regime a move measured *from* this tick is judged by.

        Volatility per unit of time from the points of the longest ring (``kept``: the first tick
        of each of its time buckets, every tick at slow cadence): each return between two such
        points enters as ``r^2 / dt`` (dt in seconds) with the weight ``1 - 0.5 ** (dt / halflife)``,
        so a 6-hour gap weighs what 6 hours of ticks would, and the estimate is a variance per second
        whatever the cadence. Sampling at the bucket (minutes at the defaults) rather than tick by
        tick keeps display rounding from passing for volatility at fast cadence, where consecutive
        ticks differ by a quantum back and forth; and each squared return is corrected for the
        rounding noise it carries on average (``(q / price)^2 / 12`` of each endpoint, with its own
        page's quantum: an error uniform in +-q/2). A point of a coarser page than the series' recent
        finest is no point of the volatility (``_finest_points``): a return spans the points around it.
        The rate read is never below a share of the same EWMA without the correction (``floored``).
        The variance excludes the tick's own return so a shock is measured against the calm before
        it; it is debiased for its start at zero by the total weight
        ``1 - 0.5 ** ((ts_last_point - first_ts) / halflife)``.

        A point that the next one shows to be a lone print (``_lone_points``) is left out from then
        on: the next point's state is one step from the point before the print (from ``var_prev``,
        the variance before the last point's return, when the print is the last point before the
        batch), so
        the estimate is the one the stream without the print gives. The print's own state, what is
        known until the next point, counts it: a flash crash and a bad page look alike until then.
        """
        runs = _runs(g, kept)
        q_k = q[runs.k_idx]
        # One quantum (the common case): every point is the series' last point's quantum (none
        # yet: the run's first point's). Else the quanta as powers of ten decide (``_finest_points``).
        level = self.vol_q[g.seg_rows[runs.segs_k], 0]
        level = np.where(np.isnan(level), q_k[runs.starts_k], level)
        # ... and the points before the last one too: undoing a lone print or pair takes the return
        # from one of them.
        before = self.vol_q[g.seg_rows[runs.segs_k], 1:]
        e_k: npt.NDArray[np.int8] | None = None
        uniform = bool((q_k == np.repeat(level, runs.lens_k)).all())
        if not uniform or not bool(((before == level[:, None]) | np.isnan(before)).all()):
            e_k = quantum_exponents(q_k)
            coarse_k = q_k >= g.price[runs.k_idx] * COARSE_REL
            adm = self._finest_points(runs, e_k, coarse_k, g.ts[runs.k_idx], g.seg_rows[runs.segs_k])
            if adm is not None:
                # Points of a coarser page than the series' finest recent one are left out: the
                # volatility's points are the others, and a return spans from the previous one.
                kept = kept.copy()
                kept[runs.k_idx[~adm]] = False
                runs = _runs(g, kept)
                e_k, q_k = e_k[adm], q_k[adm]
        k_idx, first_k, starts_k, ends_k, lens_k, segs_k = runs
        m = k_idx.size
        rows_seg_k = g.seg_rows[segs_k]
        price_k = g.price[k_idx]
        ts_k = g.ts[k_idx]
        # Previous point of each point: the previous one of its segment in the batch, else the last
        # one before the batch.
        prev = np.empty(m, dtype=np.float64)
        prev_ts = np.empty(m, dtype=np.int64)
        # ... and its quantum relative to its price (its rounding noise)
        qr_cur = q_k / price_k
        prev_qr = np.empty(m, dtype=np.float64)
        prev[1:] = price_k[:-1]
        prev_ts[1:] = ts_k[:-1]
        prev_qr[1:] = qr_cur[:-1]
        prev[starts_k] = self.vol_price[rows_seg_k, 0]
        prev_ts[starts_k] = self.vol_ts[rows_seg_k, 0]
        q_start = self.vol_q[rows_seg_k, 0]
        with np.errstate(invalid="ignore"):
            prev_qr[starts_k] = q_start / prev[starts_k]
        var0 = self.var[rows_seg_k]
        raw0 = self.var_raw[rows_seg_k]
        n0_k = self.n_ret[rows_seg_k]
        # Only a point whose return from the point before it counts can be a lone print: one whose
        # return crosses quanta with a coarse end is no return (below), and may start the estimate
        # over; leaving it out later could not undo that tick by tick as it does in one batch.
        elig = None
        if e_k is not None:
            prev_e0 = np.empty(m, dtype=np.int8)
            prev_e0[1:] = e_k[:-1]
            prev_e0[starts_k] = quantum_exponents(q_start)
            with np.errstate(invalid="ignore"):
                elig = (prev_e0 == e_k) | ~((qr_cur >= COARSE_REL) | (prev_qr >= COARSE_REL))
        lone, from_ring, jump, raw = self._lone_points(price_k, prev, first_k, starts_k, rows_seg_k, elig)
        pairs = self._lone_pairs(
            runs, rows_seg_k, (price_k, prev, ts_k, prev_ts), elig, jump, (lone, raw), from_ring
        )
        # What a run's first point steps from when it is itself left out: the last point counted
        # (the state before the batch; copied only when a step back below changes that).
        stepped_back = from_ring | pairs.from_b | pairs.from_c
        own0, raw_own0, n_own0 = (
            (var0.copy(), raw0.copy(), n0_k.copy()) if stepped_back.any() else (var0, raw0, n0_k)
        )
        var_prev0, raw_prev0 = self.var_prev[rows_seg_k], self.var_raw_prev[rows_seg_k]
        prevs, state0 = (prev, prev_ts, prev_qr), (var0, raw0, n0_k)
        if from_ring.any():
            # The last point before the batch was a lone print (the run's first tick says so): the
            # estimate goes back to what it was before it, and the return is taken from the point
            # before it.
            q_start[from_ring] = self._step_back(from_ring, 1, rows_seg_k, starts_k, prevs, state0)
        if pairs.from_c.any():
            # The last two points before the batch were a lone pair: the same, two points back.
            q_start[pairs.from_c] = self._step_back(pairs.from_c, 2, rows_seg_k, starts_k, prevs, state0)
        q_b = None
        if pairs.from_b.any():
            # The last point before the batch and the run's first were a lone pair: the run's
            # second point steps from the point before the pair, from the state before it.
            q_b = self._step_back(pairs.from_b, 1, rows_seg_k, starts_k + 1, prevs, state0)
        lone_at = np.flatnonzero(lone)
        if lone_at.size:
            # A lone print in the batch: the tick after it takes its return from the point before it.
            after = lone_at + 1
            prev[after], prev_ts[after], prev_qr[after] = prev[lone_at], prev_ts[lone_at], prev_qr[lone_at]
        pair_at = np.flatnonzero(pairs.first)
        if pair_at.size:
            # ... and after a lone pair in the batch, from the point before the pair.
            after = pair_at + 2
            prev[after], prev_ts[after], prev_qr[after] = prev[pair_at], prev_ts[pair_at], prev_qr[pair_at]
        # How each point of the batch is left out, if any is (``GONE_*``; None: none is).
        how: npt.NDArray[np.int8] | None = None
        removed = lone
        any_removed = bool(lone_at.size or pair_at.size or pairs.from_b.any())
        if any_removed:
            how = np.where(lone, GONE_PRINT, GONE_NONE).astype(np.int8)
            how[pair_at], how[pair_at + 1] = GONE_PAIR_FIRST, GONE_PAIR_SECOND
            how[starts_k[pairs.from_b]] = GONE_PAIR_SECOND
            removed = how != GONE_NONE
        # A return with an endpoint whose quantum is at least COARSE_REL of its price counts only
        # between two points of one quantum (a power of ten): that endpoint's error can be the size
        # of the moves or larger (20 % of a $0.05 price in cents), no return. The first point of a
        # finer page after such a point starts the estimate over (what those points gave is no
        # estimate: see ``_finest_points``); the first of a coarser page, once the finer is gone,
        # continues it.
        valid = ~np.isnan(prev)
        restart = None
        if e_k is not None:
            prev_e = np.empty(m, dtype=np.int8)
            prev_e[1:] = e_k[:-1]
            prev_e[starts_k] = quantum_exponents(q_start)
            if lone_at.size:
                prev_e[lone_at + 1] = prev_e[lone_at]
            if pair_at.size:
                prev_e[pair_at + 2] = prev_e[pair_at]
            if q_b is not None:
                prev_e[starts_k[pairs.from_b] + 1] = quantum_exponents(q_b)
            # (a point under COARSE_REL after one under it: a return, each endpoint with its noise)
            coarse = qr_cur >= COARSE_REL
            prev_coarse = prev_qr >= COARSE_REL
            restart = valid & (e_k < prev_e) & prev_coarse
            valid &= (prev_e == e_k) | ~(coarse | prev_coarse)
        dt_ms = (ts_k - prev_ts).astype(np.float64)
        # Rounding noise: each shown price is the true one plus an error uniform in +-q/2 (variance
        # q^2/12) of its own page's quantum, so a shown return's square carries the two endpoints'
        # on average: taken off.
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.log(price_k / prev)
            sq = r * r - (qr_cur * qr_cur + prev_qr * prev_qr) / 12.0
        decay = np.where(valid, np.maximum(0.5 ** (dt_ms / self.halflife_ms), MIN_DECAY), 1.0)
        if restart is not None:
            decay[restart] = 0.0
        inc = valid & ~removed if any_removed else valid
        ewma = _Ewma(decay, removed, starts_k, lens_k, ends_k, first_k)
        with np.errstate(invalid="ignore", divide="ignore"):
            dt_s = dt_ms / 1000.0
            v_after, v_prev, v_prev2 = ewma.run(
                np.where(valid, (1.0 - decay) * sq / dt_s, 0.0), var0, own0, var_prev0
            )
            raw_after, raw_prev, raw_prev2 = ewma.run(
                np.where(valid, (1.0 - decay) * (r * r) / dt_s, 0.0), raw0, raw_own0, raw_prev0
            )
        n_after = np.cumsum(inc)
        base = np.where(starts_k > 0, n_after[np.maximum(starts_k - 1, 0)], 0)
        n_after += np.repeat(n0_k - base, lens_k)
        first = self.first_ts[g.seg_rows]
        first = np.where(first == NO_TS, g.ts[g.starts], first)
        first_k_ts = np.repeat(first[segs_k], lens_k)
        if restart is not None and restart.any():
            # After a restart in its run, a point's returns and history count from the restart.
            last_rs = np.maximum.accumulate(np.where(restart, np.arange(m), -1))
            since = last_rs >= np.repeat(starts_k, lens_k)
            cum = np.cumsum(inc)
            n_after = np.where(since, cum - cum[np.maximum(last_rs, 0)], n_after)
            first_k_ts = np.where(since, ts_k[np.maximum(last_rs, 0)], first_k_ts)
        if any_removed:
            # A left-out point's own count is the one before it plus its own return (a run's
            # first: from the count before the batch that still has the points before it).
            g1, g2 = ewma.gone1, ewma.gone2
            n_after[g1] += valid[g1] + np.where(first_k[g1], (n_own0 - n0_k)[ewma.run_of[g1]], 0)
            n_after[g2] = n_after[g2 - 1] + valid[g2]
        self.first_ts[g.seg_rows] = first
        hl = self.halflife_ms
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # Debiased rates, computed once per state (per kept tick, and per row before the batch)
            # rather than per tick. With no point yet the weight is meaningless: masked by n == 0.
            # The noise correction can take a quiet series below zero: no volatility seen, floors apply.
            n0 = self.n_ret[g.seg_rows]
            w0 = 1.0 - 0.5 ** ((self.vol_ts[g.seg_rows, 0] - first).astype(np.float64) / hl)
            r0 = np.where(n0 > 0, self.floored(self.var[g.seg_rows], self.var_raw[g.seg_rows]) / w0, np.nan)
            wk = 1.0 - 0.5 ** ((ts_k - first_k_ts).astype(np.float64) / hl)
            rk = np.where(n_after > 0, self.floored(v_after, raw_after) / wk, np.nan)
        # Per tick: the state after the last kept tick strictly before it, else the pre-batch state
        # of its segment. Both kinds of state sit in one array (segments first, then kept ticks),
        # so each value is one gather per tick.
        ck = np.cumsum(kept)
        before_seg = np.where(g.starts > 0, ck[np.maximum(g.starts - 1, 0)], 0)
        before_tick = g.per_tick(before_seg)
        j = ck - kept - before_tick  # kept ticks of the segment strictly before tick i
        nseg = g.seg_rows.shape[0]
        at = np.where(j > 0, before_tick + j - 1 + nseg, g.seg_of)
        # With its own return: a kept tick reads its own state (the j-th kept tick of its segment).
        at_own = np.where(kept, before_tick + j + nseg, at)
        v_all, n_all = np.concatenate([r0, rk]), np.concatenate([n0, n_after])
        w_all = np.concatenate([w0, wk])
        if m:
            self.var[rows_seg_k] = v_after[ends_k - 1]
            self.n_ret[rows_seg_k] = n_after[ends_k - 1]
            self.var_prev[rows_seg_k] = v_prev
            self.var_prev2[rows_seg_k] = v_prev2
            self.var_raw[rows_seg_k] = raw_after[ends_k - 1]
            self.var_raw_prev[rows_seg_k] = raw_prev
            self.var_raw_prev2[rows_seg_k] = raw_prev2
            self._note_gone(rows_seg_k, lens_k, ends_k, how, (from_ring, pairs.from_b, pairs.from_c))
            self.first_ts[rows_seg_k] = first_k_ts[ends_k - 1]
            self._shift_points(rows_seg_k, ends_k, lens_k, price_k, ts_k, q_k)

        def state(idx: I64) -> Vol:
            n = n_all.take(idx)
            return Vol(v_all.take(idx), n, np.where(n > 0, w_all.take(idx), 0.0))

        return state(at), state(at_own)

    def _lone_points(
        self, price_k: F64, prev: F64, first_k: B, starts_k: I64, rows: I64, elig: B | None
    ) -> tuple[B, B, B, B]:
        """Which points the volatility leaves out, as known with the batch's points: per point
        (``price_k``, previous points ``prev``), whether it is a lone print (its next point is in
        the batch), and per run of points (``starts_k``, of ``rows``), whether the last point before
        the batch is one (its next is the run's first tick) and its pre-update variance is known.
        Lone as for anchors (``lone_between``, at the smallest move threshold); of two in a row only
        the first counts, so the point before a lone print never is one. Only a point whose return
        from the one before counts can be one (``elig`` per point, None: all; for the last point
        before the batch, from the quanta of the last two). Also returns, per point, whether it is
        far from the previous point (a lone print's or pair's jump) and whether it is far off both
        neighbours, which agree (``raw``: a lone print unless the point before it is one)."""
        m = price_k.size
        lone = np.zeros(m, dtype=bool)
        from_ring = np.zeros(starts_k.size, dtype=bool)
        if self.lone is None or m == 0:
            return lone, from_ring, lone, lone
        x, agree = self.lone
        with np.errstate(invalid="ignore"):
            # Far from the previous point by x of the lower of the two: implied by a lone print's
            # jump in and its jump out (NaN, no previous point: never).
            jump = np.abs(price_k - prev) >= np.minimum(price_k, prev) * x
        out_of = np.flatnonzero(jump[starts_k])
        raw_ring = np.zeros(starts_k.size, dtype=bool)  # the last point is far off both sides
        if out_of.size:
            rr = rows[out_of]
            p1, p2, p3 = self.vol_price[rr].T
            gone = self.vol_gone[rr]
            # (The point right after a lone pair is the price back, never far off both sides: the
            # pair's second page is no neighbour of it.)
            raw_ring[out_of] = lone_between(p2, p1, price_k[starts_k[out_of]], x, agree) & (
                gone[:, 0] != GONE_PAIR_SECOND
            )
            # ... and the point before it is not one itself (then it was the lone print), nor was
            # it left out.
            p2_raw = lone_between(p3, p2, p1, x, agree) & (gone[:, 1] != GONE_PAIR_SECOND)
            ok = raw_ring[out_of] & ~p2_raw & ~np.isnan(self.var_prev[rr]) & (gone[:, 0] == GONE_NONE)
            ok &= _return_counts(self.vol_q[rr, 1], p2, self.vol_q[rr, 0], p1)
            from_ring[out_of] = ok
        # Far from the next point, which is in the run (the jump out: the only one the last point
        # before the batch is tested for, so the same prefilter whichever batch a point is in).
        cand = np.flatnonzero(jump[1:] & ~first_k[1:])
        raw = np.zeros(m, dtype=bool)
        if cand.size:
            raw[cand] = lone_between(prev[cand], price_k[cand], price_k[cand + 1], x, agree)
            raw_before = np.empty(m, dtype=bool)
            raw_before[1:] = raw[:-1]
            raw_before[starts_k] = raw_ring
            lone = raw & ~raw_before
            if elig is not None:
                lone &= elig
        return lone, from_ring, jump, raw

    def _lone_pairs(
        self,
        k: Runs,
        rows: I64,
        pts: tuple[F64, F64, I64, I64],
        elig: B | None,
        jump: B,
        prints: tuple[B, B],
        from_ring: B,
    ) -> Pairs:
        """Which two points in a row the volatility leaves out as a lone pair (``lone_pair``, at the
        smallest move threshold, the points around them at most ``PAIR_MS`` apart), as known with the
        batch's points: pairs in the batch, the last point before the batch with the run's first,
        and the last two before it. ``pts``: the points' prices, previous prices as shown (before
        lone prints are left out), ts and previous ts; ``rows``: each run's row. ``prints``: the
        lone prints (updated in place: the point right after a pair is the price back, no print,
        and the point after it one if far off both neighbours, which agree) and the points far off
        both neighbours (``_lone_points``). Rules, the same whichever batch a point is in: each
        return of the pair and the one after it counts (``elig``); the point before the pair was
        not left out; of overlapping pairs the first counts, and a lone print comes first."""
        price_k, prev, ts_k, prev_ts = pts
        lone, raw = prints
        m, n_runs = price_k.size, k.starts_k.size
        none = Pairs(np.zeros(m, dtype=bool), np.zeros(n_runs, dtype=bool), np.zeros(n_runs, dtype=bool))
        if self.lone is None or m == 0 or not jump.any():
            return none
        x, agree = self.lone
        ok = np.ones(m, dtype=bool) if elig is None else elig
        starts = k.starts_k
        found: list[tuple[int, int]] = []  # (run, position of the pair's first point from the run's start)
        # The last two points before the batch, the run's first point after them.
        jc = np.flatnonzero(jump[starts])
        if jc.size:
            rr, s0 = rows[jc], starts[jc]
            (p1, p2, p3), (q1, q2, q3) = self.vol_price[rr].T, self.vol_q[rr].T
            c = lone_pair(p3, p2, p1, price_k[s0], x, agree) & (ts_k[s0] - self.vol_ts[rr, 2] <= PAIR_MS)
            c &= (self.vol_gone[rr] == GONE_NONE).all(axis=1) & ~np.isnan(self.var_prev2[rr])
            c &= ~from_ring[jc] & ok[s0]
            c &= _return_counts(q3, p3, q2, p2) & _return_counts(q2, p2, q1, p1)
            found += [(j, -2) for j in jc[c].tolist()]
        # The last point before the batch and the run's first, the run's second after them.
        jb = np.flatnonzero((k.lens_k >= 2) & jump[np.minimum(starts + 1, m - 1)])
        if jb.size:
            rr, s0 = rows[jb], starts[jb]
            p1, p2 = self.vol_price[rr, 0], self.vol_price[rr, 1]
            c = lone_pair(p2, p1, price_k[s0], price_k[s0 + 1], x, agree)
            c &= ts_k[s0 + 1] - self.vol_ts[rr, 1] <= PAIR_MS
            c &= (self.vol_gone[rr, 0] == GONE_NONE) & ~np.isnan(self.var_prev[rr])
            c &= ~from_ring[jb] & ok[s0] & ok[s0 + 1]
            c &= _return_counts(self.vol_q[rr, 1], p2, self.vol_q[rr, 0], p1)
            found += [(j, -1) for j in jb[c].tolist()]
        # Pairs in the batch (the first one's previous point may be the last before the batch).
        # (Only the jump out prefilters, as for pairs held from before the batch.)
        ka = np.flatnonzero(jump[2:] & ~k.first_k[1:-1] & ~k.first_k[2:])
        if ka.size:
            c = lone_pair(prev[ka], price_k[ka], price_k[ka + 1], price_k[ka + 2], x, agree)
            c &= (ts_k[ka + 2] - prev_ts[ka] <= PAIR_MS) & ok[ka] & ok[ka + 1] & ok[ka + 2]
            ka = ka[c]
            run = np.cumsum(k.first_k)[ka] - 1
            found += list(zip(run.tolist(), (ka - starts[run]).tolist(), strict=True))
        if not found:
            return none
        # In stream order (rare: both jumps of a pair): a pair right after another, or after a
        # lone print, is not one; the point after a pair is no lone print.
        first = np.zeros(m, dtype=bool)
        from_b, from_c = none.from_b, none.from_c
        taken: set[tuple[int, int]] = set()
        for j, v in sorted(found):
            if (j, v - 1) in taken or (j, v - 2) in taken:
                continue
            if (v == 0 and from_ring[j]) or (v > 0 and lone[starts[j] + v - 1]):
                continue
            taken.add((j, v))
            back = starts[j] + v + 2  # the price back: no print, and the point after it may be one
            lone[back] = False
            if v + 3 < k.lens_k[j] and raw[back + 1]:
                lone[back + 1] = ok[back + 1]
            if v >= 0:
                first[starts[j] + v] = True
            elif v == -1:
                from_b[j] = True
            else:
                from_c[j] = True
        return Pairs(first, from_b, from_c)

    @staticmethod
    def held(ring: Ring, g: Grouped, kept: B) -> Held:
        """The points ``ring`` holds just before each tick of ``g`` (``kept``: which ticks it keeps)."""
        return Held(ring, g, *_kept_ranks(g, kept))

    def _shift_points(self, rows: I64, ends: I64, lens: I64, price: F64, ts: I64, q: F64) -> None:
        """The last three volatility points of ``rows`` after their runs of points (ending before
        ``ends``, ``lens`` long) of the batch's ``price``, ``ts`` and quantum ``q``."""
        last = ends - 1
        old_px, old_ts, old_q = self.vol_price[rows], self.vol_ts[rows], self.vol_q[rows]
        has2, has3 = lens >= 2, lens >= 3
        i1, i2 = np.maximum(last - 1, 0), np.maximum(last - 2, 0)
        self.vol_price[rows, 0] = price[last]
        self.vol_ts[rows, 0] = ts[last]
        self.vol_q[rows, 0] = q[last]
        self.vol_price[rows, 1] = np.where(has2, price[i1], old_px[:, 0])
        self.vol_ts[rows, 1] = np.where(has2, ts[i1], old_ts[:, 0])
        self.vol_q[rows, 1] = np.where(has2, q[i1], old_q[:, 0])
        self.vol_price[rows, 2] = np.where(has3, price[i2], np.where(has2, old_px[:, 0], old_px[:, 1]))
        self.vol_ts[rows, 2] = np.where(has3, ts[i2], np.where(has2, old_ts[:, 0], old_ts[:, 1]))
        self.vol_q[rows, 2] = np.where(has3, q[i2], np.where(has2, old_q[:, 0], old_q[:, 1]))

    def _step_back(
        self,
        at_runs: B,
        back: int,
        rows: I64,
        points: I64,
        prevs: tuple[F64, I64, F64],
        state: tuple[F64, F64, I64],
    ) -> F64:
        """For the runs ``at_runs`` whose last ``back`` points before the batch were left out (a lone
        print, or pair): their point at ``points`` (per run: its first, or its second after a pair
        with the run's first) steps from the point before them (``prevs``: the points' previous
        price, ts and relative quantum, in place), from the state before them (``state``: per run
        the variance, the variance as shown and the return count, in place). Returns the quanta of
        the points stepped from."""
        prev, prev_ts, prev_qr = prevs
        var0, raw0, n0 = state
        at = np.flatnonzero(at_runs)
        rr, pt = rows[at], points[at]
        q: F64 = self.vol_q[rr, back]
        prev[pt], prev_ts[pt] = self.vol_price[rr, back], self.vol_ts[rr, back]
        with np.errstate(invalid="ignore"):
            prev_qr[pt] = q / prev[pt]
        var0[at] = (self.var_prev if back == 1 else self.var_prev2)[rr]
        raw0[at] = (self.var_raw_prev if back == 1 else self.var_raw_prev2)[rr]
        n0[at] -= back
        return q

    def _note_gone(
        self, rows: I64, lens: I64, ends: I64, how: npt.NDArray[np.int8] | None, ring: tuple[B, B, B]
    ) -> None:
        """How the new last point's (of each run, ending before ``ends``) two points before it were
        left out: ``how`` per point of the batch (``GONE_*``; None: none was); before the batch,
        from the lone print and pairs found now (``ring``: per run, the last point a lone print,
        the last point and the run's first a pair, the last two a pair) or already."""
        from_ring, from_b, from_c = ring
        p1 = np.where(
            from_ring,
            GONE_PRINT,
            np.where(from_c, GONE_PAIR_SECOND, np.where(from_b, GONE_PAIR_FIRST, GONE_NONE)),
        )
        p2 = np.where(from_c, GONE_PAIR_FIRST, self.vol_gone[rows, 0])
        in_batch1 = GONE_NONE if how is None else how[np.maximum(ends - 2, 0)]
        in_batch2 = GONE_NONE if how is None else how[np.maximum(ends - 3, 0)]
        l1 = np.where(lens >= 2, in_batch1, p1)
        l2 = np.where(lens >= 3, in_batch2, np.where(lens == 2, p1, p2))
        self.vol_gone[rows, 0] = l1
        self.vol_gone[rows, 1] = l2
        # No state to go back to before a left-out point (the same whichever batch it was in).
        gone = rows[l1 != GONE_NONE]
        self.var_prev2[gone] = np.nan
        self.var_raw_prev2[gone] = np.nan

    def _finest_points(
        self, runs: Runs, e_k: npt.NDArray[np.int8], coarse: B, ts: I64, rows: I64
    ) -> B | None:
        """Per point of the longest ring (``runs``, quantum exponents ``e_k``), whether it is one of
        the volatility's: a point whose quantum is at least ``COARSE_REL`` of its price (``coarse``)
        is one if its quantum is no coarser than that of the series' previous volatility point, or
        that finer quantum has not been seen for a half-life of the estimate (then its quantum is the
        series' from then on); any other point is one. None: all are.

        Why: the noise correction (the two endpoints' errors independent and uniform in +-q/2) holds
        when the rounding is small next to the moves between points. A cents page of a $0.30 coin
        that sits inside one cent shows the same price for hours: its errors are one constant, not
        independent, so between two such points the correction takes off noise that is not there
        (the sum went below zero and sigma to its floor), and between such a point and a finer
        page's the return is that constant error (3 % at $0.30), not a move. A finer page in the
        stream carries what the coarser one would tell; when it stops, the estimate holds still (it
        is the finer page's) for a half-life, after which the coarser page's points are the
        series' again. A step under ``COARSE_REL`` of the price is crossed often enough for the
        errors to be independent (and leaving out the cents of a coin above $1 whose pages below $1
        show six decimals would keep only the returns between points below $1, too small)."""
        k_idx, first_k, starts_k, _, lens_k, _ = runs
        has = self.vol_ts[rows, 0] != NO_TS
        level0 = np.where(has, quantum_exponents(self.vol_q[rows, 0]), e_k[starts_k])
        if not coarse.any() or bool((e_k == np.repeat(level0, lens_k)).all()):
            return None
        m = k_idx.size
        e = e_k.astype(np.int64)
        # A point under COARSE_REL is one, and its quantum the level the next points are held to.
        start = first_k | ~coarse
        start_level = np.zeros(m, dtype=np.int64)
        start_ts = np.zeros(m, dtype=np.int64)
        start_level[starts_k] = level0
        start_ts[starts_k] = self.vol_ts[rows, 0]
        start_level[~coarse] = e[~coarse]
        idx = np.arange(m)
        while True:
            # Blocks: runs, cut at each point under COARSE_REL and where the finer quantum was found
            # gone (the point there starts over at its own quantum). The level before each point:
            # the finest of the block's start level and the block's earlier points (offsets keep
            # each block's minimum its own).
            block = np.cumsum(start) - 1
            off = block * 512
            x = e - off
            x[start] = np.minimum(e[start], start_level[start]) - off[start]
            lv = np.minimum.accumulate(x) + off
            before = np.empty(m, dtype=np.int64)
            before[1:] = lv[:-1]
            before[start] = start_level[start]
            adm: B = e <= before
            # ts of the block's last point that is one, strictly before each point
            last = np.maximum.accumulate(np.where(adm, idx, -1))
            prev_last = np.empty(m, dtype=np.int64)
            prev_last[:1] = -1
            prev_last[1:] = last[:-1]
            bstart = np.flatnonzero(start)[block]
            in_block = ~start & (prev_last >= bstart)
            since = np.where(in_block, ts[np.maximum(prev_last, 0)], start_ts[bstart])
            gone = ~adm & (ts - since > self.halflife_ms)
            if not gone.any():
                return adm
            g_at = np.flatnonzero(gone)
            g_first = g_at[np.r_[True, block[g_at[1:]] != block[g_at[:-1]]]]
            start[g_first] = True
            start_level[g_first] = e[g_first]

    def asof(
        self,
        ring: Ring,
        g: Grouped,
        kept: B,
        target: I64,
        v_rate: F64,
        qexp: npt.NDArray[np.int8],
        lone: tuple[float, float, int] | None = None,
        window_ms: int | None = None,
    ) -> tuple[I64, F64, F64, F64]:
        """Per accepted tick i: the latest point of ``ring`` with ts <= target[i] among the points the
        ring held just before tick i (its last ``capacity`` kept points). Returns its ts, price,
        variance rate and quantum, or (NO_TS, NaN, NaN, NaN). ``kept``: which ticks of ``g`` the ring
        keeps; ``v_rate`` and ``qexp`` the batch's variance rates (``returns_and_vol``) and quantum
        exponents. ``lone``: (threshold, agreement, longest pair span in ms) to skip a lone print
        (or pair) for the point before it (``lone.py``). ``window_ms``: a point older than this
        before the tick (the series had a gap over its target) gives way to the first point after
        the target, when one is held (a move horizon's stand-in after a gap; the point's ts is then
        after the target). Must run before ``write``."""
        n = len(g)
        cap = ring.capacity
        w, wrank = _kept_ranks(g, kept)
        a_ts = np.full(n, NO_TS, dtype=np.int64)
        a_px = np.full(n, np.nan)
        a_var = np.full(n, np.nan)
        a_qx = np.full(n, NO_Q, dtype=np.int8)
        a_seq = np.full(n, -1, dtype=np.int64)
        in_batch = np.zeros(n, dtype=bool)
        # An in-batch anchor needs a target at or after the segment's first tick: a horizon longer
        # than the batch's span (24 h on a few hours of ticks) never finds one, so skip the search.
        if w.size and bool((target >= g.per_tick(g.ts[g.starts])).any()):
            j = search_kept(g, w, target)  # index into w, or -1
            jj = w[np.maximum(j, 0)]
            in_batch = (j >= 0) & (g.seg_of[jj] == g.seg_of) & (wrank[jj] >= wrank - cap)
            src = jj[in_batch]
            a_ts[in_batch] = g.ts[src]
            a_px[in_batch] = g.price[src]
            a_var[in_batch] = v_rate[src]
            a_qx[in_batch] = qexp[src]
            a_seq[in_batch] = ring.count[g.rows[in_batch]] + wrank[src]
        # Not in the batch: search the ring as it was before the batch.
        rest = np.flatnonzero(~in_batch & (wrank < cap))
        if rest.size:
            seq = search_ring(ring, g, rest, wrank[rest], target[rest])
            ok = seq >= 0
            hit = rest[ok]
            flat = g.rows[hit] * cap + ring_slot(seq[ok], cap)
            a_ts[hit] = ring.ts.reshape(-1).take(flat)
            a_px[hit] = ring.price.reshape(-1).take(flat)
            a_var[hit] = ring.var.reshape(-1).take(flat)
            a_qx[hit] = ring.qexp.reshape(-1).take(flat)
            a_seq[hit] = seq[ok]
        held: Held | None = None  # the ring's points as held before each tick, built when needed
        if lone is not None:
            # Only the anchors the tick's price is not back near are looked at (lone.py).
            x, agree, _ = lone
            with np.errstate(invalid="ignore"):
                found = np.flatnonzero((a_seq >= 0) & (np.abs(g.price - a_px) >= a_px * (x * agree)))
            if found.size:
                held = Held(ring, g, w, wrank)
                at, stand_in = lone_prints(held, g, found, a_seq[found], a_px[found], *lone)
                if at.size:
                    odd = found[at]
                    pts = held.point(g, odd, stand_in, v_rate, qexp)
                    a_ts[odd], a_px[odd], a_var[odd], a_qx[odd] = pts
        if window_ms is not None:
            # After a gap over the target: the first point back stands in (the point after the
            # as-of one, also after a lone print skipped). None is held for the first tick back
            # itself, which the move detector measures across the gap.
            stale = np.flatnonzero((a_seq >= 0) & (a_ts < g.ts - window_ms))
            if stale.size:
                held = held or Held(ring, g, w, wrank)
                self._first_back(held, g, stale, a_seq, (a_ts, a_px, a_var, a_qx), v_rate, qexp, lone)
        return a_ts, a_px, a_var, exponent_quanta(a_qx)

    @staticmethod
    def _first_back(
        held: Held,
        g: Grouped,
        stale: I64,
        a_seq: I64,
        anchor: tuple[I64, F64, F64, npt.NDArray[np.int8]],
        v_rate: F64,
        qexp: npt.NDArray[np.int8],
        lone: tuple[float, float, int] | None,
    ) -> None:
        """Replace the ``stale`` ticks' anchors (in ``anchor``, in place) by the first point back
        after the gap, when one is held. A first page back far off both the last point before the
        gap and the tick, which agree (another coin's row), is a lone print: the point after it
        stands in (none held yet: the anchor stays stale, no change is measured)."""
        a_ts, a_px, a_var, a_qx = anchor
        first = a_seq[stale] + 1
        flat, b = held.where(stale, first)
        ok = (flat >= 0) | (b >= 0)
        stale, first = stale[ok], first[ok]
        if lone is not None:
            x, agree, _ = lone
            odd = lone_between(a_px[stale], held.price(g, stale, first), g.price[stale], x, agree)
            first[odd] += 1
            flat, b = held.where(stale, first)
            ok = (flat >= 0) | (b >= 0)
            stale, first = stale[ok], first[ok]
        pts = held.point(g, stale, first, v_rate, qexp)
        a_ts[stale], a_px[stale], a_var[stale], a_qx[stale] = pts

    def write(self, g: Grouped, kept: list[B], v_rate: F64, qexp: npt.NDArray[np.int8]) -> int:
        """Append the kept ticks to each ring and update the last point; returns how many old points
        the longest ring overwrote (its capacity, not the horizon, pushed them out)."""
        evicted = 0
        for ring, k in zip(self.rings, kept, strict=True):
            evicted = append_kept(ring, g, k, v_rate, qexp)
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
