"""A pegged symbol whose ticks lose their coin id while another coin shares the ticker: those ticks
are dropped (whose price is it?), yet the peg must not stay silently ``ok``. They are pages without a
sound judgement: ``unknown_after_s`` of them with no judged page in between and the peg goes
``unknown`` (``ambiguous_ticks``); judged pages leave it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.engine import MIN, T0, with_checkpoint_meta
from tickerstream.engine import Engine, TickBatch
from tickerstream.events import PegEvent

#: (symbol, coin id, ts, price): USD-quoted ticks, one per batch unless batched explicitly.
Row = tuple[str, str | None, int, float]

#: The real coin and a second coin sharing the ticker, each with its coin id, every 10 minutes.
REAL, FAKE = "usd-coin", "bridged-usdc-fake"


def ticks(rows: Sequence[Row]) -> TickBatch:
    return TickBatch.from_arrays(
        [r[0] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [0.01 if r[3] >= 1.0 else 1e-6 for r in rows],
        currency=["USD"] * len(rows),
        coin_ids=[r[1] for r in rows],
    )


def run(e: Engine, rows: Sequence[Row]) -> list[PegEvent]:
    return [ev for r in rows for ev in e.process(ticks([r])) if isinstance(ev, PegEvent)]


def summary(evs: Sequence[PegEvent]) -> list[tuple[int, str, str, str, str | None]]:
    return [((ev.ts - T0) // MIN, ev.kind, ev.prev_state, ev.state, ev.unknown_reason) for ev in evs]


def shared(minutes: int) -> list[Row]:
    """Both coins called USDC, each page with its coin id: the real one at par."""
    out: list[Row] = []
    for k in range(0, minutes, 10):
        out += [("USDC", REAL, T0 + k * MIN, 1.0), ("USDC", FAKE, T0 + k * MIN + 1000, 0.8)]
    return out


def idless(start_min: int, end_min: int, step_min: int = 10, price: float = 0.9) -> list[Row]:
    return [("USDC", None, T0 + k * MIN, price) for k in range(start_min, end_min, step_min)]


#: Scenario E: two coins share USDC for 5 h, then the real coin's pages lose their coin id for 3 h+.
SCENARIO_E = shared(300) + idless(300, 500)


def test_scenario_e_goes_unknown_instead_of_silent(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    evs = run(e, SCENARIO_E)
    # Last judged page at 290 min; the first id-less page 15 min (unknown_after_s) or more later.
    assert summary(evs)[0] == (310, "change", "ok", "unknown", "ambiguous_ticks")
    assert all(ev.state == "unknown" and ev.unknown_reason == "ambiguous_ticks" for ev in evs)
    assert [ev.kind for ev in evs[1:]] == ["reminder"] * 3  # every hour while it lasts
    first = evs[0]
    assert first.target is None and first.deviation_bps is None and first.judged_bps is None
    assert first.episode_id is None and first.price == 0.9
    assert e.peg_status("USDC") == ("unknown", 0.0)
    # The id-less pages are still dropped as before: no series takes them.
    assert e.stats.ambiguous_series == 20 and len(e.series) == 2
    assert (
        e.stats.peg_ambiguous_pages == 20
    )  # ticker_engine_peg_unjudged_ticks_total{reason="ambiguous_ticks"}


def test_scenario_e_does_not_depend_on_batching(make_engine: Callable[..., Engine]) -> None:
    one_by_one = [ev.to_json() for ev in run(make_engine(), SCENARIO_E)]
    assert len(one_by_one) == 4
    e = make_engine()
    whole = [ev for ev in e.process(ticks(SCENARIO_E)) if isinstance(ev, PegEvent)]
    assert [ev.to_json() for ev in whole] == one_by_one
    # A batch of id-less pages only (nothing accepted) still reaches the peg monitor.
    e = make_engine()
    e.process(ticks(shared(300)))
    tail = [ev for ev in e.process(ticks(idless(300, 500))) if isinstance(ev, PegEvent)]
    assert [ev.to_json() for ev in tail] == one_by_one


def test_ambiguous_pages_between_judged_pages_change_nothing(make_engine: Callable[..., Engine]) -> None:
    """Id-less pages every 5 minutes for hours, the real coin's judged pages every 10: silent."""
    rows = sorted(shared(600) + idless(3, 600, 5), key=lambda r: r[2])
    e = make_engine()
    assert run(e, rows) == []
    assert e.peg_status("USDC") == ("ok", 0.0)


