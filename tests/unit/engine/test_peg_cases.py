"""The cases where peg monitoring used to go silent or cry wolf (issue "Peg monitoring that never goes
silent"), each with the event sequence a risk desk should see, plus confirmation and checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.engine import HOUR, MIN, T0, batch, with_checkpoint_meta
from tickerstream.engine import Engine, TickBatch
from tickerstream.engine.checkpoint import CheckpointFormatError
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]


def run(e: Engine, ticks: list[Tick], per_batch: int = 7) -> list[PegEvent]:
    """Feed ``ticks`` in small batches, then flush; the peg events in order."""
    out: list[PegEvent] = []
    for i in range(0, len(ticks), per_batch):
        out.extend(ev for ev in e.process(batch(ticks[i : i + per_batch])) if isinstance(ev, PegEvent))
    out.extend(ev for ev in e.flush() if isinstance(ev, PegEvent))
    return out


def summary(events: list[PegEvent]) -> list[tuple[str, str, str]]:
    return [(ev.kind, ev.prev_state, ev.state) for ev in events]


def live_btc(t: int) -> float:
    return round(100_000.0 + 0.01 * ((t - T0) // MIN), 2)


def wbtc_with_btc(start: int, end: int, step: int, wbtc_ratio: float, btc: bool = True) -> list[Tick]:
    """WBTC (and BTC when ``btc``) on the same page every ``step`` ms from ``start`` to ``end``. BTC
    is live: it moves a cent a minute (a price that repeats is a stale one, docs/pegs.md)."""
    out: list[Tick] = []
    for t in range(start, end, step):
        if btc:
            out.append(("BTC", t, live_btc(t)))
        out.append(("WBTC", t, round(live_btc(t) * wbtc_ratio, 2)))
    return out


def test_reference_missing_for_six_hours_is_unknown_not_silence(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    ticks = (
        wbtc_with_btc(T0, T0 + HOUR, 5 * MIN, 0.9995)  # tracking: ok
        + wbtc_with_btc(T0 + HOUR, T0 + 7 * HOUR, 5 * MIN, 0.97, btc=False)  # BTC gone, WBTC -300 bps
        + wbtc_with_btc(T0 + 7 * HOUR, T0 + 8 * HOUR, 5 * MIN, 0.97)  # BTC back
    )
    evs = run(e, ticks)
    changes = [ev for ev in evs if ev.kind == "change"]
    assert summary(changes) == [
        ("change", "ok", "critical"),  # BTC 5 min old and calm: a sound judgement
        ("change", "critical", "unknown"),
        ("change", "unknown", "critical"),
    ]
    seen, gone, back = changes
    # confirmed on the second page of the run (confirm_s), which started at T0 + 1 h
    assert seen.ts == T0 + HOUR + 5 * MIN and seen.episode_start == T0 + HOUR
    assert seen.ref_age_s == 600.0 and -300 < seen.judged_bps < -280  # type: ignore[operator]
    # BTC's last price (T0 + 55 min) stays usable while 2 sigma of its 1 %/day floor volatility is
    # under 25 bps (~22 min); 15 min (unknown_after_s) after the last sound judgement: unknown
    assert gone.ts == T0 + 90 * MIN and gone.deviation_bps is None and gone.target is None
    assert (
        gone.unknown_reason == "no_reference"
        and gone.ref_price == live_btc(T0 + 55 * MIN)
        and gone.ref_age_s == 2100.0
    )
    assert gone.episode_id == seen.episode_id and gone.duration_s == 900.0  # as long as it was seen
    # back: held WBTC ticks up to ref_max_wait_s (15 min) before BTC's return are judged against it
    # and the critical is entered from unknown only once confirmed (confirm_s): on the next page
    assert back.ts == T0 + 410 * MIN and back.duration_s == (410 - 90) * 60.0
    assert back.episode_start == T0 + 405 * MIN
    assert back.episode_id != seen.episode_id
    # while unknown, an hourly reminder says so
    reminders = [ev for ev in evs if ev.kind == "reminder" and ev.state == "unknown"]
    assert [r.ts - T0 for r in reminders] == [90 * MIN + k * HOUR for k in range(1, 6)]
    # every unjudged tick is counted, none silently: 72 WBTC ticks in the gap, 7 of them judged
    # (4 against BTC before the gap, 3 against BTC after it)
    st = e.stats
    assert st.released_without_ref + st.ref_stale == 65
    assert e.peg_report("WBTC").state == "critical"  # type: ignore[union-attr]


def test_reference_lost_during_warn_ends_the_episode_at_the_last_sound_judgement(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine()
    ticks = (
        wbtc_with_btc(T0, T0 + 4 * HOUR + 1, 5 * MIN, 0.99)  # -100 bps: warn for 4 h
        + wbtc_with_btc(T0 + 4 * HOUR + 5 * MIN, T0 + 10 * HOUR, 5 * MIN, 0.99, btc=False)
        + wbtc_with_btc(T0 + 10 * HOUR, T0 + 11 * HOUR, 5 * MIN, 0.9995)
    )
    changes = [ev for ev in run(e, ticks) if ev.kind == "change"]
    assert summary(changes) == [
        ("change", "ok", "warn"),
        ("change", "warn", "unknown"),
        ("change", "unknown", "warn"),  # the held tick 15 min before BTC returned, still at -100
        ("change", "warn", "ok"),
    ]
    warn, lost, back, ok = changes
    # the episode ends where it was last seen: BTC's last price (4 h) still judged the pages of
    # the next 20 minutes; 4 h 20 min, not the 8 h until the reference came back
    assert lost.episode_id == warn.episode_id and lost.duration_s == 15_600.0
    assert lost.ts == T0 + 275 * MIN and lost.worst_bps == -100.0
    assert back.duration_s == (590 - 275) * 60.0 and back.episode_id != warn.episode_id
    assert back.episode_start == T0 + 585 * MIN  # confirmed on the next page (confirm_s)
    assert ok.duration_s == 15 * 60.0 and ok.episode_id == back.episode_id


def test_crash_of_a_sparse_reference_raises_no_false_alarm(make_engine: Callable[..., Engine]) -> None:
    """BTC on every 10th page, WBTC on every page at -5 bps; BTC drops 5 % at minute 33."""
    e = make_engine()
    ticks: list[Tick] = []
    for m in range(0, 180):
        t = T0 + m * MIN
        level = 100_000.0 * (1 + 2e-4 * ((m // 10) % 3 - 1)) * (0.95 if m >= 33 else 1.0)
        if m % 10 == 0:
            ticks.append(("BTC", t, round(level, 2)))
        ticks.append(("WBTC", t, round(level * 0.9995, 2)))
    evs = run(e, ticks)
    assert evs == []  # no warn, no critical, and no unknown: the judgement gaps stay under 15 min
    assert e.peg_report("WBTC").state == "ok"  # type: ignore[union-attr]
    assert e.stats.ref_stale > 0  # the ticks next to the crash were not judged


def test_deepening_depeg_reports_every_further_100_bps(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    # DAI at 0.97 (critical), then down to 0.80 over two days, a tick every 10 minutes
    n = 2 * 24 * 6
    ticks = [("DAI", T0 + k * 10 * MIN, round(0.97 - 0.17 * k / n, 4)) for k in range(n + 1)]
    evs = run(e, ticks)
    assert summary(evs[:1]) == [("change", "ok", "critical")]
    assert evs[0].ts == T0 + 10 * MIN  # confirmed by the second tick, 10 min later
    assert evs[0].episode_start == T0
    deep = [ev for ev in evs if ev.kind == "deepened"]
    judged = [abs(ev.judged_bps or 0) for ev in deep]
    # One per further 100 bps that held: the last page, the first at -2000, held for one page only
    # (beyond confirm_bypass_bps a second page would confirm it at once, whatever the time between).
    assert [int(j // 100) for j in judged] == list(range(4, 20))
    # worst so far (not only at recovery), as confirmed: the smaller of the two pages spanning
    # confirm_s, i.e. the page before
    shown = {t: round((p - 1) * 1e4, 2) for _, t, p in ticks}
    assert [ev.worst_bps for ev in deep] == [shown[ev.ts - 10 * MIN] for ev in deep]
    assert {ev.episode_id for ev in evs} == {evs[0].episode_id}


def test_long_small_depeg_gets_hourly_reminders_and_closes_on_recovery(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine()
    ticks = [("FDUSD", T0 + k * 10 * MIN, 0.994) for k in range(3 * 24 * 6)]
    back = T0 + 3 * 24 * HOUR
    ticks += [("FDUSD", back + k * 5 * MIN, 0.9999) for k in range(3)]  # four decimals: shown inside
    evs = run(e, ticks)
    assert summary([evs[0], evs[-1]]) == [("change", "ok", "warn"), ("change", "warn", "ok")]
    reminders = evs[1:-1]
    assert {ev.kind for ev in reminders} == {"reminder"} and len(reminders) == 71
    assert all(b.ts - a.ts == HOUR for a, b in zip(evs[:-1], reminders, strict=False))
    assert evs[-1].duration_s == 3 * 24 * 3600.0 and evs[-1].ts == back + 5 * MIN


def test_single_bad_scrape_does_not_page_but_a_crash_fires_at_once(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine()  # USD stables confirm for 120 s by default
    assert run(e, [("USDC", T0, 1.0), ("USDC", T0 + MIN, 0.995), ("USDC", T0 + 2 * MIN, 1.0)]) == []
    # -2000 bps: one page is no evidence (a decimal slip reads 0.10), the next one a second later
    # is enough: no waiting for confirm_s
    assert run(e, [("USDC", T0 + 3 * MIN, 0.80)]) == []
    evs = run(e, [("USDC", T0 + 3 * MIN + 1000, 0.80)])
    assert [(ev.state, ev.episode_start) for ev in evs] == [("critical", T0 + 3 * MIN)]
    e = make_engine("pegs.usd_confirm_s=0")
    evs = run(
        e, [("USDC", T0, 1.0), ("USDC", T0 + MIN, 0.995)] + [("USDC", T0 + k * MIN, 0.9999) for k in (2, 7)]
    )
    assert summary(evs) == [("change", "ok", "warn"), ("change", "warn", "ok")]
    assert evs[1].duration_s == 60.0  # the blip lasted 60 s, not 360


def test_confirmation_enters_the_level_the_whole_run_reached(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    evs = run(e, [("USDT", T0, 0.99), ("USDT", T0 + MIN, 0.97), ("USDT", T0 + 2 * MIN, 0.97)])
    assert summary(evs) == [("change", "ok", "warn")]  # the run reached warn for 2 min, not critical
    # worst_bps is what held for confirm_s: -100 (T0 to T0 + 2 min), not the -300 of the last minute
    assert evs[0].ts == T0 + 2 * MIN and evs[0].episode_start == T0 and evs[0].worst_bps == -100.0
    evs = run(e, [("USDT", T0 + 3 * MIN, 0.97), ("USDT", T0 + 5 * MIN, 0.97)])
    assert summary(evs) == [("change", "warn", "critical")]


def test_rounded_price_reports_shown_and_judged_deviation(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    evs = run(e, [("USDT", T0, 1.01), ("USDT", T0 + 2 * MIN, 1.01)])
    assert [(ev.state, ev.deviation_bps, ev.judged_bps) for ev in evs] == [("warn", 100.0, 50.0)]


def test_events_are_independent_of_batching(make_engine: Callable[..., Engine]) -> None:
    ticks = (
        wbtc_with_btc(T0, T0 + 4 * HOUR + 1, 5 * MIN, 0.99)
        + wbtc_with_btc(T0 + 4 * HOUR + 5 * MIN, T0 + 10 * HOUR, 5 * MIN, 0.97, btc=False)
        + wbtc_with_btc(T0 + 10 * HOUR, T0 + 11 * HOUR, 5 * MIN, 0.9995)
    )
    whole = [ev.to_json() for ev in run(make_engine(), ticks, per_batch=len(ticks))]
    for size in (1, 3, 50):
        assert [ev.to_json() for ev in run(make_engine(), ticks, per_batch=size)] == whole


def test_checkpoint_mid_episode_and_unknown_gives_the_same_events(make_engine: Callable[..., Engine]) -> None:
    ticks = (
        wbtc_with_btc(T0, T0 + 4 * HOUR + 1, 5 * MIN, 0.99)
        + wbtc_with_btc(T0 + 4 * HOUR + 5 * MIN, T0 + 10 * HOUR, 5 * MIN, 0.97, btc=False)
        + wbtc_with_btc(T0 + 10 * HOUR, T0 + 11 * HOUR, 5 * MIN, 0.9995)
    )
    whole = [ev.to_json() for ev in run(make_engine(), ticks)]
    for cut in (30, 70, 120):
        a = make_engine()
        first = [ev.to_json() for ev in a.process(batch(ticks[:cut])) if isinstance(ev, PegEvent)]
        b = make_engine()
        b.restore(a.checkpoint())
        assert first + [ev.to_json() for ev in run(b, ticks[cut:])] == whole


def _v1_checkpoint(e: Engine) -> bytes:
    """Rewrite a checkpoint's peg state into the v1 layout (no version, v1 track fields)."""

    def as_v1(meta: dict[str, Any]) -> None:
        pegs = meta["pegs"]
        del pegs["version"]
        keep = (
            "state",
            "episode_start",
            "worst_bps",
            "streak_ticks",
            "streak_start",
            "streak_level",
            "last_ts",
        )
        pegs["tracks"] = {
            s: {**{k: t[k] for k in keep}, "deviation_bps": t["deviation_bps"]}
            for s, t in pegs["tracks"].items()
        }

    return with_checkpoint_meta(e.checkpoint(), as_v1)


