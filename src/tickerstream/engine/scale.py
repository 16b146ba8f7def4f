"""Scale jumps: one page at a thousandth (or a thousand times) of the price is a misparse, not a move.

A page that read ETH 3083.56 as 3.08 (a decimal or thousands separator misread) used to publish a
-99.9 % move on both horizons at once, z -1755; the page after it, back at 3083, published nothing
(it was measured from the anchors before the bad page). A price is not plausible at ``FACTOR`` (8)
times or an eighth of the series' last taken tick: no listed coin does that from one page to the next.
Why 8 and not 10: a x10 misread of a price that moved since the last page is not exactly x10
(3001.00, then 3000.50 read as 30005.0: x9.998, a +900 % move at z 392 when the factor was 10); at
8 a misread slips only after a 20 % move between two pages.
Such a tick (a *scale jump*) is dropped (counted, ``EngineStats.scale_jumps``) unless a dropped tick
confirms its scale:

- a tick is judged against the series' last *taken* tick (``Windows.last_price``), never against a
  dropped one: the page after a misparse, back at the true scale, is no jump and is taken;
- a scale jump is taken when the series' latest dropped tick (``Windows.held_price``, ``held_ts``)
  is within ``CONFIRM`` (2) times of it and at most ``CONFIRM_MS`` (1 h) older: two pages at the
  new scale confirm it, even when pages of the old scale came between (a second source still
  showing the price before a crash, stale or minutes behind). The move of a real change of scale (a
  redenomination, a crash of more than 87.5 % in one page) is so reported at the second page that
  shows it, from the price before;
- except that a jump back to the scale the series left at its latest confirmed jump (within 2x of
  the price before it, ``Windows.left_price``) is confirmed only by the page right before it: a
  source still showing the old scale for good (stale) is dropped page after page (and counted, so
  alerted on) while the new scale keeps coming, instead of taking each source every other page and
  flapping between the two; a real return shows on two pages in a row and is taken from the second;
- except that a jump *up* by a power of ten (within ``SHIFT_TOL``: x10, x100, x1000 of the last
  taken price) is confirmed only once no page of the old scale was taken for ``SETTLE_MS`` (30
  min), and by the page right before it (at pages 30 minutes apart or more, the old scale's page
  between two misreads is always that old): that is a decimal shift, the shape of a misread, and
  a site misreading every page (BTC at x100 between another site's right pages) confirmed its
  scale at its second page, took the series over (each correct page then a jump back, dropped)
  and published +9,900 %. Such pages are now dropped for as long as the right scale keeps
  coming; a real redenomination up (every source at the new scale) is confirmed half an hour
  after the last page of the old one. Down, a power of ten is also a crash (a stablecoin at $0.10
  beside a mirror still at $1.0000 must fire at its second page), so a jump down confirms as
  above whatever its ratio;
- a USD peg's tick at ``FACTOR`` times its target or more is never taken (no stablecoin trades at
  $8; USDC at 100.00 from a misreading site took the series over even after the right site's
  outage, a critical depeg at +990,000 bps that never ended), and before the series' first taken
  tick its ticks are judged against that target (``RowState.prior``), so such a site's pages
  cannot start the series either;
- otherwise it is dropped and becomes the series' latest dropped tick.

Why an hour: pages come every few minutes, so a source that shows a real new scale shows it again
well within the hour, whatever other sources interleave; a misparse of the same kind that recurs
less often than hourly (a page template bug hit now and then) stays dropped each time. A dropped
tick older than that confirms nothing.

The decision needs the ticks of a series in order: batches are cut anywhere, so the state is the
last taken price, the latest dropped tick (price and ts) and the scale last left, all in
checkpoints, and a tick is decided the same way in a replay and under Kafka. Ticks are vectorised:
only the (rare) segments with a jump from the tick before (or from the last taken price) go
through the per-tick rule. A dropped tick is no point, so it never makes the page after it a
duplicate or late (the true page right after a misparse at the same ts is taken): a row where the
grouping rejected a tick behind a dropped one is judged again from all its ticks in the batch.

Nothing is held back: a dropped tick is not emitted later, so no event waits for a later page. The
costs: a real scale change loses its first page, a misparse repeated within the hour is taken as
real (as a redenomination must be), a real crash of more than 87.5 % that reverts on the next page is
never reported (one page at x0.07 cannot be told from a misparse: it is counted as a dropped
scale jump, which ``TickerScaleJumps`` alerts on), and a source that shows the old scale for
good interleaved with live pages is dropped for as long as the live pages come (a real return to
the old scale needs two pages in a row).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.grouping import Grouped, grouped, segments, stable_order

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: A tick at this multiple of its series' last taken price, or this fraction of it, is a scale jump:
#: under 10 so that a x10 (or /10) misread still is one after the price moved a little.
FACTOR = 8.0
#: A scale jump within this factor of the series' latest dropped tick confirms the dropped tick's scale.
CONFIRM = 2.0
#: ... when the dropped tick is at most this much older (ms): pages of a real new scale come again
#: well within an hour; a misparse recurring less often than that stays dropped.
CONFIRM_MS = 3_600_000
#: A jump within this factor of a power of ten is a decimal shift (a misread's shape): consecutive
#: pages differ by a few percent, so a misread of either is x10^k within a few percent of the last
#: taken one.
SHIFT_TOL = 1.05
#: ... confirmed only when no page at the old scale was taken for this long (ms).
SETTLE_MS = 1_800_000
_SHIFT_TOL_LOG = math.log10(SHIFT_TOL)


def _is_jump(ratio: F64) -> B:
    with np.errstate(invalid="ignore"):
        out: B = (ratio >= FACTOR) | (ratio <= 1.0 / FACTOR)  # NaN (no previous tick): no
    return out


def _decimal_shift(ratio: float) -> bool:
    """Is ``ratio`` (a scale jump's, so at least ``FACTOR`` or at most its inverse) a power of ten
    within ``SHIFT_TOL``? (A zero price, or one so large that the ratio overflows, is a jump but no
    shift.)"""
    if not 0.0 < ratio < math.inf:
        return False
    d = abs(math.log10(ratio))
    return abs(d - round(d)) <= _SHIFT_TOL_LOG


#: Per tick outcomes of :func:`decide_row`.
TAKEN, DROPPED, DUPLICATE, LATE = 0, 1, 2, 3

#: A row's state: last taken price and ts, latest dropped price and ts, the price left last.
State = tuple[float, int, float, int, float]


@dataclass(frozen=True, slots=True)
class RowState:
    """Per row: ``last_price``, ``last_ts`` the last taken tick, ``held``, ``held_ts`` the latest
    dropped tick (NaN: none), ``left`` the price before the latest confirmed jump, ``prior`` the
    price expected before the first page (a USD peg's target; NaN: none)."""

    last_price: F64
    last_ts: I64
    held: F64
    held_ts: I64
    left: F64
    prior: F64

    def of(self, row: int) -> tuple[State, float]:
        """The row's state and its prior."""
        state = (
            float(self.last_price[row]),
            int(self.last_ts[row]),
            float(self.held[row]),
            int(self.held_ts[row]),
            float(self.left[row]),
        )
        return state, float(self.prior[row])


@dataclass(frozen=True, slots=True)
class ScaleVerdict:
    """The rule's decisions on a batch: the ticks taken, the batch positions of the ticks dropped
    as scale jumps, and the rows whose state changed with their new ``held``, ``held_ts`` and
    ``left`` (``RowState``)."""

    taken: Grouped
    dropped: I64
    rows: I64
    held: F64
    held_ts: I64
    left: F64


def decide_row(
    price: list[float], ts: list[int], out: npt.NDArray[np.int8], state: State, prior: float = math.nan
) -> State:
    """The rule for the ticks of one row, one by one in stream order (``out[i]``: the outcome of
    tick i). A tick at or before the last taken ts is a duplicate or late (the grouping's policy,
    ``grouping.py``): only a taken tick moves that ts, so a dropped jump never hides the page after
    it. Before the row's first taken tick, a page is judged against ``prior`` (a USD peg's target;
    NaN: none), and a page at ``FACTOR`` times it or more is never taken. Returns the row's state
    after these ticks."""
    last, last_t, hp, ht, lp = state
    for i, (p, t) in enumerate(zip(price, ts, strict=True)):
        if t <= last_t:
            out[i] = DUPLICATE if t == last_t else LATE
            continue
        base = last if last > 0 else prior  # no taken tick yet (NaN): the peg's target
        r = p / base if base > 0 else float("nan")  # NaN: nothing to judge against
        if not (r >= FACTOR or r <= 1.0 / FACTOR):
            last, last_t = p, t
        elif p >= FACTOR * prior:  # False for NaN: a USD peg never trades at 8x its target
            out[i] = DROPPED
            hp, ht = p, t
        elif (
            hp > 0  # False for NaN: no dropped tick
            and t - ht <= CONFIRM_MS
            and 1.0 / CONFIRM <= p / hp <= CONFIRM
            # back to the scale left at the latest confirmed jump: two pages in a row
            and (ht > last_t or not 1.0 / CONFIRM <= p / lp <= CONFIRM)
            # up by a power of ten: only once the old scale is gone, two pages in a row
            and not (r >= FACTOR and _decimal_shift(r) and (t - last_t < SETTLE_MS or not ht > last_t))
        ):
            # a second page at the dropped one's scale: confirmed
            lp, last, last_t, hp = base, p, t, float("nan")
        else:
            out[i] = DROPPED
            hp, ht = p, t
    return last, last_t, hp, ht, lp


def scale_jumps(g: Grouped, batch: TickBatch, batch_rows: I64, state: RowState) -> ScaleVerdict | None:
    """Judge the ticks of ``g``, grouped from ``batch`` (whose rows are ``batch_rows``); None: every
    tick is taken and no row's state changes."""
    prev = np.empty(len(g), dtype=np.float64)
    prev[1:] = g.price[:-1]
    prev[g.starts] = state.last_price[g.seg_rows]
    with np.errstate(invalid="ignore"):
        fresh = np.flatnonzero(~(prev > 0))  # no price before (none yet, NaN, zero): as decide_row
    if fresh.size:  # a USD peg's ticks are then judged against its target
        prev[fresh] = state.prior[g.rows[fresh]]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        jump = _is_jump(g.price / prev)
    if not jump.any():  # no tick is a jump from the tick before: every tick is taken, state unchanged
        return None
    # Only segments with a jump can drop a tick (without a drop, the tick before is the last taken).
    segs = np.unique(g.seg_of[jump])
    outcome = np.zeros(len(g), dtype=np.int8)
    rows = g.seg_rows[segs]
    after = [
        decide_row(g.price[lo:hi].tolist(), g.ts[lo:hi].tolist(), outcome[lo:hi], *state.of(row))
        for lo, hi, row in zip(g.starts[segs].tolist(), g.ends[segs].tolist(), rows.tolist(), strict=True)
    ]
    drop = outcome == DROPPED
    decided = dict(zip(rows.tolist(), after, strict=True))
    if drop.any() and (g.late or g.duplicates):
        # A dropped tick had moved the grouping's last ts: a later tick of its row at or before it
        # was rejected as a duplicate or late, which it is not when the batch is cut right after
        # the dropped tick. Such rows are judged again from every tick of the batch.
        shadowed = _shadowing_rows(g, drop, batch_rows)
        if shadowed.size:
            return _rejudged(g, drop, decided, shadowed, batch, batch_rows, state)
    return verdict_from(without(g, drop), g.order[drop], decided)


def without(g: Grouped, drop: B) -> Grouped:
    """``g`` without the dropped ticks (segments left empty disappear)."""
    k = np.flatnonzero(~drop)
    return grouped(g.order[k], g.rows[k], g.ts[k], g.price[k], g.quantum[k], g.late, g.duplicates)


def verdict_from(taken: Grouped, dropped: I64, after: dict[int, State]) -> ScaleVerdict:
    """The verdict given the ticks taken, the positions dropped and the rows' states after."""
    rows = np.fromiter(after, dtype=np.int64, count=len(after))
    held = np.array([s[2] for s in after.values()], dtype=np.float64)
    held_ts = np.array([s[3] for s in after.values()], dtype=np.int64)
    left = np.array([s[4] for s in after.values()], dtype=np.float64)
    return ScaleVerdict(taken, dropped, rows, held, held_ts, left)


def _shadowing_rows(g: Grouped, drop: B, batch_rows: I64) -> I64:
    """Rows with a dropped tick and some tick of the batch rejected (fewer in ``g`` than in the batch)."""
    candidates = np.unique(g.rows[drop])
    in_batch = np.count_nonzero(batch_rows[:, None] == candidates[None, :], axis=0)
    in_g = np.count_nonzero(g.rows[:, None] == candidates[None, :], axis=0)
    out: I64 = candidates[in_batch > in_g]
    return out


def _rejudged(
    g: Grouped,
    drop: B,
    after: dict[int, State],
    shadowed: I64,
    batch: TickBatch,
    batch_rows: I64,
    state: RowState,
) -> ScaleVerdict:
    """The verdict with the rows ``shadowed`` decided tick by tick from all their ticks in the batch,
    rejected ones included (the other rows as ``drop`` says); the late and duplicate counts follow."""

    def judge(
        price: list[float], ts: list[int], _q: list[float], out: Outcomes, s: State, prior: float, _r: int
    ) -> State:
        return decide_row(price, ts, out, s, prior)

    io = judge_in_order(shadowed, batch, batch_rows, state, judge)
    after.update(io.after)
    late = g.late - io.grouping_late + io.count(LATE)
    duplicates = g.duplicates - io.grouping_duplicates + io.count(DUPLICATE)
    others = ~np.isin(g.rows, shadowed) & ~drop
    taken = regroup(
        np.concatenate([g.order[others], io.pos[io.outcome == TAKEN]]), batch, batch_rows, late, duplicates
    )
    dropped = np.concatenate([g.order[drop & ~np.isin(g.rows, shadowed)], io.pos[io.outcome == DROPPED]])
    return verdict_from(taken, dropped, after)


#: Per tick outcomes of a row judged in stream order (``TAKEN``, ``DROPPED``, ...).
Outcomes = npt.NDArray[np.int8]
#: Judges one row's ticks one by one in stream order, writing each tick's outcome: (prices, ts,
#: quanta, outcomes, the row's scale state and prior, the row) -> its scale state after them.
RowJudge = Callable[[list[float], list[int], list[float], Outcomes, State, float, int], State]


@dataclass(frozen=True, slots=True)
class InOrder:
    """Some rows' ticks of a batch judged one by one: their batch positions (by row, in stream order
    within a row), each one's outcome, the rows' scale states after, and how many of their ticks
    the grouping had counted late and duplicate (the judgement counts its own)."""

    pos: I64
    outcome: Outcomes
    after: dict[int, State]
    grouping_late: int
    grouping_duplicates: int

    def count(self, outcome: int) -> int:
        return int(np.count_nonzero(self.outcome == outcome))


def judge_in_order(rows: I64, batch: TickBatch, batch_rows: I64, state: RowState, judge: RowJudge) -> InOrder:
    """All the ticks in ``batch`` of ``rows``, rejected ones included, judged by ``judge`` row by
    row from each row's state before the batch: the slow path of a batch that must decide as tick
    by tick would (here after a scale drop, in ``drops.py`` after a stale one)."""
    pos = np.flatnonzero(np.isin(batch_rows, rows))
    pos = pos[np.argsort(batch_rows[pos], kind="stable")]  # by row, in stream order within a row
    r = batch_rows[pos]
    _, starts, ends = segments(r)
    outcome = np.zeros(pos.size, dtype=np.int8)
    price, ts, quantum = batch.price[pos].tolist(), batch.ts[pos].tolist(), batch.quantum[pos].tolist()
    after: dict[int, State] = {}
    late = duplicates = 0
    for lo, hi, row in zip(starts.tolist(), ends.tolist(), r[starts].tolist(), strict=True):
        before, prior = state.of(row)
        was_late, was_duplicate = _rejections(ts[lo:hi], before[1])  # the grouping's counts
        late += was_late
        duplicates += was_duplicate
        after[row] = judge(price[lo:hi], ts[lo:hi], quantum[lo:hi], outcome[lo:hi], before, prior, row)
    return InOrder(pos, outcome, after, late, duplicates)


def regroup(taken: I64, batch: TickBatch, batch_rows: I64, late: int, duplicates: int) -> Grouped:
    """The batch positions ``taken`` (any order) grouped by row, in stream order within a row."""
    taken = np.sort(taken)
    order = taken[stable_order(batch_rows[taken])]
    return grouped(
        order, batch_rows[order], batch.ts[order], batch.price[order], batch.quantum[order], late, duplicates
    )


def _rejections(ts: list[int], last_ts: int) -> tuple[int, int]:
    """How many of a row's ticks the grouping rejects as late and as duplicates: ts only, after
    ``last_ts``."""
    late = duplicates = 0
    for t in ts:
        if t < last_ts:
            late += 1
        elif t == last_ts:
            duplicates += 1
        else:
            last_ts = t
    return late, duplicates
