"""Referenced pegs confirm a level like USD pegs do: one misparsed WBTC row is no critical."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.engine import MIN, T0, batch, peg_events_of
from tickerstream.engine import Engine
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]
STEP = 10 * MIN


def run(e: Engine, ticks: list[Tick]) -> list[PegEvent]:
    return peg_events_of(e, ticks, per_batch=4)


def pages(bad: dict[int, float], n: int = 24) -> list[Tick]:
    """BTC and WBTC (at -10 bps) every 10 minutes; WBTC on page k at ``bad[k]`` x BTC instead."""
    out: list[Tick] = []
    for k in range(n):
        btc = 100_000.0 + 10 * k
        out += [("BTC", T0 + k * STEP, btc), ("WBTC", T0 + k * STEP, round(btc * bad.get(k, 0.999), 2))]
    return out


def test_one_misparsed_wbtc_page_pages_nobody(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    assert run(e, pages({12: 0.9488})) == []  # -512 bps on one page, back at -10 the next
    assert e.peg_report("WBTC").state == "ok"  # type: ignore[union-attr]


def test_a_wbtc_depeg_on_two_pages_fires_on_the_second(make_engine: Callable[..., Engine]) -> None:
    evs = run(make_engine(), pages({12: 0.9488, 13: 0.9488}))
    assert [(ev.kind, ev.state) for ev in evs][:1] == [("change", "critical")]
    assert evs[0].ts == T0 + 13 * STEP and evs[0].episode_start == T0 + 12 * STEP


def test_one_page_beyond_the_bypass_pages_nobody(make_engine: Callable[..., Engine]) -> None:
    # -2500 bps on one page: the gross errors are the typical bad ticks (another coin's row)
    e = make_engine()
    assert run(e, pages({12: 0.75})) == []
    assert e.peg_report("WBTC").state == "ok"  # type: ignore[union-attr]


def test_beyond_the_bypass_the_next_page_confirms_at_once(make_engine: Callable[..., Engine]) -> None:
    # Two pages at -2500 bps a second apart (less than confirm_s): critical on the second.
    ticks = pages({12: 0.75})
    btc = 100_000.0 + 10 * 12
    ticks += [("BTC", T0 + 12 * STEP + 1000, btc), ("WBTC", T0 + 12 * STEP + 1000, round(btc * 0.75, 2))]
    ticks.sort(key=lambda tick: tick[1])
    evs = run(make_engine(), ticks)
    assert [(ev.ts, ev.state, ev.episode_start) for ev in evs][:1] == [
        (T0 + 12 * STEP + 1000, "critical", T0 + 12 * STEP)
    ]


def test_confirm_s_per_asset_still_overrides(tmp_path: Path, make_engine: Callable[..., Engine]) -> None:
    f = tmp_path / "pegs.toml"
    f.write_text('[assets.WBTC]\npeg = "BTC"\nconfirm_s = 0\n')
    evs = run(make_engine(f'pegs.registry_file="{f}"'), pages({12: 0.9488}))
    assert [(ev.ts, ev.state) for ev in evs][:1] == [(T0 + 12 * STEP, "critical")]


def test_one_gross_page_inside_a_depeg_is_no_update(make_engine: Callable[..., Engine]) -> None:
    # USDC at -300 bps (critical), one page at 0.25 (-7500 bps: another coin's row; a slipped
    # decimal is a scale jump, dropped before the peg monitor), then a real slide to -900 bps. The
    # gross page is neither a `deepened` nor the episode's depth, so the slide is still reported
    # step by step (one page beyond the bypass used to report -7500 and mute every update up to it).
    prices = [0.97] * 6 + [0.25] + [0.97 - 0.01 * k for k in range(7)] + [0.91]
    evs = run(make_engine(), [("USDC", T0 + k * STEP, p) for k, p in enumerate(prices)])
    assert all(ev.ts != T0 + 6 * STEP for ev in evs)
    deep = [ev for ev in evs if ev.kind == "deepened"]
    assert [round(abs(ev.worst_bps or 0)) for ev in deep] == [400, 500, 600, 700, 800, 900]


def test_a_collapse_beside_a_stale_mirror_is_critical_on_its_second_page(
    make_engine: Callable[..., Engine],
) -> None:
    # A live site shows USDC at 0.75 every 10 minutes; a mirror still at $1.00 pages in between.
    # Each $1.00 page breaks the run of consecutive pages: without the window the collapse was
    # never confirmed (silent for 14 h in a review recording).
    ticks = [("USDC", T0 + k * 5 * MIN, 1.0 if k % 2 else 0.75) for k in range(12)]
    evs = run(make_engine(), ticks)
    assert [(ev.ts, ev.state, ev.episode_start) for ev in evs][:1] == [(T0 + 10 * MIN, "critical", T0)]


def test_bad_prints_on_either_side_confirm_nothing(make_engine: Callable[..., Engine]) -> None:
    # USDC at par on pages 3 minutes apart; one page at 0.75, the next (more than confirm_s later)
    # at 1.30: they spanned confirm_s beyond critical, and confirmed a critical at -2500 bps.
    ticks = [("USDC", T0 + k * 3 * MIN, 1.0) for k in range(20)]
    ticks[10] = ("USDC", T0 + 30 * MIN, 0.75)
    ticks[11] = ("USDC", T0 + 33 * MIN, 1.30)
    assert run(make_engine(), ticks) == []


def mirrored(live: float, hours: float, mirror: float = 1.0) -> list[Tick]:
    """A live site showing USDC at ``live`` every 2 minutes, a mirror stuck at ``mirror`` paging a
    minute after each."""
    n = int(hours * 30)
    live_pages = [("USDC", T0 + k * 2 * MIN, live) for k in range(n)]
    return sorted(
        live_pages + [("USDC", T0 + k * 2 * MIN + MIN, mirror) for k in range(n)], key=lambda t: t[1]
    )


def test_a_depeg_beside_a_stale_mirror_at_par_is_confirmed_by_its_persistence(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC at 0.9700 (-300 bps) on a live site, a mirror still at 1.0000 between its pages, for
    10 hours: each mirror page broke the run of consecutive pages, below the bypass nothing else
    confirmed it, and the depeg was silent for the 10 hours. Pages beyond the level that keep
    coming for a quarter of an hour confirm it: critical 15 minutes in, from the first page, and it
    stays (the mirror's pages never make two in a row back inside)."""
    evs = run(make_engine(), mirrored(0.97, 10))
    changes = [
        (ev.ts, ev.prev_state, ev.state, ev.episode_start, ev.worst_bps) for ev in evs if ev.kind == "change"
    ]
    assert changes == [(T0 + 16 * MIN, "ok", "critical", T0, -300.0)]
    assert {ev.state for ev in evs} == {"critical"}


