"""Scale jumps and stale repeats judged together, so that a batch decides exactly as tick by tick.

Per batch, the grouping (``grouping.py``) rejects each tick at or before its series' latest
accepted ts, then the scale rule (``scale.py``) and the stale rule (``stale.py``) drop some of the
accepted ticks, all vectorised over the batch. Tick by tick, a dropped tick is no point: its
series' last taken ts stays (``Windows.write`` writes taken ticks only). scale.py judges the rows
its own drops shadowed again, but takes every tick it keeps for a taken one, and the stale rule may
drop it after. So in a batch a dropped repeat moved the last taken ts, which two rules read:

- the grouping: a page at or before the repeat's ts (and after the last taken one) was a duplicate
  or late in a batch and taken tick by tick, its move and the ``resumed`` source event a page later;
- the scale rule's "two pages in a row" back to the scale left or up by a power of ten
  (``ht > last_t``), and its half hour without the old scale (``t - last_t``): a dropped repeat
  between the two pages parted them in a batch, not tick by tick.

Until a row's first dropped repeat both ways agree (the same ticks before it, judged the same); after
it only the last taken ts can differ, and only two judgements read it: the grouping's, where it
rejected a tick, and the scale rule's per tick (``scale.decide_row``, for a row with a jump). So the
rows with a dropped repeat and a rejected tick or a jump are judged again from all their ticks in
the batch, one by one in stream order: grouping, scale rule and stale rule in turn, a dropped tick
moving nothing (with the scale rule's own ``decide_row`` and the stale rule's ``judge_repeat``, so
each rule is written once for both paths). The other rows keep the vectorised verdicts. A batch
without a dropped repeat (the common case) costs nothing more, and the slow path needs a frozen
source's repeat and, in the same batch, a rejected page or a scale jump of the same series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.grouping import Grouped
from tickerstream.engine.scale import (
    DROPPED,
    DUPLICATE,
    LATE,
    TAKEN,
    Outcomes,
    RowState,
    ScaleVerdict,
    State,
    decide_row,
    judge_in_order,
    regroup,
    scale_jumps,
    verdict_from,
    without,
)
from tickerstream.engine.stale import StaleVerdict, judge_repeat, stale_repeats

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: Per tick outcome of the judgement in stream order, besides the scale rule's: a stale repeat.
STALE = 4


@dataclass(frozen=True, slots=True)
class Drops:
    """The verdicts on a batch: ``scale`` (None: no tick is a scale jump and no row's scale state
    changes), ``seen`` the ticks the stale rule judged (the grouping's, less the scale jumps; the
    peg monitor sees them all) and ``stale`` its verdict on them (None: ``seen`` is empty)."""

    scale: ScaleVerdict | None
    seen: Grouped
    stale: StaleVerdict | None


@dataclass(frozen=True, slots=True)
class RunState:
    """Per row, the stale rule's state before the batch: the ts its last price's run began and how
    many ticks repeated that price since (``Windows``); and ``windows.stale_after_s`` in ms."""

    run_since: I64
    run_repeats: npt.NDArray[np.int32]
    stale_ms: int


def judge_drops(g: Grouped, batch: TickBatch, batch_rows: I64, state: RowState, runs: RunState) -> Drops:
    """Judge the accepted ticks ``g`` of ``batch`` (whose rows are ``batch_rows``) by the scale rule
    and then the stale rule, as tick by tick would. Nothing is written: the caller applies them."""
    scale = scale_jumps(g, batch, batch_rows, state)
    drops = _with_repeats(g if scale is None else scale.taken, scale, state, runs)
    if drops.stale is None or drops.stale.drop is None:  # the common case: no repeat dropped
        return drops
    redo = _shadowed_by_repeats(drops.seen, drops.stale.drop, batch_rows, scale)
    if redo.size == 0:
        return drops
    scale = _in_stream_order(g, redo, batch, batch_rows, state, runs)
    return _with_repeats(scale.taken, scale, state, runs)


def _with_repeats(seen: Grouped, scale: ScaleVerdict | None, state: RowState, runs: RunState) -> Drops:
    """The verdicts given the ticks less the scale jumps (``seen``): the stale rule's on them."""
    if len(seen) == 0:
        return Drops(scale, seen, None)
    stale = stale_repeats(seen, state.last_price, runs.run_since, runs.run_repeats, runs.stale_ms)
    return Drops(scale, seen, stale)


