"""A frozen source: a precise price repeated for ``windows.stale_after_s`` is no information.

A review recording: ETH on 5-minute pages at 3 %/day; the source repeats one price for 8 hours
while the market slides 9 %, then resumes. Its repeats were points: on resumption the whole slide
read as one hour's move, "-9.3 % in 1 h, z -17.9". Now they are dropped after 30 minutes, and the
first changed price is measured across the gap from the last taken point, by its z over the span.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import orjson
import pytest

from tests.support.engine import HOUR, MIN, T0, batch, config
from tickerstream.engine import Engine, TickBatch
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


# --- batch invariance: a dropped repeat hides no later page ------------------------------------------

FAST = "windows.stale_after_s=60"  # a freeze on 1-minute pages: the second repeat is dropped
MOVES = ("moves.horizons_s=[600, 3600]", "moves.threshold_pct=[0.5, 1.0]", "moves.zscore_k=0.5")


def cut_at(e: Engine, ticks: list[tuple[str, int, float]], cuts: list[int]) -> list[bytes]:
    """The events of ``ticks`` (in cents) fed in batches cut at ``cuts``, as JSON, sorted: a call
    sorts its events by ts, calls come in stream order (a page older than the one before it)."""
    out: list[bytes] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(ticks)], strict=True):
        out += [ev.to_json() for ev in e.process(batch(ticks[lo:hi], 0.01))]
    return sorted(out)


def counts(e: Engine) -> tuple[int, ...]:
    s = e.stats
    return (s.accepted, s.late, s.duplicates, s.stale_repeats, s.scale_jumps, s.sources, s.moves)


def cut(
    ticks: list[tuple[str, int, float]], cuts: list[int], *overrides: str
) -> tuple[list[bytes], tuple[int, ...], bytes]:
    """Events, counts and checkpoint of a new engine fed ``ticks`` in batches cut at ``cuts``."""
    e = Engine(config(*overrides))
    events = cut_at(e, ticks, cuts)
    return events, counts(e), e.checkpoint()


def tick_by_tick(
    ticks: list[tuple[str, int, float]], *overrides: str
) -> tuple[list[bytes], tuple[int, ...], bytes]:
    return cut(ticks, list(range(1, len(ticks))), *overrides)


def sources_of(events: list[bytes]) -> list[tuple[str, int, float]]:
    evs = [orjson.loads(ev) for ev in events]
    return sorted((ev["kind"], ev["ts"], ev["price"]) for ev in evs if ev["type"] == "source")


FROZEN_THEN_AT_ITS_TS = [
    *(("ETH", T0 + k * MIN, 3000.0) for k in range(4)),  # taken, taken, then two repeats dropped
    ("ETH", T0 + 3 * MIN, 3001.0),  # the source changes, at the ts of the last dropped repeat
    ("ETH", T0 + 4 * MIN, 3001.5),
]


@pytest.mark.parametrize("cuts", [[], [1], [3], [4], [2, 5], [1, 2, 3, 4, 5]])
def test_a_page_at_the_ts_of_a_dropped_repeat_is_taken(cuts: list[int]) -> None:
    """ETH frozen at 3000.00 on 1-minute pages (stale after a minute: the third and fourth pages
    dropped), then 3001.00 at the ts of the last dropped page. Tick by tick it is taken (a dropped
    repeat is no point, so the series' last ts is still the second page's) and resumes the source;
    in one batch it was a duplicate of the dropped repeat, and `resumed` came a minute later."""
    events, got, state = cut(FROZEN_THEN_AT_ITS_TS, cuts, FAST)
    assert sources_of(events) == [("frozen", T0 + 2 * MIN, 3000.0), ("resumed", T0 + 3 * MIN, 3001.0)]
    assert got[:4] == (4, 0, 0, 2)  # accepted, late, duplicates, stale repeats
    assert (events, got, state) == tick_by_tick(FROZEN_THEN_AT_ITS_TS, FAST)


FROZEN_THEN_BEFORE_ITS_TS = [
    *(("ETH", T0 + k * MIN, 3000.0) for k in range(5)),  # the last three dropped
    ("ETH", T0 + 90_000, 2999.0),  # between the last taken page (1 min) and the dropped ones
    ("ETH", T0 + 90_000, 2999.5),  # a duplicate of it
    ("ETH", T0 + 80_000, 2999.5),  # late
    ("ETH", T0 + 150_000, 2999.0),  # older than the last dropped repeat, a minute after the change
]


@pytest.mark.parametrize("cuts", [[], [5], [6], [3, 7], [1, 2, 3, 4, 5, 6, 7, 8]])
def test_a_page_older_than_a_dropped_repeat_is_taken(cuts: list[int]) -> None:
    """A changed page older than the last dropped repeat but newer than the last taken page is in
    order tick by tick: taken, and so is the page after it, whatever ts the dropped repeats had;
    only the pages at or before it are a duplicate and late."""
    events, got, state = cut(FROZEN_THEN_BEFORE_ITS_TS, cuts, FAST)
    assert sources_of(events) == [("frozen", T0 + 2 * MIN, 3000.0), ("resumed", T0 + 90_000, 2999.0)]
    assert got[:4] == (4, 1, 1, 3)
    assert (events, got, state) == tick_by_tick(FROZEN_THEN_BEFORE_ITS_TS, FAST)


# A confirmed jump to x12 (3000 to 36000: no decimal shift, no misread's shape), frozen there, then
# a page back at the scale left between two frozen repeats.
BACK_BETWEEN_REPEATS = [
    ("ETH", T0 + k * MIN, p)
    for k, p in enumerate(
        [3000.0, 3000.5, 36000.0, 36000.0, 36000.0, 36000.0, 3000.7, 36000.0, 3000.8, 3000.9]
    )
]


@pytest.mark.parametrize("cuts", [[], [7], [8], [6, 8], list(range(1, 10))])
def test_a_dropped_repeat_does_not_part_two_pages_back_at_the_scale_left(cuts: list[int]) -> None:
    """A return to the scale left at the latest confirmed jump needs two pages in a row (scale.py):
    here 3000.70 and 3000.80, with a dropped repeat at 36000 between them. Tick by tick that repeat
    is no taken page, so the two are in a row and the second confirms the return; in one batch the
    scale rule took the repeat for a taken page (it is dropped after) and dropped 3000.80 too."""
    events, got, state = cut(BACK_BETWEEN_REPEATS, cuts, FAST)
    assert got[3:5] == (2, 2)  # stale repeats, scale jumps: 36000 once, 3000.70 once
    assert sources_of(events)[-1] == ("resumed", T0 + 8 * MIN, 3000.8)
    assert (events, got, state) == tick_by_tick(BACK_BETWEEN_REPEATS, FAST)


def freezing_stream(rng: np.random.Generator) -> list[tuple[str, int, float]]:
    """Two precise series (ETH and BTC in cents) on pages about a minute apart: a walk with freezes
    (one price for several pages), pages at the ts of the one before or older (changed or not), and
    now and then a page at another scale (alone, or two to confirm it)."""
    per_symbol: list[list[tuple[str, int, float]]] = []
    for sym, price in (("ETH", 3000.0), ("BTC", 90_000.0)):
        ticks: list[tuple[str, int, float]] = []
        t, p = T0, price
        for _ in range(int(rng.integers(4, 24))):
            u = rng.random()
            if u < 0.35:  # frozen: the same price on the next page
                t += MIN
            elif u < 0.55:  # at the ts of the page before, or older
                t -= int(rng.choice([0, 0, 30_000, MIN]))
                if rng.random() < 0.6:
                    p = round(p * float(np.exp(rng.normal(0.0, 0.004))), 2)
            elif u < 0.63:  # a misread scale, on one page or two
                t += MIN
                jump = float(rng.choice([10.0, 0.1, 12.0, 1 / 12]))
                for _ in range(int(rng.integers(1, 3))):
                    ticks.append((sym, t, round(p * jump, 2)))
                    t += int(rng.choice([0, MIN]))
                continue
            else:
                t += int(rng.choice([30_000, MIN, MIN]))
                p = round(p * float(np.exp(rng.normal(0.0, 0.004))), 2)
            ticks.append((sym, t, p))
        per_symbol.append(ticks)
    # Interleaved at random, each series in its own order.
    out: list[tuple[str, int, float]] = []
    heads = [0, 0]
    while heads[0] < len(per_symbol[0]) or heads[1] < len(per_symbol[1]):
        k = int(rng.integers(0, 2))
        if heads[k] == len(per_symbol[k]):
            k = 1 - k
        out.append(per_symbol[k][heads[k]])
        heads[k] += 1
    return out


def test_random_freezes_are_judged_as_tick_by_tick() -> None:
    """Small random streams with freezes, duplicates, late pages and scale jumps: one batch and
    random cuts give the events, counts and checkpoint of tick by tick."""
    rng = np.random.default_rng(2024)
    total = np.zeros(7, dtype=np.int64)
    both = 0
    for case in range(100):
        ticks = freezing_stream(rng)
        expected = tick_by_tick(ticks, FAST, *MOVES)
        cuts = sorted({int(c) for c in rng.integers(1, len(ticks), size=int(rng.integers(1, 4)))})
        for cs in ([], cuts):
            assert cut(ticks, cs, FAST, *MOVES) == expected, (case, cs, ticks)
        _, late, duplicates, repeats, *_ = expected[1]
        both += int(repeats > 0 and late + duplicates > 0)
        total += expected[1]
    # The streams exercise what is at stake: many have both dropped repeats and rejected pages, and
    # there are scale jumps, source events and moves to get right.
    assert both > 30
    assert min(total[4:]) > 20, total


@pytest.mark.parametrize("cuts", [[], list(range(1, 124))])
def test_a_coarse_sites_repeats_freeze_no_precise_page(cuts: list[int]) -> None:
    """USDT at $1.00 on a cents site every minute; a six-decimal site every 40 minutes, a different
    price each time, once exactly 1.000000. That page repeated the run of $1.00 begun 40 minutes
    before with 39 repeats: `frozen`, dropped, and `resumed` at the next precise page. Only precise
    repeats count toward a frozen run."""
    fine = {5: 0.999987, 45: 1.000000, 85: 1.000014}
    ticks: list[tuple[str, int, float, float]] = []
    for m in range(120):
        ticks.append(("USDT", T0 + m * MIN, 1.00, 0.01))
        if m in fine:
            ticks.append(("USDT", T0 + m * MIN + 20_000, fine[m], 1e-6))
    e = Engine(config())
    events: list[bytes] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(ticks)], strict=True):
        part = ticks[lo:hi]
        b = TickBatch.from_arrays(
            [t[0] for t in part], [t[1] for t in part], [t[2] for t in part], [t[3] for t in part]
        )
        events += [ev.to_json() for ev in e.process(b)]
    assert sources_of(events) == []
    assert e.stats.stale_repeats == 0