def test_v1_peg_state_restores_and_unknown_versions_are_refused(make_engine: Callable[..., Engine]) -> None:
    a = make_engine("pegs.usd_confirm_s=0")
    # a v1 checkpoint taken in the middle of the exit streak (one page back at par)
    a.process(batch([("USDT", T0, 0.97), ("USDT", T0 + MIN, 0.96), ("USDT", T0 + 2 * MIN, 0.9999)]))
    old = _v1_checkpoint(a)
    b = make_engine("pegs.usd_confirm_s=0")
    b.restore(old)
    assert b.peg_status("USDT") == ("critical", pytest.approx(-1.0))
    evs = run(b, [("USDT", T0 + 8 * MIN, 0.9999)])
    assert summary(evs) == [("change", "critical", "ok")] and evs[0].episode_start == T0
    assert evs[0].worst_bps == -400.0 and evs[0].duration_s == 120.0  # back at T0 + 2 min

    newer = with_checkpoint_meta(a.checkpoint(), lambda meta: meta["pegs"].update(version=99))
    fresh = make_engine()
    with pytest.raises(CheckpointFormatError, match="v99 is newer"):
        fresh.restore(newer)
    assert fresh.symbols() == [] and fresh.peg_status("USDT") is None  # nothing half-restored


def test_unknown_requires_no_judgement_for_unknown_after_s(make_engine: Callable[..., Engine]) -> None:
    e = make_engine("pegs.unknown_after_s=0", "pegs.ref_max_wait_s=0")
    evs = run(e, [("WETH", T0, 3000.0), ("X", T0 + 1, 1.0)])
    assert summary(evs) == [("change", "ok", "unknown")]
    assert evs[0].unknown_reason == "no_reference" and evs[0].ref_price is None and evs[0].ref_age_s is None
    assert TickBatch is not None
