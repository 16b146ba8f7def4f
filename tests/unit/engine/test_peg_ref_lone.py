"""A lone print in a reference (one page far off both neighbours, which agree: an ETH page reading
3745.79 between 3475.79 and 3463.06, two digits swapped) is no reference point: pegged ticks are not
judged against it and it is not in the reference's volatility. A real reference crash that stays
down, and an alternation of two sources out of step, are no lone prints."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from tests.support.engine import MIN, T0, batch, config, peg_events_of
from tickerstream.engine import Engine
from tickerstream.engine.config import PegConfig
from tickerstream.engine.pegref import RefHistory, RefModel
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]
STEP = 10 * MIN
MODEL = RefModel(
    max_age_ms=30 * MIN,
    max_after_ms=15 * MIN,
    z=2.0,
    vol_points=32,
    vol_floor=RefModel.daily_pct_to_per_sqrt_s(1.0),
    vol_prior=RefModel.daily_pct_to_per_sqrt_s(5.0),
)


def eth(k: int) -> float:
    """ETH's true price on page k: a small wiggle around 3470."""
    return round(3470.0 * (1 + 8e-4 * ((k * 7) % 5 - 2)), 2)


def pages(n: int, bad: int | None = None, depeg_from: int | None = None) -> list[Tick]:
    """ETH and stETH pages every 10 minutes (stETH 1 s later, at -10 bps of ETH); ETH page ``bad``
    reads 8 % too high (digits swapped: a misparse the engine's scale check cannot tell, unlike a
    1000x one, which never reaches a reference); from page ``depeg_from`` stETH trades 6 % under
    ETH."""
    out: list[Tick] = []
    for k in range(n):
        out.append(("ETH", T0 + k * STEP, round(eth(k) * 1.08, 2) if k == bad else eth(k)))
        ratio = 0.94 if depeg_from is not None and k >= depeg_from else 0.999
        out.append(("STETH", T0 + k * STEP + 1000, round(eth(k) * ratio, 2)))
    return out


def run(e: Engine, ticks: list[Tick]) -> list[PegEvent]:
    return peg_events_of(e, ticks, per_batch=3)


def test_a_lone_reference_print_leaves_the_peg_judged(make_engine: Callable[..., Engine]) -> None:
    """The review's case: the bad ETH page made stETH unknown for 5.5 hours and hid a real -600 bps
    depeg starting 3 hours later. Now only the stETH pages right next to the bad one are not judged
    (which side of it the true ETH was is not known): 20 minutes without a judgement at this
    cadence, past unknown_after_s, so the peg is unknown for a few pages; the depeg fires at once
    (after confirm_s), judged against the true ETH."""
    e = make_engine()
    evs = run(e, pages(60, bad=20, depeg_from=38))
    changes = [(ev.prev_state, ev.state, ev.ts) for ev in evs if ev.kind == "change"]
    assert changes[:2] == [("ok", "unknown", T0 + 20 * STEP + 1000), ("unknown", "ok", changes[1][2])]
    assert changes[1][2] <= T0 + 22 * STEP + 1000  # judged again from the page after the bad one
    assert [c[:2] for c in changes[2:]] == [("ok", "critical")]
    fired = [ev for ev in evs if ev.kind == "change"][2]
    assert fired.ts == T0 + 39 * STEP + 1000  # the second depegged page: confirm_s (120 s) later
    assert fired.ref_price == eth(39) and fired.judged_bps is not None and fired.judged_bps < -550
    assert all(ev.ref_price is None or ev.ref_price < 3600 for ev in evs)  # never the bad page
    assert e.stats.ref_stale == 2  # the pages just before and just after it


