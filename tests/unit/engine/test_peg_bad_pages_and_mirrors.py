"""Pages that contradict the rest: two bad rows an hour apart are no depeg, and a stale mirror's
pages at the peg between a live site's pages off it are no way back."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import PegEvent

Page = tuple[int, float]  # ts, price (four decimals)


def peg_events(e: Engine, pages: list[Page]) -> list[PegEvent]:
    """USDC's peg events for ``pages`` fed one at a time."""
    out: list[PegEvent] = []
    for ts, px in sorted(pages):
        out += [ev for ev in e.process(batch([("USDC", ts, px)], 1e-4)) if isinstance(ev, PegEvent)]
    return out


def test_two_bad_rows_an_hour_apart_are_no_depeg(make_engine: Callable[..., Engine]) -> None:
    """USDC at the peg every 2 minutes, another coin's row at 0.75 and 50 minutes later at 0.76 (24
    pages at the peg between them): the second confirmed the first beyond the bypass, a critical
    for 52 minutes at the peg. Two pages beyond it confirm each other only with at most as many
    pages between them as the two."""
    bad = {30: 0.75, 55: 0.76}
    pages = [(T0 + i * 2 * MIN, bad.get(i, 1.0001 if i % 3 == 0 else 1.0)) for i in range(120)]
    e = make_engine()
    assert peg_events(e, pages) == []
    assert e.peg_report("USDC").state == "ok"  # type: ignore[union-attr]


def test_bad_rows_inside_a_depeg_set_no_depth(make_engine: Callable[..., Engine]) -> None:
    """USDC really at 0.97 (-300 bps), two bad rows at 0.50 and 0.52 twenty minutes apart: they
    gave a `deepened` to -4800 bps, and every reminder after it carried worst -4800."""
    bad = {60: 0.50, 70: 0.52}
    pages = [(T0 + i * 2 * MIN, bad.get(i, 1.0 if i < 10 else 0.97)) for i in range(200)]
    evs = peg_events(make_engine(), pages)
    assert [ev.kind for ev in evs if ev.kind != "reminder"] == ["change"]
    assert {ev.worst_bps for ev in evs} == {-300.0}


def test_a_mirror_page_right_after_an_episode_starts_nothing(make_engine: Callable[..., Engine]) -> None:
    """Two pages at 0.70 (critical), two at the peg five minutes apart (ok), one more at 0.70: the
    page beyond the bypass from the episode before confirmed it, a new critical on one page that
    started before the all-clear. Pages beyond a state that was left confirm nothing later."""
    pages = [(T0, 1.0), (T0 + MIN, 0.70), (T0 + 2 * MIN, 0.70), (T0 + 3 * MIN, 1.0)]
    pages += [(T0 + 8 * MIN, 1.0), (T0 + 9 * MIN, 0.70)]
    evs = peg_events(make_engine(), pages)
    assert [(ev.ts, ev.state) for ev in evs] == [(T0 + 2 * MIN, "critical"), (T0 + 8 * MIN, "ok")]


def test_a_stale_mirror_at_the_peg_does_not_end_a_depeg(make_engine: Callable[..., Engine]) -> None:
    """A live site at 0.97 every 10 minutes for 10 hours; a stale mirror at 1.0000 scraped twice an
    hour, 6 minutes apart, between two live pages: its two pages spanned the 5-minute exit, an
    all-clear every hour and a new critical 12 minutes later. An exit now waits until the pages
    keeping the state are overdue (1.5x their last gap): one episode, open, with its reminders."""
    pages = [(T0 + i * 10 * MIN, 1.0 if i < 3 else 0.97) for i in range(60)]
    for i in range(6, 60, 6):
        pages += [(T0 + i * 10 * MIN + 2 * MIN, 1.0), (T0 + i * 10 * MIN + 8 * MIN, 1.0)]
    e = make_engine()
    evs = peg_events(e, pages)
    assert [(ev.kind, ev.state) for ev in evs if ev.kind != "reminder"] == [("change", "critical")]
    assert sum(ev.kind == "reminder" for ev in evs) >= 8
    assert e.peg_report("USDC").state == "critical"  # type: ignore[union-attr]


