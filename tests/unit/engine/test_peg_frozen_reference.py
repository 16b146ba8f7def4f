"""A reference price that keeps arriving but no longer changes (a stale cache upstream) is as old as
its last change, not as its last tick: the referenced peg goes ``unknown`` (stale reference) instead
of judging against it, while a live reference that is briefly flat is still a sound basis."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tests.support.engine import MIN, T0, batch, peg_events_of, with_checkpoint_meta
from tickerstream.engine import Engine
from tickerstream.engine.pegref import RefHistory, RefModel
from tickerstream.events import PegEvent

Tick = tuple[str, int, float]
STEP = 10 * MIN


def run(e: Engine, ticks: list[Tick]) -> list[PegEvent]:
    return peg_events_of(e, ticks, per_batch=5)


def market(k: int) -> float:
    """BTC's true price on page k: a wiggle for 3 h, then -0.15 % a page (-2.7 % in 3 h)."""
    wiggle = 1 + 1e-4 * ((k * 7) % 5 - 2)
    return 100_000.0 * wiggle * math.exp(-0.0015 * max(0, k - 18))


def frozen_btc(freeze_from: int, freeze_to: int, pages: int) -> list[Tick]:
    """Pages of BTC and WBTC (at -10 bps of the true BTC); BTC shows the price of page
    ``freeze_from`` on pages [freeze_from, freeze_to)."""
    out: list[Tick] = []
    for k in range(pages):
        shown = market(freeze_from) if freeze_from <= k < freeze_to else market(k)
        out.append(("BTC", T0 + k * STEP, round(shown, 2)))
        out.append(("WBTC", T0 + k * STEP, round(market(k) * 0.999, 2)))
    return out


def test_a_frozen_reference_goes_unknown_not_critical(make_engine: Callable[..., Engine]) -> None:
    evs = run(make_engine(), frozen_btc(18, 36, 48))
    assert all(ev.state in ("ok", "unknown") for ev in evs)  # no warn, no critical against a stale BTC
    changes = [ev for ev in evs if ev.kind == "change"]
    assert [(ev.prev_state, ev.state) for ev in changes] == [("ok", "unknown"), ("unknown", "ok")]
    gone, back = changes
    assert gone.unknown_reason == "stale_reference" and gone.ref_price == round(market(18), 2)
    # the age is the time since BTC's price last changed (page 18), not since its last tick (0 s)
    assert gone.ref_age_s == (gone.ts - (T0 + 18 * STEP)) / 1000
    assert gone.ts <= T0 + 18 * STEP + 45 * MIN  # unknown within 45 minutes of the freeze
    # back to ok once judged pages span unknown_exit_s (10 min): BTC is live again from page 36
    assert back.ts == T0 + 37 * STEP and back.ref_age_s == 0.0


def test_a_live_reference_briefly_flat_is_still_sound(make_engine: Callable[..., Engine]) -> None:
    """BTC repeating its price on two pages (10 minutes) is not a stale reference: nothing fires."""
    e = make_engine()
    evs = run(e, frozen_btc(10, 12, 24))
    assert evs == []
    assert e.peg_report("WBTC").state == "ok"  # type: ignore[union-attr]


def test_a_reference_frozen_longer_than_ref_max_age_is_stale_whatever_the_tolerance(
    make_engine: Callable[..., Engine],
) -> None:
    """stETH tolerates 75 bps of reference uncertainty, which a calm ETH's floor volatility reaches
    only after hours; an ETH price unchanged for more than ref_max_age_s (30 min) is stale anyway."""
    ticks: list[Tick] = []
    for k in range(30):
        eth = 3000.0 + 0.5 * (k % 3) if k < 6 else 3001.0  # frozen from page 6 (1 h)
        ticks += [("ETH", T0 + k * STEP, eth), ("STETH", T0 + k * STEP, 2995.0)]
    evs = run(make_engine(), ticks)
    assert [(ev.kind, ev.state, ev.unknown_reason) for ev in evs][:1] == [
        ("change", "unknown", "stale_reference")
    ]
    assert evs[0].ref_age_s is not None and evs[0].ref_age_s > 1800


def test_checkpoints_carry_when_the_reference_last_changed(make_engine: Callable[..., Engine]) -> None:
    """A restore in the middle of a freeze (with a history shorter than the freeze) continues it."""
    cfg = ("pegs.ref_history=4",)
    ticks = frozen_btc(18, 36, 48)
    whole = [ev.to_json() for ev in run(make_engine(*cfg), ticks)]
    cut = 2 * 26  # page 26: eight pages into the freeze, more than the history keeps
    a = make_engine(*cfg)
    first = [ev.to_json() for ev in run(a, ticks[:cut])]
    b = make_engine(*cfg)
    b.restore(a.checkpoint())
    assert first + [ev.to_json() for ev in run(b, ticks[cut:])] == whole


def test_a_v2_checkpoint_still_restores(make_engine: Callable[..., Engine]) -> None:
    """Peg state v2 (before held ticks kept their quantum and references when they last changed)."""
    a = make_engine("pegs.confirm_s=0")  # the held tick decides at once
    a.process(batch([("BTC", T0 - MIN, 100_000.0), ("WBTC", T0, 96_000.0)]))

    def as_v2(meta: dict[str, Any]) -> None:
        pegs = meta["pegs"]
        pegs["version"] = 2
        pegs["held"] = {s: [x[:2] for x in items] for s, items in pegs["held"].items()}
        pegs["refs"] = {r: v[:2] for r, v in pegs["refs"].items()}

    b = make_engine("pegs.confirm_s=0")
    b.restore(with_checkpoint_meta(a.checkpoint(), as_v2))
    assert b.stats.held == 1
    evs = [ev for ev in b.observe_reference(["BTC"], [T0], [100_010.0]) if isinstance(ev, PegEvent)]
    assert [ev.state for ev in evs] == ["critical"]


def test_a_run_whose_start_was_trimmed_still_stands_for_a_time_inside_it() -> None:
    """A tick judged before the oldest point kept, inside a run of one price whose first points were
    trimmed: the run's price, aged from when it was first shown (it raised a math domain error,
    reading the newest point instead)."""
    model = RefModel(
        max_age_ms=30 * MIN, max_after_ms=15 * MIN, z=2.0, vol_points=32, vol_floor=1e-5, vol_prior=1e-4
    )
    history = RefHistory([], [])
    for k, price in enumerate([100.0, 100.0, 100.0, 100.0, 101.0]):
        history.add(k * MIN, price, keep=2)
    assert history.ts == [3 * MIN, 4 * MIN] and history.since == [0, 4 * MIN]  # the run's start is gone
    band = history.band(MIN // 2, model)
    assert band is not None
    assert band.price == 100.0 and band.age_s == 30.0 and band.lo < 100.0 < band.hi