def _shadowed_by_repeats(seen: Grouped, drop: B, batch_rows: I64, scale: ScaleVerdict | None) -> I64:
    """Rows with a dropped repeat whose judgement read the last taken ts after it: some tick of
    theirs in the batch is not in ``seen`` (rejected, or a scale jump), or the scale rule judged
    their ticks one by one."""
    if not (seen.late or seen.duplicates or scale is not None):
        return np.zeros(0, dtype=np.int64)
    candidates = np.unique(seen.rows[drop])
    # seen is grouped by row (ascending): a candidate's ticks there are its segment.
    seg = np.searchsorted(seen.seg_rows, candidates)
    in_seen = (seen.ends - seen.starts)[seg]
    mine = batch_rows[np.isin(batch_rows, candidates)]
    in_batch = np.bincount(np.searchsorted(candidates, mine), minlength=candidates.size)
    shadowed = in_batch > in_seen
    if scale is not None:
        shadowed |= np.isin(candidates, scale.rows)
    out: I64 = candidates[shadowed]
    return out


def _in_stream_order(
    g: Grouped, redo: I64, batch: TickBatch, batch_rows: I64, state: RowState, runs: RunState
) -> ScaleVerdict:
    """The scale verdict of ``g`` with the rows ``redo`` judged one by one from all their ticks in
    the batch (``_judge_row``) and the others by ``scale_jumps`` as before; its ``taken`` is the
    ticks the stale rule is to judge, with the late and duplicate counts of that judgement."""

    def judge(
        price: list[float],
        ts: list[int],
        quantum: list[float],
        out: Outcomes,
        s: State,
        prior: float,
        row: int,
    ) -> State:
        run = (int(runs.run_since[row]), int(runs.run_repeats[row]))
        return _judge_row(price, ts, quantum, out, s, prior, run, runs.stale_ms)

    io = judge_in_order(redo, batch, batch_rows, state, judge)
    # The other rows as scale_jumps judges them without these (its counts without their rejections).
    others = replace(
        without(g, np.isin(g.rows, redo)),
        late=g.late - io.grouping_late,
        duplicates=g.duplicates - io.grouping_duplicates,
    )
    verdict = scale_jumps(others, batch, batch_rows, state)
    kept = others if verdict is None else verdict.taken
    seen = np.concatenate([kept.order, io.pos[(io.outcome == TAKEN) | (io.outcome == STALE)]])
    late, duplicates = kept.late + io.count(LATE), kept.duplicates + io.count(DUPLICATE)
    own = verdict_from(
        regroup(seen, batch, batch_rows, late, duplicates), io.pos[io.outcome == DROPPED], io.after
    )
    if verdict is None:
        return own
    return ScaleVerdict(
        own.taken,
        np.concatenate([verdict.dropped, own.dropped]),
        np.concatenate([verdict.rows, own.rows]),
        np.concatenate([verdict.held, own.held]),
        np.concatenate([verdict.held_ts, own.held_ts]),
        np.concatenate([verdict.left, own.left]),
    )


def _judge_row(
    price: list[float],
    ts: list[int],
    quantum: list[float],
    out: Outcomes,
    state: State,
    prior: float,
    run: tuple[int, int],
    stale_ms: int,
) -> State:
    """One row's ticks, one by one in stream order, as tick by tick: the grouping and the scale rule
    (``scale.decide_row``), then the stale rule for a tick they take (``judge_repeat``). A dropped
    repeat is no point: the row's state stays as before it. ``out[i]``: tick i's outcome. Returns
    the row's scale state after these ticks."""
    for i, (p, t, q) in enumerate(zip(price, ts, quantum, strict=True)):
        before = state
        state = decide_row([p], [t], out[i : i + 1], before, prior)
        if out[i] != TAKEN:
            continue
        stale, run = judge_repeat(p, before[0], q, t, run, stale_ms)
        if stale:
            out[i] = STALE
            state = before  # no point: the last taken ts stays (the price is the same)
    return state