def test_a_real_recovery_is_not_delayed(make_engine: Callable[..., Engine]) -> None:
    """Every site back at the peg: the exit comes when it did, on 10-minute pages at the second
    page back (the pages off the peg are overdue by then) and on 2-minute pages five minutes in."""
    for step in (10, 2):
        pages = [(T0 + i * step * MIN, 0.97 if i < 30 else 1.0) for i in range(45)]
        evs = peg_events(make_engine(), pages)
        back = T0 + 30 * step * MIN
        expected = back + (step if step == 10 else 6) * MIN
        assert [(ev.ts, ev.state) for ev in evs if ev.kind == "change"][-1] == (expected, "ok"), step


def test_a_collapse_beside_a_mirror_paging_more_often_is_critical(make_engine: Callable[..., Engine]) -> None:
    """USDC at $0.75 from 02:00 on a live site every 10 minutes, a mirror stuck at $1.0000 every 3
    minutes (3-4 of its pages between two live ones): with at most two pages between them the live
    pages confirmed nothing, no peg event for 22 hours. Critical on the live site's second page."""
    pages = [(T0 + i * 10 * MIN, 1.0001 if i < 12 else 0.75 + 0.0001 * (i % 3)) for i in range(36)]
    pages += [(T0 + MIN + j * 3 * MIN, 1.0) for j in range(120)]
    evs = peg_events(make_engine(), pages)
    assert [(ev.ts, ev.state) for ev in evs][:1] == [(T0 + 130 * MIN, "critical")]


def test_a_recovery_beside_a_mirror_stuck_at_the_depeg_is_cleared(make_engine: Callable[..., Engine]) -> None:
    """DAI at $0.97 from 00:30 to 03:00 on a live site every 5 minutes, then back at $1.0000; a mirror
    stuck at $0.97 every 10 minutes. Its pages kept the state from being overdue and the all-clear
    never came; the live pages at the peg outnumber them over the half hour: ok by 03:30."""
    pages = [(T0 + i * 5 * MIN, 1.0001 if i < 6 else 0.97 if i < 36 else 1.0) for i in range(144)]
    pages += [(T0 + 150_000 + j * 10 * MIN, 1.0001 if j < 3 else 0.97) for j in range(72)]
    e = make_engine()
    evs = peg_events(e, pages)
    changes = [(ev.ts, ev.state) for ev in evs if ev.kind == "change"]
    assert [state for _, state in changes] == ["critical", "ok"]
    assert T0 + 180 * MIN < changes[1][0] <= T0 + 210 * MIN


def test_a_recovery_in_a_burst_of_pages_is_cleared_at_once(make_engine: Callable[..., Engine]) -> None:
    """USDC at $0.97 on 10-minute pages, back at the peg at 04:00:30 on a page a minute for 7 minutes,
    then an outage of 25 minutes: the exit waited for the last page off the peg to be overdue (15
    minutes) and came at the first page after the outage. Seven pages at the peg outnumber the
    three off it of the half hour: ok at 04:05:30, as before the wait."""
    pages = [(T0 + i * 10 * MIN, 1.0 if i < 6 else 0.97) for i in range(25)]
    pages += [(T0 + 240 * MIN + 30_000 + k * MIN, 1.0) for k in range(7)]
    pages += [(T0 + 273 * MIN + k * 10 * MIN, 1.0) for k in range(6)]
    evs = peg_events(make_engine(), pages)
    assert [(ev.ts, ev.state) for ev in evs if ev.kind == "change"][-1] == (T0 + 245 * MIN + 30_000, "ok")


def test_a_collapse_beside_a_mirror_paging_ten_times_as_often_is_critical(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC at $0.75 from +60 min on a live site every 10 minutes, a mirror stuck at $1.0000 every
    minute: nine pages between two live ones, over the bound, and no peg event for 12 hours (before
    the bound it was critical, flapping with the mirror's pages). Three pages beyond the bypass on
    one side within the hour confirm it however many pages came between: critical at the third."""
    pages = [(T0 + i * MIN, 1.0001 if i < 60 else 0.75) for i in range(0, 240, 10)]
    pages += [(T0 + i * MIN, 1.0) for i in range(240) if i % 10]
    evs = peg_events(make_engine(), pages)
    assert [(ev.ts, ev.state) for ev in evs][:1] == [(T0 + 80 * MIN, "critical")]
