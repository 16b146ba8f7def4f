"""Pegs: USD stables, as-of reference join, held ticks, non-1:1 tokens, hysteresis, episodes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.engine import HOUR, MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.engine.config import PegConfig
from tickerstream.engine.registry import load_registry
from tickerstream.errors import RegistryError
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]


def pegs(events: list) -> list[PegEvent]:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, PegEvent)]


def feed(e: Engine, ticks: list[Tick]) -> list[PegEvent]:
    return pegs([ev for t in ticks for ev in e.process(batch([t]))])


def changes(events: list[PegEvent]) -> list[PegEvent]:
    return [ev for ev in events if ev.kind == "change"]


#: The state machine without confirmation and updates, to test one mechanism at a time.
PLAIN = ("pegs.usd_confirm_s=0", "pegs.confirm_s=0", "pegs.update_step_bps=0", "pegs.reminder_interval_s=0")
#: The reference join, one tick at a time: referenced pegs without confirmation.
JOIN = ("pegs.confirm_s=0",)


def test_registry_is_keyed_by_upper_case_symbol_and_skips_non_pegs() -> None:
    reg = load_registry(PegConfig())
    for sym in (
        "USDT",
        "USDC",
        "DAI",
        "USDS",
        "USDE",
        "FDUSD",
        "PYUSD",
        "TUSD",
        "USDD",
        "FRAX",
        "GHO",
        "CRVUSD",
        "RLUSD",
        "USD1",
    ):
        assert reg[sym].peg == "USD"
    assert reg["WBTC"].peg == reg["CBBTC"].peg == "BTC"
    assert reg["WETH"].peg == reg["STETH"].peg == "ETH"
    assert reg["STETH"].warn_bps > 100  # its normal discount must not warn
    for sym in ("WSTETH", "WEETH", "RETH", "SUSDE", "SDAI"):
        assert sym not in reg


def test_usd_stable_warn_critical_and_episode_end(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*PLAIN)
    prices = [1.0, 0.994, 0.97, 0.985, 0.99, 0.999, 0.9995, 0.9999]
    evs = feed(e, [("USDC", T0 + k * 10 * MIN, p) for k, p in enumerate(prices)])
    assert [(ev.prev_state, ev.state) for ev in evs] == [
        ("ok", "warn"),
        ("warn", "critical"),
        ("critical", "warn"),
        ("warn", "ok"),
    ]
    # critical -> warn needs 2 ticks below 150 bps spanning >= 5 min: 0.985 (150, not below), 0.99, 0.999
    assert evs[2].ts == T0 + 50 * MIN
    end = evs[-1]
    # from the warn at T0 + 10 min to the first tick back inside 25 bps (0.999 at T0 + 50 min),
    # not to the tick that confirmed the exit (T0 + 70 min)
    assert end.ts == T0 + 70 * MIN and end.duration_s == 2400.0
    assert end.worst_bps == -300.0
    assert len({ev.episode_id for ev in evs}) == 1 and all(ev.episode_start == T0 + 10 * MIN for ev in evs)
    assert [ev.worst_bps for ev in evs] == [-60.0, -300.0, -300.0, -300.0]  # worst so far, on every event
    assert end.peg == "USD" and end.ref_price is None and end.target == 1.0
    assert e.peg_status("USDC") == ("ok", pytest.approx(-1.0))


def test_cent_rounding_above_one_dollar(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*PLAIN)
    # $1.01 as shown is at least $1.005 really: 50 bps -> warn, not 100 bps; the event says both
    evs = feed(e, [("USDT", T0, 1.0), ("USDT", T0 + MIN, 1.01), ("USDT", T0 + 2 * MIN, 1.02)])
    assert [(ev.state, ev.deviation_bps, ev.judged_bps) for ev in evs] == [("warn", 100.0, 50.0)]
    evs = feed(e, [("USDT", T0 + 3 * MIN, 1.03)])  # >= 250 bps judged
    assert [ev.state for ev in evs] == ["critical"]


def test_a_price_exactly_at_a_threshold_reaches_it(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*PLAIN)
    evs = feed(e, [("DAI", T0, 0.995), ("DAI", T0 + MIN, 0.98)])  # float: 0.98 - 1 = -0.0199999...
    assert [(ev.state, ev.judged_bps) for ev in evs] == [("warn", -50.0), ("critical", -200.0)]


def test_noise_around_a_threshold_does_not_flap(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*PLAIN)
    prices = [0.9948, 0.9952, 0.9949, 0.9953, 0.9947, 0.9955, 0.9951] * 5
    evs = feed(e, [("DAI", T0 + k * MIN, p) for k, p in enumerate(prices)])
    assert [ev.state for ev in evs] == ["warn"]


def test_exit_needs_ticks_and_duration(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*PLAIN, "pegs.min_exit_ticks=3", "pegs.min_exit_duration_s=600")
    ticks = [("DAI", T0, 0.99)] + [("DAI", T0 + k * MIN, 0.9999) for k in range(1, 12)]
    evs = feed(e, ticks)
    assert [ev.state for ev in evs] == ["warn", "ok"]
    assert evs[1].ts == T0 + 11 * MIN  # streak from T0+1min needs 10 min
    assert evs[1].duration_s == 60.0  # the blip lasted until T0+1min


def test_wbtc_against_btc_same_snapshot_any_order(make_engine: Callable[..., Engine]) -> None:
    for order in (1, -1):
        e = make_engine(*JOIN)
        snap = [("WBTC", T0, 97_000.0), ("BTC", T0, 100_000.0), ("ETH", T0, 3000.0)][::order]
        evs = pegs(e.process(batch(snap)))
        assert len(evs) == 1
        ev = evs[0]
        assert (ev.peg, ev.ref_price, ev.target, ev.deviation_bps, ev.state) == (
            "BTC",
            100_000.0,
            100_000.0,
            -300.0,
            "critical",
        )
        assert e.stats.released_without_ref == 0


def test_wbtc_before_btc_split_across_batches_waits(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    # an older price must not be used (within 5 % of the new one: a jump that may be a lone print
    # waits for the point after it, tests/unit/engine/test_peg_ref_lone.py)
    e.process(batch([("BTC", T0 - 10 * MIN, 98_500.0)]))
    assert pegs(e.process(batch([("WBTC", T0, 97_000.0)]))) == []
    assert e.stats.held == 1
    evs = pegs(e.process(batch([("BTC", T0, 100_000.0)])))
    assert [(ev.ref_price, ev.state) for ev in evs] == [(100_000.0, "critical")]
    assert e.stats.held == 0 and e.stats.held_total == 1


def test_reference_as_of_the_ticks_ts_not_the_latest(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    e.process(batch([("BTC", T0, 100_000.0), ("BTC", T0 + MIN, 90_000.0)]))
    evs = pegs(e.process(batch([("WBTC", T0, 100_000.0)])))  # judged against BTC as of T0
    assert evs == [] and e.peg_status("WBTC") == ("ok", 0.0)


def test_held_tick_released_on_watermark_judged_only_with_a_sound_reference(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    # a calm BTC that ticked every minute until 5 min before the WBTC tick
    calm = [("BTC", T0 - k * MIN, 100_000.0 * (1 + 1e-5 * ((k + 1) % 2))) for k in range(30, 4, -1)]
    e.process(batch(calm))
    e.process(batch([("WBTC", T0, 96_000.0)]))
    assert e.stats.held == 1
    # watermark T0 + 5 min is not yet past T0 + wait
    assert pegs(e.process(batch([("X", T0 + 5 * MIN, 1.0)]))) == []
    evs = pegs(e.process(batch([("X", T0 + 5 * MIN + 1, 1.0)])))
    # 5 minutes of a calm BTC (volatility at its 1 %/day floor) is 2 sigma = ~12 bps of uncertainty:
    # judged, critical, with the age reported and the deviation shrunk by that uncertainty
    assert [(ev.ref_price, ev.ref_age_s, ev.state) for ev in evs] == [(100_000.0, 300.0, "critical")]
    assert evs[0].deviation_bps == -400.0 and -390 < evs[0].judged_bps < -387  # type: ignore[operator]
    e.process(batch([("WBTC", T0 + HOUR, 96_000.0), ("X", T0 + 2 * HOUR, 1.0)]))
    assert e.stats.released_without_ref == 1  # the only BTC price is an hour too old


def test_a_lone_old_reference_price_is_not_a_sound_basis(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    # one BTC price, no history: its volatility is the prior (5 %/day), 5 minutes -> ~59 bps band
    e.process(batch([("BTC", T0 - 5 * MIN, 100_000.0), ("WBTC", T0, 96_000.0), ("X", T0 + 6 * MIN, 1.0)]))
    assert e.stats.ref_stale == 1 and e.peg_status("WBTC") == ("ok", 0.0)


def test_flush_releases_held_ticks(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    e.process(batch([("BTC", T0 - MIN, 100_000.0), ("WETH", T0, 3000.0)]))
    assert e.stats.held == 1
    assert pegs(e.flush()) == [] and e.stats.held == 0  # WETH has no ETH price at all
    assert e.stats.released_without_ref == 1


def test_observe_reference_feeds_the_as_of_store(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    assert pegs(e.process(batch([("CBBTC", T0, 95_000.0)]))) == []
    evs = pegs(e.observe_reference(["BTC"], [T0], [100_000.0]))
    assert [ev.state for ev in evs] == ["critical"]
    assert e.last_price("BTC") is None  # no window for an observed reference
    e.observe_reference(["BTC"], [T0], [100_000.0])
    assert e.stats.ref_late == 1


def test_non_one_to_one_tokens_are_never_flagged(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    snap = [
        ("ETH", T0, 3259.53),
        ("WSTETH", T0, 3882.45),
        ("WEETH", T0, 3452.72),
        ("RETH", T0, 3700.0),
        ("SUSDE", T0, 1.15),
        ("SDAI", T0, 1.12),
        ("STETH", T0, 3256.68),
        ("WETH", T0, 3261.54),
    ]
    assert pegs(e.process(batch(snap))) == []
    for s in ("WSTETH", "WEETH", "RETH", "SUSDE", "SDAI"):
        assert e.peg_status(s) is None
    assert e.peg_status("STETH") == ("ok", pytest.approx(-8.74, abs=0.01))


def test_steth_normal_discount_does_not_alarm(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*JOIN)
    evs = pegs(e.process(batch([("ETH", T0, 3000.0), ("STETH", T0, 3000.0 * 0.992)])))
    assert evs == []  # -80 bps: a normal stETH discount
    evs = pegs(e.process(batch([("ETH", T0 + MIN, 3000.0), ("STETH", T0 + MIN, 3000.0 * 0.98)])))
    assert [ev.state for ev in evs] == ["warn"]


def test_user_registry_overrides_and_replaces(tmp_path: Path, make_engine: Callable[..., Engine]) -> None:
    f = tmp_path / "pegs.toml"
    f.write_text(
        '[assets.usdt]\npeg = "USD"\nwarn_bps = 500\ncritical_bps = 900\n[assets.XAUT]\npeg = "none"\n'
    )
    e = make_engine(*PLAIN, f'pegs.registry_file="{f}"')
    assert pegs(e.process(batch([("USDT", T0, 0.98)]))) == []
    assert pegs(e.process(batch([("USDC", T0, 0.98)])))  # shipped entries still there
    f.write_text('replace = true\n[assets.ABC]\npeg = "XYZ"\nratio = 2.0\n')
    e = make_engine(*PLAIN, f'pegs.registry_file="{f}"')
    assert pegs(e.process(batch([("USDC", T0, 0.9)]))) == []
    evs = pegs(e.process(batch([("XYZ", T0 + MIN, 10.0), ("ABC", T0 + MIN, 21.0)])))
    assert [(ev.target, ev.state) for ev in evs] == [(20.0, "critical")]
    f.write_text('[assets.ABC]\npeg = "USD"\nwarn_bps = 300\ncritical_bps = 200\n')
    with pytest.raises(RegistryError):
        make_engine(f'pegs.registry_file="{f}"')


def test_a_reference_horizon_holds_a_pegged_tick_however_far_the_watermark_runs(
    make_engine: Callable[..., Engine],
) -> None:
    """A Kafka processor feeds every tick at once, so other symbols move the watermark far past a WBTC
    tick while BTC's points (owned elsewhere) are still to come. The horizon holds WBTC until BTC is
    known up to its ts + wait: the verdict is the replay's, only later."""
    btc = [("BTC", T0 - k * MIN, 100_000.0 * (1 + 1e-4 * (k % 3))) for k in range(30, 0, -1)]
    late_btc = [("BTC", T0 + 4 * MIN, 99_990.0), ("BTC", T0 + 8 * MIN, 99_980.0)]
    replay = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    expected = pegs(replay.process(batch([*btc, ("WBTC", T0, 95_000.0), *late_btc, ("X", T0 + HOUR, 1.0)])))
    assert [ev.state for ev in expected] == ["critical"]

    e = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    e.observe_reference([s for s, _, _ in btc], [t for _, t, _ in btc], [p for _, _, p in btc])
    assert e.set_reference_horizons({"BTC": T0 - MIN + 1}) == []
    assert pegs(e.process(batch([("WBTC", T0, 95_000.0), ("X", T0 + HOUR, 1.0)]))) == []
    assert e.stats.held == 1 and e.blocked_references() == {"BTC"}
    assert pegs(e.set_reference_horizons({"BTC": T0 + 5 * MIN})) == []  # T0 + wait not yet below it
    got = pegs(e.observe_reference(["BTC"], [T0 + 4 * MIN], [99_990.0]))  # the first point after T0
    e.set_reference_horizons({"BTC": T0 + 9 * MIN})
    assert e.stats.held == 0 and e.blocked_references() == set()
    assert [ev.to_json() for ev in got] == [ev.to_json() for ev in expected]


