"""Two sources that disagree about a peg, page after page: a live site off it and a mirror stuck at
$1.0000 that outnumbers it. Which one is right cannot be read from the pages, so the peg says so
(``unknown``, ``sources_disagree``) instead of letting the majority keep it silent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.engine import MIN, T0, batch, with_checkpoint_meta
from tickerstream.engine import Engine
from tickerstream.events import PegEvent

Page = tuple[int, float]  # ts, price (four decimals)


def live_and_mirror(live_every: int, mirror_every: int, hours: int = 10, back_at: int = 10**9) -> list[Page]:
    """USDC on a live site every ``live_every`` minutes, at the peg for the first hour, then at
    0.9697-0.9703 (about -300 bps) until minute ``back_at``, at the peg after; a mirror stuck at
    1.0000 every ``mirror_every`` minutes, 20 s after the minute."""
    pages: list[Page] = []
    for m in range(hours * 60):
        t = T0 + m * MIN
        if m % live_every == 0:
            off = 60 <= m < back_at
            pages.append((t, round(0.97 + 0.0003 * ((m // live_every) % 3 - 1), 4) if off else 1.0001))
        if m % mirror_every == 1:
            pages.append((t + 20_000, 1.0))
    return pages


def peg_events(
    e: Engine, pages: list[Page], cuts: list[int] | None = None, restore: Callable[[], Engine] | None = None
) -> list[PegEvent]:
    """USDC's peg events for ``pages`` fed in the batches ``cuts`` makes (None: one at a time);
    with ``restore``, each batch's checkpoint is restored into a new engine it makes."""
    pages = sorted(pages)
    bounds = list(range(1, len(pages))) if cuts is None else cuts
    out: list[PegEvent] = []
    for lo, hi in zip([0, *bounds], [*bounds, len(pages)], strict=True):
        ticks = [("USDC", ts, px) for ts, px in pages[lo:hi]]
        out += [ev for ev in e.process(batch(ticks, 1e-4)) if isinstance(ev, PegEvent)]
        if restore is not None:
            restored = restore()
            restored.restore(e.checkpoint())
            e = restored
    return out + [ev for ev in e.flush() if isinstance(ev, PegEvent)]


@pytest.mark.parametrize("mirror_every", [3, 5])
def test_a_depeg_a_mirror_outnumbers_is_no_longer_silent(
    make_engine: Callable[..., Engine], mirror_every: int
) -> None:
    """-300 bps on a live site every 10 minutes, a mirror at 1.0000 every 3 or 5: its pages broke
    every run and outnumbered the live ones, and the depeg was silent for 10 hours (no event). The
    live pages beyond the critical level keep coming at more than one price: at the fourth, 30
    minutes in, the peg is unknown because its sources disagree, with a reminder every hour."""
    evs = peg_events(make_engine(), live_and_mirror(10, mirror_every))
    changes = [(ev.ts, ev.prev_state, ev.state, ev.unknown_reason) for ev in evs if ev.kind == "change"]
    assert changes == [(T0 + 90 * MIN, "ok", "unknown", "sources_disagree")]
    reminders = [ev for ev in evs if ev.kind == "reminder"]
    assert len(reminders) == 8
    assert {(ev.state, ev.unknown_reason, ev.deviation_bps) for ev in reminders} == {
        ("unknown", "sources_disagree", None)
    }


def test_the_disagreement_ends_once_the_live_site_is_back(make_engine: Callable[..., Engine]) -> None:
    """As above, the live site back at the peg from minute 240: ``ok`` once no page beyond came for
    an hour (its last at minute 230): at the first page more than an hour after it."""
    evs = peg_events(make_engine(), live_and_mirror(10, 5, hours=6, back_at=240))
    changes = [(ev.ts, ev.state) for ev in evs if ev.kind == "change"]
    assert changes == [(T0 + 90 * MIN, "unknown"), (T0 + 291 * MIN + 20_000, "ok")]


