"""Repeats of a frozen source: a precise price shown unchanged for too long is no information.

A source that stops updating keeps serving its last page: ETH at 3496.50 on 96 five-minute pages
while the market slid 9 %. Taken as ticks, the repeats are points at a price that was no longer
the market's: every anchor within the freeze is the frozen price, the volatility counts zero
returns, and when the source resumes the whole slide reads as one hour's move (a desk review's
recording: "-9.3 % in 1 h, z -17.9", where the market fell 9 % over 8 hours, z about -5).

A precise price does not stay put that long: ETH to the cent (a step of 3e-6 of its price) moves
several steps a minute. So for a series whose ticks show at least six significant digits (a
quantum at most ``FINE_REL`` of the price), a tick that repeats the last taken price once that price
has been shown for ``windows.stale_after_s`` (30 minutes by default), on at least three pages in a
row (``MIN_REPEATS``), is dropped and counted (``stale_repeats``), like a duplicate: never a point,
a move, a volatility return or a 24 h check.
The first changed price after the freeze is then measured across the gap from the last taken
point, by its z over the whole span (docs/moves.md, "Across a data gap"): "-9 % since the source
last moved 7.5 h ago, z -5.4".

Not dropped: a coarser price (USDT in cents, a coin at $0.05 in four decimals: such prices sit in
one step for hours), a tick without a quantum (v1: its precision is unknown), and a price repeated
across two sites or two scrapes of one cached widget within the half hour. The peg monitor still
sees every repeat: for a reference they say the source is alive (its age is the time since its
price last changed, docs/pegs.md), and they are published to other instances as before.

A run found frozen, and the changed price that ends it, are source events (``frozen_runs``;
``SourceEvent``): while a series is frozen no move is judged on it, and a desk reading the event
topics must know that its silence is no calm.

Per row the state is the ts of the first tick of the current run of one price (``run_since``), how
many precise ticks repeated it (``run_repeats``: a coarse page's repeat of $1.00 says nothing about
a six-decimal source that happens to show 1.000000) and whether that run was found frozen
(``run_frozen``), in the checkpoint. A tick's verdict depends only on that state and the ticks of
its series before it that reach the rule (a dropped repeat repeats the price, so the run and the
last taken price stay).
Which ticks reach it depends on the last taken ts, which a dropped repeat does not move tick by
tick but did in a batch, where the grouping and the scale rule had already read the repeat's ts: a
row with a dropped repeat and a tick those read it for is judged again in stream order
(``drops.py``, with ``judge_repeat``, this rule for one tick). So a batch decides exactly as tick
by tick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import Grouped

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: A quantum at most this share of the price (six significant digits or more) shows every move; a
#: stablecoin at $1.0001 in four decimals (1e-4) legitimately sits still for hours.
FINE_REL = 1e-5

#: Repeats a run needs before one is dropped, besides ``stale_after_s``: at 30-minute pages one
#: repeat is two pages, and a stablecoin shown to six decimals repeats its price across two pages
#: now and then (a few times in a thousand); three pages in a row at one price are a frozen source.
MIN_REPEATS = 2


@dataclass(frozen=True, slots=True)
class StaleVerdict:
    """Per tick of ``g``: dropped as a stale repeat (None: none is); per segment: ``run_since`` and
    ``run_repeats`` after the batch."""

    drop: B | None
    run_since: I64
    run_repeats: I64


def stale_repeats(
    g: Grouped, last_price: F64, run_since: I64, run_repeats: npt.NDArray[np.int32], stale_ms: int
) -> StaleVerdict:
    """Judge every tick of ``g`` (accepted so far, grouped by row). ``last_price``, ``run_since`` and
    ``run_repeats`` are per row (the last taken price, NaN: none; the ts its run began; how many
    ticks repeated it since)."""
    n = len(g)
    prev = _previous_price(g, last_price)
    rep = np.flatnonzero(g.price == prev)  # the repeats (NaN, no tick before, compares false)
    run_after = g.ts[g.ends - 1]  # a segment whose last tick changed the price began a run there
    repeats_after = np.zeros(g.seg_rows.size, dtype=np.int64)
    if rep.size == 0:
        return StaleVerdict(None, run_after, repeats_after)
    # Each repeat's run began at the tick before its stretch of consecutive repeats, or before the
    # batch when the stretch starts its segment.
    seg = g.seg_of[rep]
    at_start = rep == g.starts[seg]
    opens = at_start.copy()
    opens[1:] |= rep[1:] != rep[:-1] + 1
    k = np.arange(rep.size)
    opened = np.maximum.accumulate(np.where(opens, k, 0))
    first = rep[opened]
    continued = first == g.starts[seg]  # the stretch continues the run going on before the batch
    began = np.where(continued, run_since[g.seg_rows[seg]], g.ts[np.maximum(first - 1, 0)])
    with np.errstate(invalid="ignore"):
        fine = g.quantum[rep] <= g.price[rep] * FINE_REL  # NaN quantum (unknown): never
    # Precise repeats of the run so far, this one included: a coarse page's repeat says nothing
    # about a precise source (USDT at $1.00 in cents every minute, then 1.000000 on a six-decimal
    # page that changes every time was taken for a frozen source).
    upto = np.cumsum(fine)
    count = upto - (upto[opened] - fine[opened]) + np.where(continued, run_repeats[g.seg_rows[seg]], 0)
    last = rep == g.ends[seg] - 1
    run_after = run_after.copy()
    run_after[seg[last]] = began[last]
    repeats_after[seg[last]] = count[last]
    stale = fine & (g.ts[rep] - began >= stale_ms) & (count >= MIN_REPEATS)
    if not stale.any():
        return StaleVerdict(None, run_after, repeats_after)
    drop = np.zeros(n, dtype=bool)
    drop[rep[stale]] = True
    return StaleVerdict(drop, run_after, repeats_after)


def judge_repeat(
    price: float, last_price: float, quantum: float, ts: int, run: tuple[int, int], stale_ms: int
) -> tuple[bool, tuple[int, int]]:
    """``stale_repeats`` for one tick, for the rows judged in stream order (``drops.py``): is it
    dropped, and its series' run (the ts it began, its repeats) after it. ``last_price``: the
    series' last taken price (NaN: none); ``run``: the run before the tick."""
    if price != last_price:  # a changed price (or the series' first: NaN) begins a run
        return False, (ts, 0)
    fine = quantum <= price * FINE_REL  # NaN quantum (unknown): never
    since, repeats = run[0], run[1] + int(fine)
    return fine and ts - since >= stale_ms and repeats >= MIN_REPEATS, (since, repeats)