def test_ambiguous_pages_do_not_break_a_confirming_depeg(make_engine: Callable[..., Engine]) -> None:
    """A depeg of the real coin confirms over usd_confirm_s (120 s) of judged pages even with
    id-less pages of either coin between them: those are no evidence against it."""
    rows: list[Row] = [("USDC", FAKE, T0, 0.8)]
    for k in range(6):
        rows += [("USDC", REAL, T0 + k * MIN + 1000, 0.97), ("USDC", None, T0 + k * MIN + 2000, 0.8)]
    evs = run(make_engine(), rows)
    assert summary(evs) == [(2, "change", "ok", "critical", None)]


def test_judged_pages_leave_unknown(make_engine: Callable[..., Engine]) -> None:
    """Back to ok once judged pages span unknown_exit_s (600 s); to a depeg once it is confirmed."""
    e = make_engine()
    back_rows: list[Row] = [("USDC", REAL, T0 + k * MIN, 1.0) for k in (500, 505, 510)]
    evs = run(e, [*SCENARIO_E, *back_rows])
    back = evs[-1]
    assert summary([back]) == [(510, "change", "unknown", "ok", None)]
    assert back.duration_s == (510 - 310) * 60.0 and back.judged_bps == 0.0
    # ... and a depeg is entered from unknown once confirmed (usd_confirm_s), like from ok.
    e = make_engine()
    evs = run(e, [*SCENARIO_E, ("USDC", REAL, T0 + 500 * MIN, 0.9), ("USDC", REAL, T0 + 505 * MIN, 0.9)])
    assert summary(evs[-1:]) == [(505, "change", "unknown", "critical", None)]
    assert evs[-1].episode_start == T0 + 500 * MIN


def test_unknown_after_ambiguous_pages_ends_a_running_episode(make_engine: Callable[..., Engine]) -> None:
    rows: list[Row] = [("USDC", FAKE, T0, 0.8)]
    rows += [("USDC", REAL, T0 + k * MIN, 0.97) for k in range(1, 6)]
    rows += idless(10, 40, 5)
    evs = run(make_engine(), rows)
    assert summary(evs) == [
        (3, "change", "ok", "critical", None),
        (20, "change", "critical", "unknown", "ambiguous_ticks"),
    ]
    # The episode ran from its first confirming page (1 min) to the last judged one (5 min).
    assert evs[1].duration_s == 240.0 and evs[1].episode_id == evs[0].episode_id


