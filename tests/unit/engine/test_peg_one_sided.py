"""One-sided pegs: an asset that trades above its peg by design (LUSD: redeemable for $1, a soft
ceiling near $1.10) is judged on discounts only; a premium is judged as at the peg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.engine.config import PegConfig
from tickerstream.engine.registry import load_registry
from tickerstream.errors import RegistryError
from tickerstream.events import PegEvent

STEP = 10 * MIN


def feed(e: Engine, sym: str, prices: list[float]) -> list[PegEvent]:
    """``sym`` one page every 10 minutes, in cents from $1 and four decimals below."""
    out: list[PegEvent] = []
    for k, p in enumerate(prices):
        b = batch([(sym, T0 + k * STEP, p)], 0.01 if p >= 1.0 else 0.0001)
        out.extend(ev for ev in e.process(b) if isinstance(ev, PegEvent))
    return out


#: LUSD's premium of the review recording: $1.00 to $1.065 and back to $1.02 over three days.
PREMIUM = [round(1.0 + 0.065 * min(k, 240 - k, 120) / 120, 2) for k in range(240)]


def test_a_premium_of_lusd_is_no_depeg(make_engine: Callable[..., Engine]) -> None:
    """It used to be a warn at $1.02 and a critical at $1.06 (+550 bps judged), with hourly reminders."""
    e = make_engine()
    assert feed(e, "LUSD", PREMIUM) == []
    status = e.peg_report("LUSD")
    assert status is not None and status.state == "ok" and status.deviation_bps == pytest.approx(0.0)


def test_a_discount_of_lusd_is_still_judged(make_engine: Callable[..., Engine]) -> None:
    evs = feed(make_engine(), "LUSD", [1.01, 1.03, 0.98, 0.98, 0.94, 0.94])
    assert [(ev.kind, ev.state, ev.judged_bps) for ev in evs] == [
        ("change", "warn", -199.5),  # 150 bps: LUSD's own warn level
        ("change", "critical", -599.5),
    ]


def test_the_premium_is_shown_but_judged_at_the_peg(make_engine: Callable[..., Engine]) -> None:
    """In a discount episode, a page at a premium is back inside the exit level, and certainly so
    (not a coarse page, though shown in cents); the shown deviation stays on the event."""
    e = make_engine("pegs.min_exit_duration_s=300")
    evs = feed(e, "LUSD", [0.98, 0.98, 1.03, 1.04, 1.04])
    assert [(ev.state, ev.deviation_bps, ev.judged_bps) for ev in evs] == [
        ("warn", -200.0, -199.5),
        ("ok", 400.0, 0.0),
    ]


def test_two_sided_pegs_still_flag_a_premium(make_engine: Callable[..., Engine]) -> None:
    evs = feed(make_engine(), "USDC", [1.03, 1.03])
    assert [(ev.state, ev.judged_bps) for ev in evs] == [("critical", 250.0)]


def test_the_registry_side_option(tmp_path: Path) -> None:
    reg = load_registry(PegConfig())
    assert reg["LUSD"].side == "below"
    assert {s.side for sym, s in reg.items() if sym != "LUSD"} == {"both"}
    f = tmp_path / "pegs.toml"
    f.write_text('[assets.LUSD]\npeg = "USD"\nside = "above"\n')
    with pytest.raises(RegistryError, match="side must be one of 'both', 'below'"):
        load_registry(PegConfig(registry_file=str(f)))
    f.write_text('[assets.LUSD]\npeg = "USD"\n')  # a user entry replaces the shipped one: two-sided
    assert load_registry(PegConfig(registry_file=str(f)))["LUSD"].side == "both"
