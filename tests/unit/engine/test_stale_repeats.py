"""A frozen source: a precise price repeated for ``windows.stale_after_s`` is no information.

A review recording: ETH on 5-minute pages at 3 %/day; the source repeats one price for 8 hours
while the market slides 9 %, then resumes. Its repeats were points: on resumption the whole slide
read as one hour's move, "-9.3 % in 1 h, z -17.9". Now they are dropped after 30 minutes, and the
first changed price is measured across the gap from the last taken point, by its z over the span.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.support.engine import HOUR, MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import Event, Move

STEP = 5 * MIN
FREEZE = 2 * 24 * 12  # pages before the freeze: two days


def frozen_eth() -> list[tuple[str, int, float]]:
    """ALT (not a peg reference) at 3 %/day, a page every 5 minutes in cents; frozen for 8 hours
    from page FREEZE while the true price slides 9 %, then shown again."""
    rng = np.random.default_rng(11)
    n = FREEZE + 8 * 12 + 12
    walk = 3200.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03 * np.sqrt(5 / 1440), n)))
    slide = np.ones(n)
    slide[FREEZE:] = np.exp(np.linspace(0.0, np.log(0.91), n - FREEZE))
    true = walk * slide
    shown = [round(float(p), 2) for p in true]
    for k in range(FREEZE, FREEZE + 8 * 12):
        shown[k] = shown[FREEZE]  # the source repeats its last page
    return [("ALT", T0 + k * STEP, p) for k, p in enumerate(shown)]


def run(e: Engine, ticks: list[tuple[str, int, float]], per_batch: int = 50) -> list[Event]:
    out: list[Event] = []
    for i in range(0, len(ticks), per_batch):
        out += e.process(batch(ticks[i : i + per_batch], 0.01))
    return out


def hour_moves(evs: list[Event], after: int) -> list[Move]:
    return [ev for ev in evs if isinstance(ev, Move) and ev.horizon_s == 3600 and ev.ts >= after]


def test_a_frozen_source_is_measured_from_its_last_taken_point(make_engine: Callable[..., Engine]) -> None:
    ticks = frozen_eth()
    back = T0 + (FREEZE + 8 * 12) * STEP
    # z 5 so the resumption's true z (about -5.7 over 7.5 hours) shows; the default 6 reports nothing
    old = hour_moves(run(make_engine("moves.zscore_k=5", "windows.stale_after_s=0"), ticks), back)
    assert [(m.ts, m.from_ts) for m in old] == [(back, back - HOUR)]  # "-9 % in one hour"
    assert old[0].zscore is not None and old[0].zscore < -15
    e = make_engine("moves.zscore_k=5")
    new = hour_moves(run(e, ticks), back)
    frozen_from = T0 + FREEZE * STEP
    assert [m.ts for m in new] == [back]
    m = new[0]
    assert frozen_from <= m.from_ts <= frozen_from + 30 * MIN  # the last repeat taken
    assert m.zscore is not None and -7.0 < m.zscore < -5.0 and m.change_pct < -8.0
    # every repeat after the first half hour dropped and counted
    assert e.stats.stale_repeats == 8 * 12 - 30 // 5  # from the page 30 minutes into the run


def test_the_same_decisions_tick_by_tick_and_across_a_checkpoint(make_engine: Callable[..., Engine]) -> None:
    ticks = frozen_eth()
    whole = make_engine()
    expected = [ev.to_json() for ev in run(whole, ticks, per_batch=len(ticks))]
    single = make_engine()
    assert [ev.to_json() for ev in run(single, ticks, per_batch=1)] == expected
    # stopped in the middle of the freeze and restored into a new engine
    cut = (FREEZE + 3 * 12) // 50 * 50
    first = make_engine()
    got = run(first, ticks[:cut])
    second = make_engine()
    second.restore(first.checkpoint())
    got += run(second, ticks[cut:])
    assert [ev.to_json() for ev in got] == expected
    assert whole.stats.stale_repeats == single.stats.stale_repeats
    assert first.stats.stale_repeats + second.stats.stale_repeats == whole.stats.stale_repeats > 0


def test_repeats_that_can_be_real_are_taken(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    hours = [T0 + k * STEP for k in range(3 * 12)]
    # USDT in cents and a coin at $0.05 in four decimals sit in one step for hours; a precise
    # price repeated for 25 minutes (a cached widget) is still taken; a v1 tick's precision is unknown
    e.process(batch([("USDT", t, 1.0) for t in hours], 0.01))
    e.process(batch([("PYUSD", t, 1.0001) for t in hours], 0.0001))  # a stablecoin in four decimals
    e.process(batch([("LOW", t, 0.0512) for t in hours], 0.0001))
    e.process(batch([("ALT", T0 + k * STEP, 3200.17) for k in range(6)], 0.01))
    e.process(batch([("OLD", t, 3200.17) for t in hours]))
    assert e.stats.stale_repeats == 0
