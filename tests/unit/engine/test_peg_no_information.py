"""A page without a sound judgement is no information about a peg, not contrary evidence: it breaks no
run of judged pages (one leaving ``unknown``, or one confirming a depeg). Only a judged page that
contradicts resets a confirmation, and only ``unknown_after_s`` without a sound judgement enters
``unknown``. Also: reminders in ``unknown`` are due on judged pages too, and no reminder repeats a
state while the exit from it is being confirmed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from tests.support.engine import MIN, T0, batch, config, peg_events_of
from tickerstream.engine import Engine
from tickerstream.engine.pegstate import Observation, PegStateMachine, PegTrack
from tickerstream.engine.pegstore import STATE_VERSION, read_tracks
from tickerstream.engine.registry import PegSpec
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]
HOUR = 60 * MIN
WBTC = PegSpec("WBTC", "BTC", 1.0, 50.0, 200.0, 25.0, 150.0, confirm_s=120)


def changes(evs: list[PegEvent]) -> list[tuple[int, str, str]]:
    """(minutes from T0, from, to) of the change events."""
    return [((ev.ts - T0) // MIN, ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]


def judged(minute: int, bps: float) -> Observation:
    """A WBTC page soundly judged at ``bps`` (BTC at 100,000)."""
    price = 100_000.0 * (1 + bps / 1e4)
    return Observation(T0 + minute * MIN, price, 100_000.0, 0.0, 100_000.0, bps, bps)


def unjudged(minute: int) -> Observation:
    """A WBTC page that cannot be judged: the reference is too uncertain."""
    return Observation(T0 + minute * MIN, 100_000.0, 100_000.0, 600.0, reason="stale_reference")


def feed(pages: list[Observation], *overrides: str) -> list[PegEvent]:
    sm = PegStateMachine(config(*overrides).pegs)
    t = PegTrack()
    return [ev for obs in pages if (ev := sm.step(WBTC, t, obs)) is not None]


# --- a slow cadence leaves unknown (the review's WBTC every 15 or 20 minutes) -----------------------


def sparse_wbtc(every: int) -> list[Tick]:
    """BTC every 5 minutes for 8 h but 02:00-03:00; WBTC every ``every`` minutes at -5 bps."""
    out: list[Tick] = []
    for k in range(96):
        btc = 100_000.0 + 10 * k
        if not 24 <= k < 36:
            out.append(("BTC", T0 + k * 5 * MIN, btc))
        if (k * 5) % every == 0:
            out.append(("WBTC", T0 + k * 5 * MIN, round(btc * 0.9995, 2)))
    return out


def test_a_pegged_asset_paged_every_20_minutes_leaves_unknown(make_engine: Callable[..., Engine]) -> None:
    """Before: its judged pages were 20 min (>= unknown_after_s) apart, so each restarted the run and
    it stayed unknown to the end (5 h, without a reminder). Now two judged pages are enough."""
    evs = peg_events_of(make_engine(), sparse_wbtc(20), per_batch=4)
    # unknown on the first page after BTC's last point goes stale; back on the second judged page
    # after BTC returns (03:00 is judged against it, 03:20 spans unknown_exit_s)
    assert changes(evs) == [(140, "ok", "unknown"), (200, "unknown", "ok")]
    assert evs[-1].duration_s == 3600.0


def test_a_pegged_asset_paged_every_15_minutes_leaves_unknown(make_engine: Callable[..., Engine]) -> None:
    evs = peg_events_of(make_engine(), sparse_wbtc(15), per_batch=4)
    assert [c[1:] for c in changes(evs)] == [("ok", "unknown"), ("unknown", "ok")]
    # 02:45 (judged against BTC's return at 03:00, within ref_max_wait_s) and 03:00
    assert changes(evs)[-1][0] == 180


def test_a_reminder_in_unknown_is_due_on_a_judged_page() -> None:
    """Pages 70 min apart: the first judged one after entering unknown does not leave it yet, but an
    hour has passed since the last event, so a reminder says the asset is still unknown and why."""
    evs = feed([judged(0, -5.0), unjudged(70), judged(140, -5.0), judged(210, -5.0)])
    assert [(ev.kind, ev.state) for ev in evs] == [
        ("change", "unknown"),
        ("reminder", "unknown"),
        ("change", "ok"),
    ]
    reminder = evs[1]
    assert reminder.ts == T0 + 140 * MIN and reminder.unknown_reason == "stale_reference"
    # in unknown the schema wants no target and no deviation, whatever page carried the reminder
    assert reminder.target is None and reminder.deviation_bps is None and reminder.judged_bps is None


# --- an unjudged page breaks no run ----------------------------------------------------------------


def test_unjudged_pages_between_judged_ones_do_not_hold_unknown() -> None:
    """Judged and unjudged pages alternate (a reference band at its limit): before, every unjudged page
    restarted the run, so the asset stayed unknown until 10 min of judged pages in a row."""
    pages = [judged(0, -5.0), *(unjudged(m) for m in range(5, 25, 5))]  # unknown at 15
    pages += [judged(25, -5.0), unjudged(30), judged(35, -5.0), unjudged(40), judged(45, -5.0)]
    assert changes(feed(pages)) == [(15, "ok", "unknown"), (35, "unknown", "ok")]


def test_a_depeg_confirms_while_every_other_page_is_unjudged() -> None:
    """A real -300 bps depeg with every other page unjudged: before, each unjudged page reset the
    confirmation and none was ever 15 min without a judgement, so it stayed ok, silent, for 2 h."""
    pages = [judged(0, -5.0)]
    for m in range(5, 125, 10):
        pages += [judged(m, -300.0), unjudged(m + 5)]
    evs = feed(pages)
    assert changes(evs) == [(15, "ok", "critical")]  # the second judged page at -300 (confirm_s)
    assert evs[0].episode_start == T0 + 5 * MIN


def test_one_deviating_judged_page_never_confirms_alone() -> None:
    """Unjudged pages carry no evidence either way: the page after them that contradicts resets the
    confirmation, so a lone bad page among them is no depeg."""
    pages = [judged(0, -5.0), judged(5, -300.0), unjudged(10), judged(15, -5.0), judged(20, -300.0)]
    pages += [unjudged(25), judged(30, -5.0)]
    assert changes(feed(pages)) == []


def test_entering_unknown_drops_a_pending_confirmation() -> None:
    """A deviating page, then 15 min without a sound judgement: unknown, and that page no longer
    counts; leaving unknown for critical needs two judged pages of its own."""
    pages = [judged(0, -5.0), judged(5, -300.0), *(unjudged(m) for m in range(10, 25, 5)), judged(25, -300.0)]
    assert changes(feed(pages)) == [(20, "ok", "unknown")]
    assert changes(feed([*pages, judged(30, -300.0)]))[-1] == (30, "unknown", "critical")


def test_two_deviating_pages_hours_apart_in_unknown_confirm() -> None:
    """In unknown, two judged pages at -300 with only unjudged pages between (3 h) are two sound
    judgements that agree, and nothing judged contradicts them: the depeg is confirmed."""
    pages = [judged(0, -5.0), *(unjudged(m) for m in range(5, 30, 5)), judged(30, -300.0)]
    pages += [*(unjudged(m) for m in range(35, 210, 5)), judged(210, -300.0)]
    evs = feed(pages)
    assert changes(evs) == [(15, "ok", "unknown"), (210, "unknown", "critical")]
    assert evs[-1].episode_start == T0 + 30 * MIN


# --- no reminder of a state that is being left -----------------------------------------------------


def test_no_reminder_of_critical_on_a_page_back_at_the_peg(make_engine: Callable[..., Engine]) -> None:
    """USDT critical at -900 bps for an hour, then back at 1.0000 just when a reminder is due: before,
    ``reminder critical`` with deviation 0.0, then the exit 5 min later. The exit alone now."""
    e = make_engine()
    prices = [0.91] * 13 + [1.0] * 3
    evs: list[PegEvent] = []
    for k, p in enumerate(prices):
        out = e.process(batch([("USDT", T0 + k * 5 * MIN, p)], 0.0001))
        evs += [ev for ev in out if isinstance(ev, PegEvent)]
    assert [(ev.kind, ev.state) for ev in evs] == [("change", "critical"), ("change", "ok")]
    assert evs[-1].ts == T0 + 70 * MIN and evs[-1].duration_s == 65 * 60.0
    # a streak that breaks does not swallow the reminder: it comes on the page that breaks it
    e = make_engine()
    prices = [0.91] * 13 + [1.0, 0.91]
    evs = []
    for k, p in enumerate(prices):
        out = e.process(batch([("USDT", T0 + k * 5 * MIN, p)], 0.0001))
        evs += [ev for ev in out if isinstance(ev, PegEvent)]
    assert [(ev.kind, ev.state, ev.ts) for ev in evs][1:] == [("reminder", "critical", T0 + 70 * MIN)]


# --- checkpoints -----------------------------------------------------------------------------------


def test_a_v5_track_in_unknown_restores_and_reminds_with_a_reason() -> None:
    """Peg state v5 kept no reason for unknown: a track restored in unknown gives no reminder on a
    judged page (it could not say why), and gives it on the next unjudged page, as v5 did."""
    sm = PegStateMachine(config().pegs)
    t = PegTrack()
    for obs in [judged(0, -5.0), *(unjudged(m) for m in range(5, 20, 5))]:
        sm.step(WBTC, t, obs)
    assert t.state == "unknown" and t.unknown_reason == "stale_reference"
    v5 = {k: v for k, v in asdict(t).items() if k != "unknown_reason"}
    restored = read_tracks({"version": 5, "tracks": {"WBTC": v5}})["WBTC"]
    assert restored.state == "unknown" and restored.unknown_reason is None
    assert sm.step(WBTC, restored, judged(80, -5.0)) is None  # an hour since the last event: due
    ev = sm.step(WBTC, restored, unjudged(85))
    assert ev is not None and ev.kind == "reminder" and ev.unknown_reason == "stale_reference"
    # the v6 state keeps the reason: the reminder comes on the judged page
    t6 = read_tracks({"version": STATE_VERSION, "tracks": {"WBTC": asdict(t)}})["WBTC"]
    ev = sm.step(WBTC, t6, judged(80, -5.0))
    assert ev is not None and ev.kind == "reminder" and ev.unknown_reason == "stale_reference"
