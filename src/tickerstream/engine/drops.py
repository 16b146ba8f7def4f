"""Scale jumps and stale repeats judged on a batch, both verdicts before either is applied.

The scale rule (``scale.py``) judges the ticks the grouping (``grouping.py``) accepted, the stale
rule (``stale.py``) the ones the scale rule keeps. Judged first and applied after (``Engine``), so
that a verdict can still be revised from the whole batch before any state is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.grouping import Grouped
from tickerstream.engine.scale import RowState, ScaleVerdict, scale_jumps
from tickerstream.engine.stale import StaleVerdict, stale_repeats

I64 = npt.NDArray[np.int64]


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
    and then the stale rule. Nothing is written: the caller applies them."""
    scale = scale_jumps(g, batch, batch_rows, state)
    return _with_repeats(g if scale is None else scale.taken, scale, state, runs)


def _with_repeats(seen: Grouped, scale: ScaleVerdict | None, state: RowState, runs: RunState) -> Drops:
    """The verdicts given the ticks less the scale jumps (``seen``): the stale rule's on them."""
    if len(seen) == 0:
        return Drops(scale, seen, None)
    stale = stale_repeats(seen, state.last_price, runs.run_since, runs.run_repeats, runs.stale_ms)
    return Drops(scale, seen, stale)
