"""What an entry leaves behind: the pages that entered a level count toward the next one, and the
episode's reported depth is what the confirmation established, not the entering page's own value."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import PegEvent

STEP = 30 * MIN


def run_usdc(e: Engine, prices: list[float], step: int = STEP) -> list[PegEvent]:
    """USDC shown to four decimals, one page every ``step`` from T0."""
    out: list[PegEvent] = []
    for k, p in enumerate(prices):
        b = batch([("USDC", T0 + k * step, p)], 0.0001)
        out.extend(ev for ev in e.process(b) if isinstance(ev, PegEvent))
    return out


def page(ev: PegEvent, step: int = STEP) -> int:
    return (ev.ts - T0) // step


# --- the pages that entered a level count toward the next ------------------------------------------


def test_critical_is_confirmed_by_the_pages_that_entered_warn(make_engine: Callable[..., Engine]) -> None:
    """-100, -300, -400 bps on pages 30 minutes apart: warn is confirmed on the -300 page (with the
    -100 one), critical on the -400 page (with the -300 one: two pages beyond 200 bps spanning
    confirm_s). It used to come a page later: the -300 page did not count once it had entered warn."""
    evs = run_usdc(make_engine(), [1.0, 0.99, 0.97, 0.96, 0.95])
    assert [(page(ev), ev.prev_state, ev.state) for ev in evs if ev.kind == "change"] == [
        (2, "ok", "warn"),
        (3, "warn", "critical"),
    ]
    assert evs[1].episode_start == T0 + 1 * STEP and evs[1].worst_bps == -300.0


def test_a_page_below_the_next_level_still_resets_its_confirmation(
    make_engine: Callable[..., Engine],
) -> None:
    """-100, -300, -150, -300: the trailing pages beyond critical after the warn entry are broken by
    the -150 page; critical needs two consecutive pages again."""
    evs = run_usdc(make_engine(), [1.0, 0.99, 0.97, 0.985, 0.97, 0.97])
    assert [(page(ev), ev.state) for ev in evs if ev.kind == "change"] == [(2, "warn"), (5, "critical")]


def test_trailing_pages_spanning_confirm_s_enter_the_higher_level_at_once(
    make_engine: Callable[..., Engine],
) -> None:
    """A -100 page one second before a -300 one, then -300 two minutes later: the confirming run
    from ok reached warn, its trailing pages beyond critical span confirm_s (120 s) too: critical."""
    e = make_engine()
    ticks = [("USDC", T0, 1.0), ("USDC", T0 + MIN, 0.99), ("USDC", T0 + MIN + 1000, 0.97)]
    ticks += [("USDC", T0 + 3 * MIN + 1000, 0.97)]
    evs = [ev for t in ticks for ev in e.process(batch([t], 0.0001)) if isinstance(ev, PegEvent)]
    assert [(ev.ts, ev.prev_state, ev.state) for ev in evs] == [(T0 + 3 * MIN + 1000, "ok", "critical")]
    assert evs[0].episode_start == T0 + MIN


# --- an entry reports what its confirmation established ----------------------------------------------


def test_one_bad_page_at_entry_does_not_mute_deepened(make_engine: Callable[..., Engine]) -> None:
    """-300, then one misparsed page at -950 that completes the critical entry, then the real slide
    from -300 to -500 bps (10-minute pages). The entry established -300 (both pages beyond it), so
    the slide is reported as it deepens; it used to be muted until past -1000 by the -950 page."""
    prices = [1.0, 1.0, 0.97, 0.905, 0.97, 0.965, 0.96, 0.955, 0.95, 0.95]
    evs = run_usdc(make_engine(), prices, step=10 * MIN)
    assert [(page(ev, 10 * MIN), ev.kind, ev.state) for ev in evs] == [
        (3, "change", "critical"),
        (6, "deepened", "critical"),  # -350 held (pages 5 and 6): 300 crossed
        (8, "deepened", "critical"),  # -450 held (pages 7 and 8): 400 crossed
    ]
    assert evs[0].worst_bps == -300.0 and evs[-1].worst_bps == -450.0


def test_deepened_after_a_warn_to_critical_entry_counts_from_the_confirmed_level(
    make_engine: Callable[..., Engine],
) -> None:
    """-100, -300, -400, -500 (30-minute pages): critical is entered at -400 on what -300 and -400
    confirm (-300), so the -500 page, held at -400 with the one before, is a deepening."""
    evs = run_usdc(make_engine(), [1.0, 0.99, 0.97, 0.96, 0.95])
    assert [(page(ev), ev.kind, ev.state) for ev in evs][1:] == [
        (3, "change", "critical"),
        (4, "deepened", "critical"),
    ]
