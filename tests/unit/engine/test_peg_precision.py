"""Pegs judge a price by the precision its own page showed (the tick's ``price_quantum``), not by an
assumed display rounding; the fixed rounding (cents from $1) is only the fallback for ticks without
one (v1 ticks) and for reference points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]


def run(e: Engine, ticks: list[Tick], quantum: float | None) -> list[PegEvent]:
    out: list[PegEvent] = []
    for t in ticks:
        out.extend(ev for ev in e.process(batch([t], quantum)) if isinstance(ev, PegEvent))
    out.extend(ev for ev in e.flush() if isinstance(ev, PegEvent))
    return out


def pages(symbol: str, prices: list[float], step: int = 10 * MIN) -> list[Tick]:
    return [(symbol, T0 + k * step, p) for k, p in enumerate(prices)]


def states(events: list[PegEvent]) -> list[tuple[str, str, float | None]]:
    return [(ev.kind, ev.state, ev.judged_bps) for ev in events]


def test_cents_below_a_dollar_are_judged_by_their_rounding(make_engine: Callable[..., Engine]) -> None:
    """USDT shown in cents at $0.98 on three pages: the true price may be $0.985, -150 bps. That is a
    warn, not the critical -200 bps the shown price alone would give."""
    e = make_engine()
    evs = run(e, pages("USDT", [1.0] * 3 + [0.98] * 3 + [1.0] * 6), quantum=0.01)
    assert states(evs)[0] == ("change", "warn", -150.0)
    assert all(ev.state != "critical" for ev in evs)
    assert evs[0].deviation_bps == -200.0  # as shown


def test_precise_prints_above_a_dollar_are_not_shrunk_by_a_cent(make_engine: Callable[..., Engine]) -> None:
    """Prints to 1e-4: 1.0070 is at least +69.5 bps (warn), 1.0240 at least +239.5 bps (critical); a
    cent of assumed rounding would have made them +20 (nothing) and +190 (only a warn)."""
    e = make_engine()
    evs = run(e, pages("USDT", [1.0] * 3 + [1.007] * 6 + [1.024] * 6 + [1.0] * 6), quantum=1e-4)
    changes = [(ev.prev_state, ev.state, ev.judged_bps) for ev in evs if ev.kind == "change"]
    assert changes[:2] == [("ok", "warn", 69.5), ("warn", "critical", 239.5)]
    assert changes[-1][:2] == ("critical", "ok")


def test_without_a_quantum_the_display_rounding_is_assumed(make_engine: Callable[..., Engine]) -> None:
    """v1 ticks carry no quantum: cents from $1 (1.01 is at least +50 bps), exact below."""
    e = make_engine()
    evs = run(e, pages("USDT", [1.0, 1.01, 1.01], step=2 * MIN), quantum=None)
    assert states(evs) == [("change", "warn", 50.0)]
    e = make_engine()
    evs = run(e, pages("DAI", [1.0, 0.98, 0.98], step=2 * MIN), quantum=None)
    assert states(evs) == [("change", "critical", -200.0)]


def test_a_referenced_peg_is_uncertain_by_both_prices_rounding(
    tmp_path: Path, make_engine: Callable[..., Engine]
) -> None:
    """XTOK should be worth 1 REF. XTOK at $1.97 is shown in cents (so it may be $1.975), REF at $2.00
    in cents too (so it may be $1.995): the least deviation is 1.975 / 1.995 - 1 = -100.25 bps, not
    the -125 bps XTOK's rounding alone would give."""
    f = tmp_path / "pegs.toml"
    f.write_text('replace = true\n[assets.XTOK]\npeg = "REF"\nconfirm_s = 0\n')
    e = make_engine(f'pegs.registry_file="{f}"')
    evs = [
        ev
        for ev in e.process(batch([("REF", T0, 2.0), ("XTOK", T0, 1.97)], 0.01))
        if isinstance(ev, PegEvent)
    ]
    assert [(ev.state, ev.deviation_bps) for ev in evs] == [("warn", -150.0)]
    assert evs[0].judged_bps == pytest.approx((1.975 / 1.995 - 1) * 1e4, abs=0.01)


def test_held_ticks_keep_their_quantum_through_a_checkpoint(make_engine: Callable[..., Engine]) -> None:
    """A WBTC tick waiting for BTC is restored with the quantum it came with."""
    a = make_engine()
    a.process(batch([("BTC", T0 - MIN, 100_000.0), ("WBTC", T0, 99_750.0)], 1.0))  # whole dollars
    b = make_engine()
    b.restore(a.checkpoint(["WBTC"]))
    evs = [ev for ev in b.observe_reference(["BTC"], [T0], [100_000.01]) if isinstance(ev, PegEvent)]
    # shown -25 bps; with $0.50 of rounding on WBTC (and BTC's fallback cent), at least -24.95
    assert b.peg_status("WBTC") is not None and evs == []
    assert b.pegs.tracks["WBTC"].judged_bps == pytest.approx((99_750.5 / 100_000.005 - 1) * 1e4, abs=1e-4)
