"""Re-arming is time-based: a receding page re-arms a move only a quarter of the horizon after the
latest triggering page."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.engine.config import MoveConfig
from tickerstream.events import Move

HORIZONS = ("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 10.0]", "moves.zscore_k=1000")


def hour_moves(e: Engine, ticks: list[tuple[int, float]]) -> list[tuple[int, str, str]]:
    out = [m for m in e.process(batch([("ADA", ts, p) for ts, p in ticks], 0.01)) if isinstance(m, Move)]
    return [(m.ts, m.kind, m.direction) for m in out if m.horizon_s == 3600]


def test_a_second_crash_after_a_recovery_is_new(make_engine: Callable[..., Engine]) -> None:
    """Hourly pages: 10.0, 9.28 (-7.2 %, new), 9.29, 9.65, 10.0, 10.0, 9.3 (-7 %). The receding
    pages never came two in a row, so the second crash was a `reminder` of the first; the page at
    9.29 recedes an hour after the first crash's trigger and re-arms: the second is `new`."""
    px = [10.0] * 6 + [9.28, 9.29, 9.65, 10.0, 10.0, 9.3]
    e = make_engine(*HORIZONS)
    got = hour_moves(e, [(T0 + k * 60 * MIN, p) for k, p in enumerate(px)])
    assert got == [(T0 + 6 * 60 * MIN, "new", "down"), (T0 + 11 * 60 * MIN, "new", "down")]


def test_two_lagging_sources_make_one_crash_one_event(make_engine: Callable[..., Engine]) -> None:
    """Site A pages every 5 min; sites B and C show A's price of 10 minutes before, 2 and 3 minutes
    after A. After a -6 % drop two receding pages (B, C) came in a row between live ones and
    re-armed the detector: `new` at 03:00, 03:05, 03:10. They come within minutes of a triggering
    page, so they re-arm nothing: one `new`."""

    def a_px(t: int) -> float:
        return 100.0 if t < 120 * MIN else 94.0

    ticks = []
    for k in range(40):
        t = k * 5 * MIN
        lag = a_px(t - 10 * MIN)
        ticks += [(T0 + t, a_px(t)), (T0 + t + 2 * MIN, lag), (T0 + t + 3 * MIN, lag)]
    e = make_engine(*HORIZONS)
    got = hour_moves(e, ticks)
    assert [m for m in got if m[1] == "new"] == [(T0 + 120 * MIN, "new", "down")]


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_rearm_after_is_validated(value: float) -> None:
    with pytest.raises(ValueError, match="rearm_after"):
        MoveConfig(rearm_after=value)