def test_the_volatility_leaves_a_lone_print_out() -> None:
    h = RefHistory([], [])
    for k in range(40):
        h.add(T0 + k * STEP, eth(k) / 1000 if k == 20 else eth(k), keep=4096)
    clean = RefHistory([], [])
    for k in range(40):
        if k != 20:
            clean.add(T0 + k * STEP, eth(k), keep=4096)
    ts = T0 + 30 * STEP + 1000
    band, ref = h.band(ts, MODEL), clean.band(ts, MODEL)
    assert band is not None and ref is not None
    assert math.isclose(band.uncertainty_bps, ref.uncertainty_bps, rel_tol=0.05)
    assert band.uncertainty_bps < 25  # within WETH/stETH-like tolerances, not thousands of bps
    # the point next to the print: judged with the points around it, as if it had not been shown
    near = h.band(T0 + 20 * STEP + 1000, MODEL)
    assert near is not None and near.price == eth(19) and near.lo > 3400


def test_a_reference_crash_that_stays_down_is_no_lone_print() -> None:
    """BTC -10 % in one page and staying there: the crash page is a reference point."""
    h = RefHistory([], [])
    prices = [100_000.0 + 10 * k for k in range(20)] + [90_000.0 + 10 * k for k in range(10)]
    for k, p in enumerate(prices):
        h.add(T0 + k * 5 * MIN, p, keep=4096)
    band = h.band(T0 + 20 * 5 * MIN + 1000, MODEL)
    assert band is not None and band.price == 90_000.0 and band.hi < 91_000


def test_two_sources_out_of_step_are_no_lone_prints() -> None:
    """A crash page, then a stale page at the old price, then the crash again: which page is right is
    not known, so none is dropped and the tick between is not judged (a wide band), rather than
    judged against the stale price."""
    h = RefHistory([], [])
    prices = [104_300.0 + 7 * k for k in range(12)] + [98_100.0, 104_350.0, 98_090.0, 98_080.0]
    for k, p in enumerate(prices):
        h.add(T0 + k * 150_000, p, keep=4096)
    band = h.band(T0 + 12 * 150_000 + 1000, MODEL)  # just after the crash page
    assert band is not None and band.lo < 98_100 and band.hi > 104_300


def test_a_jump_waits_for_the_next_point_before_its_pegs_are_judged(
    make_engine: Callable[..., Engine],
) -> None:
    """A pegged tick at the ts of a reference point far off the one before it is held until the next
    point says whether it was a lone print (or until its wait ends): replay and Kafka judge with the
    same points."""
    e = make_engine()
    ticks = pages(10)
    assert run(e, ticks) == []
    evs = [ev for ev in e.process(batch([("ETH", T0 + 10 * STEP, 3.47)], 0.01)) if isinstance(ev, PegEvent)]
    evs += [
        ev for ev in e.process(batch([("STETH", T0 + 10 * STEP, 3466.5)], 0.01)) if isinstance(ev, PegEvent)
    ]
    assert evs == [] and e.stats.held == 1
    e.process(batch([("ETH", T0 + 11 * STEP, eth(11))], 0.01))
    assert e.stats.held == 0 and e.stats.ref_stale == 0  # judged against ETH page 9, not 3.47


def test_ref_lone_pct_must_be_a_fraction_of_a_price() -> None:
    for bad in (0.0, 100.0, math.nan):
        with pytest.raises(ValueError, match="ref_lone_pct"):
            PegConfig(ref_lone_pct=bad)
    assert config("pegs.ref_lone_pct=2.5").pegs.ref_lone_pct == 2.5


def test_kafka_feeding_the_reference_ahead_or_behind_judges_as_the_replay(
    make_engine: Callable[..., Engine],
) -> None:
    """The reference from another instance (``observe_reference`` with horizons), all of it before the
    pegged ticks or one point per step after them: the same events as the replay."""
    ticks = pages(60, bad=20, depeg_from=38)
    expected = [ev.to_json() for ev in run(make_engine(), ticks)]
    assert len(expected) > 2
    ref = [t for t in ticks if t[0] == "ETH"]
    steth = [t for t in ticks if t[0] == "STETH"]

    def observed(e: Engine, points: list[Tick]) -> list[PegEvent]:
        evs = e.observe_reference(
            [s for s, _, _ in points], [t for _, t, _ in points], [p for _, _, p in points]
        )
        evs += e.set_reference_horizons({"ETH": points[-1][1] + 1})
        return [ev for ev in evs if isinstance(ev, PegEvent)]

    ahead = make_engine()
    got = observed(ahead, ref)
    for i in range(0, len(steth), 4):
        got += [ev for ev in ahead.process(batch(steth[i : i + 4], 0.01)) if isinstance(ev, PegEvent)]
    got += [ev for ev in ahead.flush() if isinstance(ev, PegEvent)]
    assert [ev.to_json() for ev in got] == expected

    behind = make_engine()
    behind.set_reference_horizons({"ETH": T0})
    got = [ev for ev in behind.process(batch(steth, 0.01)) if isinstance(ev, PegEvent)]
    for point in ref:
        got += observed(behind, [point])
    got += [ev for ev in behind.flush() if isinstance(ev, PegEvent)]
    assert [ev.to_json() for ev in got] == expected


