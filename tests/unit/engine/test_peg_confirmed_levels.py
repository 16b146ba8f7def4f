"""Only confirmed deviations move the peg state machine: entering warn/critical from ``unknown`` needs
``confirm_s`` like any entry, ``deepened`` and ``worst_bps`` count only what held for ``confirm_s``,
and ``unknown`` has hysteresis (leaving it for ``ok`` needs judged pages spanning ``unknown_exit_s``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.engine import MIN, T0, batch, config, peg_events_of, with_checkpoint_meta
from tickerstream.engine import Engine
from tickerstream.engine.pegstate import Observation, PegStateMachine, PegTrack
from tickerstream.engine.registry import PegSpec
from tickerstream.errors import ConfigError
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]
STEP = 5 * MIN


def changes(evs: list[PegEvent]) -> list[tuple[int, str, str]]:
    """(page, from, to) of the change events, pages STEP apart from T0."""
    return [((ev.ts - T0) // STEP, ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]


# --- leaving unknown into a depeg needs confirmation ----------------------------------------------


def outage(wbtc: dict[int, float], n: int = 40) -> list[Tick]:
    """BTC and WBTC (at -5 bps) every 5 minutes; BTC missing on pages 10-19 (50 min: the WBTC pages
    from 17 on, within ref_max_wait_s of its return, are judged against it); WBTC on page k at
    ``wbtc[k]`` x BTC instead."""
    out: list[Tick] = []
    for k in range(n):
        btc = 100_000.0 + 10 * k
        if not 10 <= k < 20:
            out.append(("BTC", T0 + k * STEP, btc))
        out.append(("WBTC", T0 + k * STEP, round(btc * wbtc.get(k, 0.9995), 2)))
    return out


def test_one_bad_page_after_an_outage_is_no_critical(make_engine: Callable[..., Engine]) -> None:
    """The first WBTC page judged after BTC returns is misparsed (-500 bps); its neighbours track BTC."""
    e = make_engine()
    evs = peg_events_of(e, outage({17: 0.95}), per_batch=4)
    assert all(ev.state in ("ok", "unknown") for ev in evs)  # no critical, no all-clear after it
    assert [(a, b) for _, a, b in changes(evs)] == [("ok", "unknown"), ("unknown", "ok")]
    back = [ev for ev in evs if ev.kind == "change"][-1]
    assert back.ts == T0 + 19 * STEP  # judged pages spanning unknown_exit_s (10 min) from page 17


def test_a_depeg_after_an_outage_fires_once_confirmed(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    evs = peg_events_of(e, outage({k: 0.95 for k in range(17, 40)}), per_batch=4)
    assert [(a, b) for _, a, b in changes(evs)] == [("ok", "unknown"), ("unknown", "critical")]
    crit = [ev for ev in evs if ev.kind == "change"][-1]
    # confirmed by the second page (confirm_s = 120 s); the episode starts at the first; the state
    # stays unknown while the entry is being confirmed
    assert crit.ts == T0 + 18 * STEP and crit.episode_start == T0 + 17 * STEP
    assert crit.worst_bps is not None and crit.worst_bps < -490


# --- deepened and worst_bps count only confirmed deviations ----------------------------------------


def run_usdt(e: Engine, prices: dict[int, float], n: int) -> list[PegEvent]:
    """USDT shown to four decimals, one page every 5 minutes (0.9940: -60 bps unless ``prices``)."""
    out: list[PegEvent] = []
    for k in range(n):
        b = batch([("USDT", T0 + k * STEP, prices.get(k, 0.994))], 0.0001)
        out.extend(ev for ev in e.process(b) if isinstance(ev, PegEvent))
    return out


def test_one_bad_page_in_warn_neither_deepens_nor_sets_the_worst(make_engine: Callable[..., Engine]) -> None:
    """USDT in warn at 0.9940 (-60 bps); one page at 0.97 (-300) between two at 0.994."""
    evs = run_usdt(make_engine(), {0: 1.0, 6: 0.97}, 30)
    assert [ev.kind for ev in evs if ev.kind != "reminder"] == ["change"]  # ok -> warn, no deepened
    assert {ev.state for ev in evs} == {"warn"}
    assert {ev.worst_bps for ev in evs} == {-60.0}  # the -300 page held for no confirm_s


def test_an_unconfirmed_critical_level_in_warn_is_no_deepening(make_engine: Callable[..., Engine]) -> None:
    """In warn, a page at critical level is the start of a critical entry, not a deepened warn."""
    evs = run_usdt(make_engine(), {0: 1.0, 6: 0.979, 7: 0.979}, 8)
    assert [(ev.kind, ev.prev_state, ev.state) for ev in evs] == [
        ("change", "ok", "warn"),
        ("change", "warn", "critical"),
    ]
    assert evs[1].ts == T0 + 7 * STEP and evs[1].worst_bps == -210.0


def test_a_confirmed_deepening_is_reported_when_confirmed(make_engine: Callable[..., Engine]) -> None:
    evs = run_usdt(make_engine(), {0: 1.0, 6: 0.985, 7: 0.985, 8: 0.986}, 9)
    deep = [ev for ev in evs if ev.kind == "deepened"]
    assert [(ev.ts, ev.state, ev.worst_bps) for ev in deep] == [(T0 + 7 * STEP, "warn", -150.0)]


# --- unknown has hysteresis ------------------------------------------------------------------------

#: WBTC's judgements in the review's recording (5-minute pages; BTC stepped -10 % and WBTC's row lags
#: BTC's by a page, so the reference band sat at the limit): True = soundly judged (at about par).
FLAPPING = [True] * 10 + [False] * 6 + [True, False, False, False, True, False, True, False, False]
FLAPPING += [True, True, False, False, True, True, False, False, False, False, False, True, True]
FLAPPING += [False, False, False] + [True] * 12


def machine_events(pattern: list[bool], *overrides: str) -> list[PegEvent]:
    """The state machine fed WBTC pages at par, judged or not (stale reference) as ``pattern`` says."""
    sm = PegStateMachine(config(*overrides).pegs)
    spec = PegSpec("WBTC", "BTC", 1.0, 50.0, 200.0, 25.0, 150.0, confirm_s=120)
    t = PegTrack()
    out: list[PegEvent] = []
    for k, judged in enumerate(pattern):
        ts = T0 + k * STEP
        if judged:
            obs = Observation(ts, 100_000.0, 100_000.0, 0.0, 100_000.0, -5.0, 0.0)
        else:
            obs = Observation(ts, 100_000.0, 100_000.0, 600.0, reason="stale_reference")
        ev = sm.step(spec, t, obs)
        if ev is not None:
            out.append(ev)
    return out


def test_a_reference_at_the_limit_does_not_flap_unknown() -> None:
    """With the old rule 8 changes (a single judged page left unknown, 15 min later it was back).
    Now two unknown spells: each is left once the judged pages since it began span unknown_exit_s
    (10 min); the unjudged pages between them are no evidence either way (they do not hold the
    asset unknown for as long as they last: 2 h 35 min when each of them restarted the run)."""
    assert changes(machine_events(FLAPPING)) == [
        (12, "ok", "unknown"),
        (20, "unknown", "ok"),
        (33, "ok", "unknown"),
        (41, "unknown", "ok"),
    ]
    assert len(changes(machine_events(FLAPPING, "pegs.unknown_exit_s=0"))) == 8  # the old rule


def test_unknown_exit_s_zero_leaves_on_the_first_judged_page() -> None:
    pattern = [True] * 2 + [False] * 5 + [True, False, True, True, True]
    assert changes(machine_events(pattern)) == [(4, "ok", "unknown"), (9, "unknown", "ok")]
    evs = machine_events(pattern, "pegs.unknown_exit_s=0")
    assert changes(evs) == [(4, "ok", "unknown"), (7, "unknown", "ok")]
    with pytest.raises(ConfigError, match="unknown_exit_s must be >= 0"):
        config("pegs.unknown_exit_s=-1")


# --- checkpoints -----------------------------------------------------------------------------------


def _as_v4(data: bytes) -> bytes:
    """The checkpoint as peg state v4 wrote it: tracks without the recent judged ticks and the run of
    sound judgements, with the entry's own worst."""

    def edit(meta: dict[str, Any]) -> None:
        meta["pegs"]["version"] = 4
        for track in meta["pegs"]["tracks"].values():
            del track["recent"], track["sound_since"]
            track["confirm_worst"] = -300.0

    return with_checkpoint_meta(data, edit)


def test_a_v4_checkpoint_still_restores(make_engine: Callable[..., Engine]) -> None:
    a = make_engine()
    run_usdt(a, {0: 1.0}, 4)  # warn at -60 bps
    b = make_engine()
    b.restore(_as_v4(a.checkpoint()))
    report = b.peg_report("USDT")
    assert report is not None and report.state == "warn" and report.worst_bps == -60.0
    # the recent ticks start empty: the deepening is confirmed by the next two pages
    evs = [ev for k in (4, 5) for ev in b.process(batch([("USDT", T0 + k * STEP, 0.985)], 0.0001))]
    deep = [ev for ev in evs if isinstance(ev, PegEvent) and ev.kind == "deepened"]
    assert [(ev.ts, ev.worst_bps) for ev in deep] == [(T0 + 5 * STEP, -150.0)]