def test_a_depeg_confirmed_by_its_pages_leaves_the_disagreement(make_engine: Callable[..., Engine]) -> None:
    """The mirror stops at minute 200: the live pages are the only ones, two of them 10 minutes apart
    confirm critical (from unknown) at once."""
    pages = [p for p in live_and_mirror(10, 5, hours=5) if p[1] != 1.0 or p[0] < T0 + 200 * MIN]
    evs = peg_events(make_engine(), pages)
    changes = [(ev.ts, ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]
    assert changes == [(T0 + 90 * MIN, "ok", "unknown"), (T0 + 210 * MIN, "unknown", "critical")]


def test_a_stale_page_off_the_peg_is_outvoted_as_before(make_engine: Callable[..., Engine]) -> None:
    """The other way round: the live site at the peg every 5 minutes (1.0000-1.0001), a mirror stuck
    at 0.9700 every 10. Its pages keep coming beyond the critical level but all show one price: a
    stale page, which the majority outvotes (no event), as before."""
    pages = [(T0 + m * MIN, 1.0001 if m % 10 else 1.0) for m in range(0, 600, 5)]
    pages += [(T0 + m * MIN + 20_000, 0.97) for m in range(60, 600, 10)]
    assert peg_events(make_engine(), pages) == []


def test_a_price_hovering_at_the_critical_level_is_no_disagreement(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC hovering around -190 bps, a page beyond -200 now and then: warn, never unknown (the pages
    between are off the peg themselves, not inside the warn level)."""
    prices = [0.9812, 0.9809, 0.9797, 0.9811, 0.9813, 0.9795, 0.9810, 0.9808]
    pages = [(T0 + m * 5 * MIN, prices[m % len(prices)] if m >= 6 else 1.0) for m in range(120)]
    evs = peg_events(make_engine(), pages)
    assert {ev.state for ev in evs} == {"warn"}


@pytest.mark.parametrize("cuts", [[], [40, 41, 42], list(range(3, 170, 7))])
def test_the_disagreement_is_judged_alike_however_the_stream_is_cut_and_restored(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """One batch, a few, and many with a checkpoint and restore between each: the same events as
    page by page."""
    pages = live_and_mirror(10, 5, hours=5, back_at=200)
    expected = peg_events(make_engine(), pages)
    assert [ev.state for ev in expected if ev.kind == "change"] == ["unknown", "ok"]
    got = peg_events(make_engine(), pages, cuts, restore=make_engine)
    assert got == expected


def test_a_peg_state_v10_checkpoint_restarts_the_run(make_engine: Callable[..., Engine]) -> None:
    """A v10 checkpoint keeps no run of pages beyond the critical level: restored after the live
    pages at minutes 60 and 70, the run starts again at 80, and the disagreement is said 30 minutes
    after that, at 110 (90 without the restore)."""
    pages = sorted(live_and_mirror(10, 5, hours=3))
    cut = next(i for i, (ts, _) in enumerate(pages) if ts > T0 + 72 * MIN)

    def as_v10(meta: dict[str, Any]) -> None:
        assert meta["pegs"]["version"] == 11
        track = meta["pegs"]["tracks"]["USDC"]
        assert (track["split_start"], track["split_pages"], track["split_varied"]) == (T0 + 60 * MIN, 2, True)
        meta["pegs"]["version"] = 10
        for name in (
            "split_start",
            "split_last",
            "split_pages",
            "split_other",
            "split_price",
            "split_varied",
        ):
            del track[name]

    e = make_engine()
    e.process(batch([("USDC", ts, px) for ts, px in pages[:cut]], 1e-4))
    old = make_engine()
    old.restore(with_checkpoint_meta(e.checkpoint(), as_v10))
    evs = old.process(batch([("USDC", ts, px) for ts, px in pages[cut:]], 1e-4))
    changes = [(ev.ts, ev.state) for ev in evs if isinstance(ev, PegEvent) and ev.kind == "change"]
    assert changes == [(T0 + 110 * MIN, "unknown")]


def test_a_depeg_that_ramps_through_warn_beside_a_mirror_is_a_disagreement(
    make_engine: Callable[..., Engine],
) -> None:
    """The live site's first pages off the peg at -60 and -150 bps (warn), then about -300: the
    run of pages beyond the critical level starts at the first of those, and pages at the warn
    level count as others. It was judged as a run at the warn level, which never disagrees: silent
    for 10 hours."""
    ramp = {60: 0.994, 70: 0.985}
    pages = [(ts, ramp.get((ts - T0) // MIN, px)) for ts, px in live_and_mirror(10, 5)]
    evs = peg_events(make_engine(), pages)
    changes = [(ev.ts, ev.state, ev.unknown_reason) for ev in evs if ev.kind == "change"]
    assert changes == [(T0 + 110 * MIN, "unknown", "sources_disagree")]


def test_a_missing_reference_is_the_reason_once_it_is(make_engine: Callable[..., Engine]) -> None:
    """WBTC at -300 bps against BTC on a live site every 10 minutes beside a mirror at par every 5:
    unknown, sources disagree. BTC's pages then stop: the reminders and the gauge's input say the
    reference is missing, not the sources (the alert for a stale reference must fire)."""
    ticks: list[tuple[str, int, float]] = []
    for m in range(6 * 60):
        t = T0 + m * MIN
        if m < 180 and m % 2 == 0:
            ticks.append(("BTC", t, 100_000.0 + m % 7))
        if m % 10 == 0:
            ticks.append(("WBTC", t + 5_000, 100_000.0 if m < 60 else 97_000.0 + 10 * (m // 10 % 3)))
        if m % 5 == 1:
            ticks.append(("WBTC", t + 20_000, 100_000.0))
    e = make_engine()
    evs = [ev for ev in e.process(batch(ticks, 0.01)) if isinstance(ev, PegEvent) and ev.symbol == "WBTC"]
    reasons = [(ev.kind, ev.state, ev.unknown_reason) for ev in evs]
    assert reasons[0] == ("change", "unknown", "sources_disagree")
    assert reasons[-1][1:] == ("unknown", "no_reference")
    report = e.peg_report("WBTC")
    assert report is not None and not report.sources_disagree