def btc(i: int) -> float:
    """BTC's true price at 2-minute step i: a small wiggle around 100,000."""
    return round(100_000.0 * (1 + 2e-5 * ((i * 3) % 7 - 3)), 2)


def spike_pages(n: int, spike: int) -> list[Tick]:
    """BTC pages every 10 minutes, WBTC pages every 2 minutes (1 s later, at -5 bps of BTC). BTC is
    really 8 % up for the 10 minutes from 2-minute step ``spike`` (a BTC page's step): one BTC page
    shows it, five WBTC pages track it."""
    out: list[Tick] = []
    for i in range(n):
        f = 1.08 if spike <= i < spike + 5 else 1.0
        if i % 5 == 0:
            out.append(("BTC", T0 + i * 2 * MIN, round(btc(i) * f, 2)))
        out.append(("WBTC", T0 + i * 2 * MIN + 1000, round(btc(i) * f * 0.9995, 2)))
    return out


def test_a_real_one_page_reference_spike_tracked_by_the_peg_is_no_alarm(
    make_engine: Callable[..., Engine],
) -> None:
    """The review's case: a real BTC spike lasting one BTC page, which WBTC (published more often)
    tracked over five of its own pages. On the reference alone it is a lone print; the WBTC pages
    next to it were judged against the BTC page before it and raised a false critical. A pegged tick
    whose nearest reference point on either side is a lone print is not judged: the peg goes unknown
    (20 minutes without a judgement), never warn or critical."""
    e = make_engine()
    evs = run(e, spike_pages(300, spike=150))
    changes = [(ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]
    assert changes == [("ok", "unknown"), ("unknown", "ok")]
    assert all(ev.state in ("ok", "unknown") for ev in evs)
    calm = make_engine()
    assert run(calm, spike_pages(300, spike=-5)) == []  # no spike: the same pages judged ok
    # Not judged beyond the calm run's first pages (the volatility prior): the WBTC pages from the
    # one after BTC's page at step 145 to the one before its page at step 155.
    assert e.stats.ref_stale - calm.stats.ref_stale == 10


def test_a_tick_beside_a_lone_print_gets_an_unjudgeable_band() -> None:
    """On either side of a lone print (known as one within the wait) and at its own ts: an infinitely
    uncertain band at the point beyond it, which the monitor does not judge by. Beyond the next point
    on either side, the points around the print judge as usual."""
    h = RefHistory([], [])
    for k in range(30):
        h.add(T0 + k * STEP, round(eth(k) * 1.08, 2) if k == 20 else eth(k), keep=4096)
    for ts, price in (
        (T0 + 19 * STEP + 6 * MIN, eth(19)),  # before it: point 21 is within the wait
        (T0 + 20 * STEP, eth(19)),  # at it
        (T0 + 20 * STEP + 1000, eth(19)),
        (T0 + 21 * STEP - 1000, eth(19)),
    ):
        band = h.band(ts, MODEL)
        assert band is not None and band.uncertainty_bps == math.inf and band.price == price
    for ts in (T0 + 19 * STEP - 1000, T0 + 21 * STEP, T0 + 21 * STEP + 1000):
        band = h.band(ts, MODEL)
        assert band is not None and band.uncertainty_bps < 25 and band.hi < 3600