def test_a_pegged_tick_without_a_reference_point_goes_once_the_horizon_passes_its_wait(
    make_engine: Callable[..., Engine],
) -> None:
    btc = [("BTC", T0 - k * MIN, 100_000.0 + k) for k in range(10, 0, -1)]
    replay = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    expected = pegs(replay.process(batch([*btc, ("WBTC", T0, 95_000.0), ("X", T0 + HOUR, 1.0)])))
    assert expected and replay.stats.held == 0

    e = make_engine(*JOIN, "pegs.ref_max_wait_s=300")
    e.process(batch(btc))  # BTC on one of our own partitions this time
    e.set_reference_horizons({"BTC": T0 - MIN + 1})
    assert pegs(e.process(batch([("WBTC", T0, 95_000.0), ("X", T0 + HOUR, 1.0)]))) == []
    assert pegs(e.set_reference_horizons({"BTC": T0 + 5 * MIN})) == []  # ts + wait is not below it
    got = pegs(e.set_reference_horizons({"BTC": T0 + 5 * MIN + 1}))
    assert [ev.to_json() for ev in got] == [ev.to_json() for ev in expected]
    # Lifting the cap (a stale reference) leaves the engine's own rule: the watermark alone.
    e.process(batch([("WBTC", T0 + 2 * HOUR, 95_000.0)]))
    assert e.stats.held == 1
    e.process(batch([("X", T0 + 3 * HOUR, 1.0)]))
    assert e.stats.held == 1  # held by the horizon, though the watermark passed its wait
    e.set_reference_horizons({"BTC": None})
    assert e.stats.held == 0 and e.stats.released_without_ref == 1


@pytest.mark.parametrize("order", [("BTC", "ETH"), ("ETH", "BTC")])
def test_horizons_are_all_in_before_any_held_tick_goes(
    make_engine: Callable[..., Engine], order: tuple[str, str]
) -> None:
    """An engine restored with held ticks of both references and a watermark far past their wait (a new
    instance taking partitions over) gets every horizon in one call: whichever comes first in it must
    not release the other reference's ticks by the watermark before that one's horizon is in."""
    far = HOUR
    held = [("WBTC", T0, 95_000.0), ("WETH", T0, 2_900.0), ("X", T0 + far, 1.0)]
    first = make_engine(*JOIN)
    first.set_reference_horizons({"BTC": T0 - MIN, "ETH": T0 - MIN})
    assert pegs(first.process(batch(held))) == [] and first.stats.held == 2

    successor = make_engine(*JOIN)
    successor.restore(first.checkpoint(["WBTC", "WETH"]))
    horizons = {"BTC": T0 - MIN, "ETH": T0 - MIN}
    assert successor.set_reference_horizons({r: horizons[r] for r in order}) == []
    assert successor.stats.held == 2 and successor.stats.released_without_ref == 0