def test_other_symbols_ambiguous_ticks_are_only_dropped(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    rows: list[Row] = [("ABC", "abc-one", T0, 1.0), ("ABC", "abc-two", T0 + 1, 0.8)]
    rows += [("ABC", None, T0 + k * MIN, 0.9) for k in range(1, 200)]
    assert run(e, rows) == [] and e.peg_status("ABC") is None
    assert e.stats.ambiguous_series == 199 and e.watermark == T0 + 1
    assert e.stats.peg_ambiguous_pages == 0


def test_ambiguous_pages_do_not_advance_the_watermark_or_the_last_tick(
    make_engine: Callable[..., Engine],
) -> None:
    """Dropped ticks never moved event time; the peg's last tick (what alerts when a stablecoin's
    ticks stop) stays the real coin's."""
    e = make_engine()
    run(e, SCENARIO_E)
    assert e.watermark == T0 + 290 * MIN + 1000
    report = e.peg_report("USDC")
    assert report is not None and report.last_ts == T0 + 290 * MIN


def test_checkpoint_in_the_middle_of_the_stretch(make_engine: Callable[..., Engine]) -> None:
    whole = [ev.to_json() for ev in run(make_engine(), SCENARIO_E)]
    assert len(whole) == 4 and b'"unknown_reason":"ambiguous_ticks"' in whole[0]
    cut = len(shared(300)) + 1  # one id-less page in: 10 minutes of no judgement so far
    a = make_engine()
    first = [ev.to_json() for ev in run(a, SCENARIO_E[:cut])]
    assert first == []
    b = make_engine()
    b.restore(a.checkpoint())
    assert first + [ev.to_json() for ev in run(b, SCENARIO_E[cut:])] == whole


def wbtc_rows() -> list[Row]:
    """WBTC shared by two coins and judged against BTC (a point every minute) up to 10 min, then
    an id-less WBTC page at 20 min, held for its reference."""
    rows: list[Row] = [("BTC", "bitcoin", T0 + k * MIN, 100_000.0) for k in range(11)]
    rows += [("WBTC", "wbtc-fake", T0, 50.0), ("WBTC", "wrapped-bitcoin", T0 + 10 * MIN, 100_000.0)]
    return [*sorted(rows, key=lambda r: r[2]), ("WBTC", None, T0 + 20 * MIN, 99_000.0)]


def test_a_held_ambiguous_page_of_a_referenced_peg_travels_with_the_checkpoint(
    make_engine: Callable[..., Engine],
) -> None:
    """A referenced peg's id-less page waits in the same queue as its other ticks (Kafka and
    replay then step its state in the same order), and a checkpoint keeps it as such: restored, it
    is still a page without a judgement, never a price of the pegged coin."""
    cfg = ("pegs.confirm_s=0", "pegs.unknown_after_s=600")
    a = make_engine(*cfg)
    assert run(a, wbtc_rows()) == []
    assert a.stats.held == 1  # the id-less page at 20 min: no BTC point that late yet
    b = make_engine(*cfg)
    b.restore(a.checkpoint())
    assert b.stats.held == 1
    evs = [
        ev for ev in b.observe_reference(["BTC"], [T0 + 20 * MIN], [100_000.0]) if isinstance(ev, PegEvent)
    ]
    assert summary(evs) == [(20, "change", "ok", "unknown", "ambiguous_ticks")]
    again = [
        ev for ev in a.observe_reference(["BTC"], [T0 + 20 * MIN], [100_000.0]) if isinstance(ev, PegEvent)
    ]
    assert [ev.to_json() for ev in again] == [ev.to_json() for ev in evs]


def _peg_state_as(data: bytes, version: int) -> bytes:
    return with_checkpoint_meta(data, lambda meta: meta["pegs"].update(version=version))


def test_a_v3_checkpoint_still_restores(make_engine: Callable[..., Engine]) -> None:
    """Peg state v3 (before held pages could be ones without a judgement) reads as before."""
    a = make_engine("pegs.confirm_s=0")
    a.process(ticks([("BTC", "bitcoin", T0 - MIN, 100_000.0), ("WBTC", "wrapped-bitcoin", T0, 96_000.0)]))
    b = make_engine("pegs.confirm_s=0")
    b.restore(_peg_state_as(a.checkpoint(), 3))
    assert b.stats.held == 1
    evs = [ev for ev in b.observe_reference(["BTC"], [T0], [100_010.0]) if isinstance(ev, PegEvent)]
    assert [ev.state for ev in evs] == ["critical"]


def frax_listed_twice(depeg_from_min: int = 120) -> list[Row]:
    """FRAX (no coin id pinned in pegs.toml) at par, a second coin calling itself FRAX on two pages
    at 60 min, then the first coin at 0.90 from ``depeg_from_min`` for hours: 10-minute pages."""
    rows: list[Row] = [
        ("FRAX", "frax", T0 + k * MIN, 1.0 if k < depeg_from_min else 0.9) for k in range(0, 480, 10)
    ]
    rows += [("FRAX", "frax-scam", T0 + k * MIN + 1000, 0.02) for k in (60, 70)]
    return sorted(rows, key=lambda r: r[2])


def test_a_pegged_ticker_two_unpinned_coins_share_goes_unknown_not_silent(
    make_engine: Callable[..., Engine],
) -> None:
    """A second coin on an unpinned pegged ticker made neither series judged: the real FRAX then
    sat at -1000 bps for six hours and no peg event came (a critical entered before stayed
    critical for good). Which coin is the real one cannot be read from the stream, so neither is
    judged, and the peg says so: ``unknown`` (``ambiguous_ticks``) with reminders, until pegs.toml
    pins its coin id."""
    e = make_engine()
    evs = run(e, frax_listed_twice())
    # The last judged page at 60 min (the second coin's first page follows it), then pages that
    # cannot be judged: unknown on the first one unknown_after_s (15 min) or more after it.
    assert summary(evs)[0] == (80, "change", "ok", "unknown", "ambiguous_ticks")
    assert [ev.kind for ev in evs[1:]] == ["reminder"] * (len(evs) - 1) and len(evs) >= 7
    assert e.peg_status("FRAX") == ("unknown", 0.0)
    assert e.stats.peg_ambiguous == 1


def test_pinning_the_coin_judges_the_shared_ticker_again(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """The fix the log line names: a user registry pinning FRAX's coin id; the depeg is reported."""
    registry = tmp_path / "pegs.toml"
    registry.write_text('version = 1\n[assets.FRAX]\npeg = "USD"\ncoin_id = "frax"\n')
    evs = run(make_engine(f"pegs.registry_file='{registry}'"), frax_listed_twice())
    assert summary(evs)[0] == (130, "change", "ok", "critical", None)


def test_the_shared_ticker_verdict_survives_a_checkpoint_and_any_batching(
    make_engine: Callable[..., Engine],
) -> None:
    rows = frax_listed_twice()
    whole = [ev.to_json() for ev in run(make_engine(), rows)]
    first = make_engine()
    got = run(first, rows[:20])
    second = make_engine()
    second.restore(first.checkpoint())
    got += run(second, rows[20:])
    assert [ev.to_json() for ev in got] == whole
    one_batch = make_engine()
    batched = [ev.to_json() for ev in one_batch.process(ticks(rows)) if isinstance(ev, PegEvent)]
    assert batched == whole