@pytest.mark.parametrize("burst_pages", [2, 7])
def test_a_short_burst_of_bad_pages_beside_good_ones_pages_nobody(
    make_engine: Callable[..., Engine], burst_pages: int
) -> None:
    """Bad pages at 0.97 between good pages at par: two pages 2 minutes apart, or seven spanning
    12 minutes, are not a depeg that persisted (and one bad site's burst is the common case)."""
    ticks = mirrored(1.0, 2, mirror=1.0)
    for k in range(burst_pages):
        i = 20 + 2 * k
        ticks[i] = ("USDC", ticks[i][1], 0.97)
    assert run(make_engine(), ticks) == []


def test_a_persisting_depeg_is_confirmed_across_a_restore(make_engine: Callable[..., Engine]) -> None:
    """The pages that keep coming are in the checkpoint: restored after 9 minutes of them, the
    depeg is confirmed at the same page as without a restore."""
    ticks = mirrored(0.97, 1)
    first = make_engine()
    got = run(first, ticks[:10])
    second = make_engine()
    second.restore(first.checkpoint())
    got += run(second, ticks[10:])
    assert got == run(make_engine(), ticks)
    assert [ev.ts for ev in got if ev.kind == "change"] == [T0 + 16 * MIN]


def test_a_depeg_deepens_a_quarter_step_beyond_what_its_entry_confirmed(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC (four decimals) entering critical on pages at -297 and -299 bps, then sliding by a few
    bps a page: `deepened` came at the first confirmed -300 (-302), a few bps after the entry
    event, the grid's artefact. Now the next level is also a quarter step (25 bps) beyond the
    confirmed entry: the first `deepened` is at a confirmed -322 or deeper."""
    prices = [1.0] * 5 + [0.9703, 0.9701, 0.9697, 0.9695, 0.9694, 0.9690, 0.9685, 0.9680, 0.9677, 0.9670]
    prices += [0.9668, 0.9665, 0.9662]
    ticks = [("USDC", T0 + k * MIN, p) for k, p in enumerate(prices)]
    e = make_engine()
    evs = [ev for ev in e.process(batch(ticks, 0.0001)) if isinstance(ev, PegEvent)]
    assert [(ev.kind, ev.state) for ev in evs][:1] == [("change", "critical")]
    deep = [ev for ev in evs if ev.kind == "deepened"]
    assert deep and all(ev.worst_bps is not None and ev.worst_bps <= -322 for ev in deep)


@pytest.mark.parametrize(
    ("level", "outlier", "expected"), [(0.9960, 0.9949, set()), (0.9830, 0.9799, {"warn"})]
)
def test_a_page_beyond_the_level_now_and_then_confirms_nothing(
    make_engine: Callable[..., Engine], level: float, outlier: float, expected: set[str]
) -> None:
    """USDC (four decimals) every 15 s at -40 bps (inside warn) with one page in 20 at -51, for 6
    hours: the pages beyond warn kept coming for 15 minutes, so they confirmed it, and the warn never
    cleared (-40 is outside its exit level). Pages beyond a level confirm it by persistence only when
    they are at least half of the pages: nothing here; at -170 with one page in 20 at -201, warn
    (what the pages say), not critical."""
    ticks = [("USDC", T0 + k * 15_000, outlier if k % 20 == 19 else level) for k in range(6 * 240)]
    evs = [ev for ev in make_engine().process(batch(ticks, 0.0001)) if isinstance(ev, PegEvent)]
    assert {ev.state for ev in evs} == expected


def test_a_depeg_confirmed_beside_a_mirror_deepens_and_sets_its_worst(
    make_engine: Callable[..., Engine],
) -> None:
    """The live site slides -300, -700, -1000 bps an hour apart, a mirror stuck at 1.0000 between
    its pages: critical by persistence, then no `deepened` and `worst_bps` -300 for good (the
    mirror's pages broke every run the updates read). What the live pages held over the last
    quarter hour, at least half the pages, now counts: `deepened` at -700 and -1000."""
    ticks = []
    for k in range(90):
        t = T0 + k * 2 * MIN
        live = 0.97 if k < 30 else 0.93 if k < 60 else 0.90
        ticks += [("USDC", t, live), ("USDC", t + MIN, 1.0)]
    evs = [ev for ev in make_engine().process(batch(ticks, 0.0001)) if isinstance(ev, PegEvent)]
    assert [(ev.kind, ev.worst_bps) for ev in evs if ev.kind != "reminder"] == [
        ("change", -300.0),
        ("deepened", -700.0),
        ("deepened", -1000.0),
    ]


def test_pages_beyond_a_level_before_an_exit_confirm_nothing_after_it(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC warn (pages at -60 bps), two pages at -300 between, back at par (the exit), then warn
    pages now and then: the pages counted toward a critical before the exit confirmed a warn after
    it, with an episode starting before the exit. Leaving a state drops them."""
    minutes = [(0, 0.994), (1, 0.994), (2, 0.994), (3, 0.97), (4, 0.994), (5, 0.97)]
    minutes += [(m, 1.0) for m in range(6, 12)]
    minutes += [(12.0, 0.994), (12.3, 0.994), (12.6, 0.994), (12.9, 0.994), (13.2, 0.994), (13.5, 1.0)]
    minutes += [(18, 0.994), (18.5, 1.0), (19.5, 1.0)]
    ticks = [("USDC", T0 + int(m * MIN), p) for m, p in minutes]
    evs = [ev for ev in make_engine().process(batch(ticks, 0.0001)) if isinstance(ev, PegEvent)]
    assert [(ev.prev_state, ev.state) for ev in evs if ev.kind == "change"] == [
        ("ok", "warn"),
        ("warn", "ok"),
    ]
