"""Entering a level on pages of two precisions: a page that allows a level it does not prove.

USDC at a true $0.9750 (-250 bps: critical) shown by a four-decimal site ($0.9750) and a cents site
($0.98: anywhere from -150 to -250 bps). The cents page proves only warn, but it does not contradict
critical; taken as contrary evidence it reset the confirmation every other page, and the depeg stayed
`warn` for as long as both sites paged (six hours of hourly warn reminders quoting -249.5 bps)."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import PegEvent


def feed(e: Engine, pages: list[tuple[float, float]]) -> list[PegEvent]:
    """USDC one page a minute from T0: (price, quantum)."""
    out: list[PegEvent] = []
    for k, (price, quantum) in enumerate(pages):
        out.extend(
            ev
            for ev in e.process(batch([("USDC", T0 + k * MIN, price)], quantum))
            if isinstance(ev, PegEvent)
        )
    return out


def changes(evs: list[PegEvent]) -> list[tuple[int, str, str]]:
    return [((ev.ts - T0) // MIN, ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]


FINE, CENTS = 0.0001, 0.01


def test_a_cents_page_does_not_hold_back_a_critical_the_fine_pages_show(
    make_engine: Callable[..., Engine],
) -> None:
    # Warn first (-100 bps on both sites), then -250: fine and cents pages alternate.
    pages = [(0.99, FINE), (0.99, CENTS)] * 3 + [(0.975, FINE), (0.98, CENTS)] * 6
    evs = feed(make_engine(), pages)
    # warn confirmed at minute 2; critical by the fine pages at minutes 6, 8 (120 s), not never
    assert changes(evs) == [(2, "ok", "warn"), (8, "warn", "critical")]


def test_a_cents_page_that_rules_the_level_out_still_resets_it(make_engine: Callable[..., Engine]) -> None:
    # $0.99 in cents is -50 to -150 bps: no critical, so it breaks the confirmation of one.
    pages = [(0.99, FINE), (0.99, CENTS)] * 3 + [(0.975, FINE), (0.99, CENTS)] * 6
    assert changes(feed(make_engine(), pages)) == [(2, "ok", "warn")]


def test_a_page_touching_a_level_with_its_rounding_is_no_page_of_it(
    make_engine: Callable[..., Engine],
) -> None:
    # $1.00 in cents is below $1.005 (+50 bps): it rules warn out. Pages at $1.01 (+50 at least)
    # between $1.00 pages do not confirm a warn: no page of the run may contradict it.
    pages = [(1.01, CENTS), (1.0, CENTS)] * 8
    assert changes(feed(make_engine(), pages)) == []