@dataclass(frozen=True, slots=True)
class FrozenRuns:
    """Where frozen runs begin and end in a batch: ``frozen_at`` (tick indices of ``g``: each run's
    first dropped repeat, the moment it is known frozen) with its run's start ``frozen_since``;
    ``resumed_at``, the first changed price after a frozen run, with that run's start
    ``resumed_since`` and price ``resumed_from``; per segment, whether the run of its last tick is
    a frozen one (``run_frozen`` after the batch)."""

    frozen_at: I64
    frozen_since: I64
    resumed_at: I64
    resumed_since: I64
    resumed_from: F64
    run_frozen: B


def frozen_runs(g: Grouped, drop: B | None, last_price: F64, run_since: I64, run_frozen: B) -> FrozenRuns:
    """The frozen runs of ``g`` given its stale verdict (``drop``), and per row before the batch the
    last taken price, the start of its run and whether that run was found frozen. A run is frozen
    from its first dropped repeat on; it ends at the next changed price. Sequential per row in
    meaning, so a batch finds the same as tick by tick."""
    before = run_frozen[g.seg_rows]
    if drop is None and not before.any():  # the common case: nothing frozen, nothing to read
        none = np.zeros(0, dtype=np.int64)
        return FrozenRuns(none, none, none, none, np.zeros(0), before)
    n = len(g)
    i = np.arange(n)
    prev = _previous_price(g, last_price)
    change = g.price != prev  # a new run begins (NaN, no tick before: a first run)
    seg_start = i - g.rank
    opener = np.maximum.accumulate(np.where(change, i, -1))
    # Each tick's run: the tick that opened it, or -1 - segment for the run going on before the batch.
    key = np.where(opener >= seg_start, opener, -1 - g.seg_of)
    pre_frozen = g.per_tick(before)
    frozen_tick = (key < 0) & pre_frozen  # in a run known frozen before the batch
    first_drop = np.zeros(0, dtype=np.int64)
    if drop is not None:
        at = np.flatnonzero(drop)
        # A run's first dropped repeat (drops are in order), unless its run was known frozen.
        _, first = np.unique(key[at], return_index=True)
        first_drop = at[np.sort(first)]
        first_drop = first_drop[~frozen_tick[first_drop]]
        # From its first dropped repeat to its end, every tick of the run is in a frozen run.
        marked = np.zeros(n, dtype=bool)
        marked[first_drop] = True
        frozen_tick |= np.maximum.accumulate(np.where(marked, i, -1)) >= np.where(key >= 0, key, seg_start)
    since = np.where(key >= 0, g.ts[np.maximum(key, 0)], g.per_tick(run_since[g.seg_rows]))
    # A changed price right after a tick of a frozen run (or, at a segment's start, after a frozen
    # run before the batch) resumes it.
    was_frozen = np.empty(n, dtype=bool)
    was_frozen[1:] = frozen_tick[:-1]
    was_frozen[g.starts] = before
    prev_since = np.empty(n, dtype=np.int64)
    prev_since[1:] = since[:-1]
    prev_since[g.starts] = run_since[g.seg_rows]
    resumed = np.flatnonzero(change & was_frozen & ~np.isnan(prev))
    return FrozenRuns(
        first_drop,
        since[first_drop],
        resumed,
        prev_since[resumed],
        prev[resumed],
        frozen_tick[g.ends - 1],
    )


def _previous_price(g: Grouped, last_price: F64) -> F64:
    """Per tick, the price of its series' tick before it: in the batch, else the last taken one."""
    prev = np.empty(len(g), dtype=np.float64)
    prev[1:] = g.price[:-1]
    prev[g.starts] = last_price[g.seg_rows]
    return prev
