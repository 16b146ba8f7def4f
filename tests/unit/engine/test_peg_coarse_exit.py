"""Leaving a depeg on pages too coarse to show the price back inside the exit level.

A cent at $1 is 100 bps, wider than the 25 bps between warn (50) and its exit level (25): USDT at
a true $1.004 reads $1.01 (judged 50 bps: warn) or $1.00 (judged 0: inside), so hysteresis alone
let it flap with the rounding (27 warn episodes in a day). Such pages are no evidence of a return;
an exit on them alone needs ``coarse_exit_factor`` x ``min_exit_duration_s`` (2 h by default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest

from tests.support.engine import HOUR, MIN, T0, batch, config, with_checkpoint_meta
from tickerstream.engine import Engine
from tickerstream.engine.pegstate import PegTrack
from tickerstream.engine.pegstore import read_tracks
from tickerstream.errors import ConfigError
from tickerstream.events import PegEvent

#: The engine's defaults for exits (the shared test config shortens min_exit_duration_s).
EXITS = ("pegs.min_exit_duration_s=300",)


def feed(e: Engine, prices: list[float], start: int = 0, step: int = MIN) -> list[PegEvent]:
    """USDT one page every ``step`` from T0 + start * step, in cents from $1 and four decimals below
    (the seed widget's display)."""
    out: list[PegEvent] = []
    for k, p in enumerate(prices, start):
        b = batch([("USDT", T0 + k * step, p)], 0.01 if p >= 1.0 else 0.0001)
        out.extend(ev for ev in e.process(b) if isinstance(ev, PegEvent))
    return out


def changes(evs: list[PegEvent]) -> list[tuple[int, str, str]]:
    """(minute, from, to) of the change events."""
    return [((ev.ts - T0) // MIN, ev.prev_state, ev.state) for ev in evs if ev.kind == "change"]


#: A price hovering at the rounding edge: $1.01 for 3 minutes (a confirmed warn), then $1.00 for 20,
#: $1.01 for 3, $1.00 for 40, $1.01 for 3, $1.00 for 30 (4 h 10 min in all at the end: the return).
HOVER = [1.01] * 3 + [1.0] * 20 + [1.01] * 3 + [1.0] * 40 + [1.01] * 3 + [1.0] * 30


def test_a_price_hovering_at_the_rounding_edge_is_one_episode(make_engine: Callable[..., Engine]) -> None:
    """Three warn episodes before (each $1.00 run of 5 minutes ended one); now one, still open."""
    evs = feed(make_engine(*EXITS), HOVER)
    assert changes(evs) == [(2, "ok", "warn")]
    assert {ev.state for ev in evs} == {"warn"}  # and an hourly reminder


def test_a_return_on_coarse_pages_clears_after_the_coarse_exit_time(
    make_engine: Callable[..., Engine],
) -> None:
    """$1.00 for good after the hover: the all-clear comes 2 h after the first page of the run (the
    streak of pages allowing ok spans coarse_exit_factor x min_exit_duration_s), and the episode's
    duration runs to that first page back."""
    prices = HOVER[:-30] + [1.0] * 130
    evs = feed(make_engine(*EXITS), prices)
    back = len(HOVER) - 30  # minute of the first page of the final run at $1.00
    assert changes(evs) == [(2, "ok", "warn"), (back + 120, "warn", "ok")]
    end = [ev for ev in evs if ev.kind == "change"][-1]
    assert end.duration_s == (back - 0) * 60.0  # episode from minute 0 (the first $1.01) to back


def test_fine_pages_back_inside_clear_as_before(make_engine: Callable[..., Engine]) -> None:
    """Pages shown to four decimals prove the price inside the exit level: two spanning 5 minutes
    clear it, whatever cents pages lie between them (they are inside by their judged deviation)."""
    prices = [1.01] * 3 + [0.9998, 1.0, 1.0, 0.9997, 1.0, 0.9999]
    evs = feed(make_engine(*EXITS), prices, step=2 * MIN)
    assert [((ev.ts - T0) // (2 * MIN), ev.state) for ev in evs if ev.kind == "change"] == [
        (1, "warn"),
        (6, "ok"),
    ]


def test_a_single_fine_page_does_not_clear_a_coarse_streak(make_engine: Callable[..., Engine]) -> None:
    """$1.00 for 10 minutes and one page at 0.9999: one fine page is not the two the rule needs."""
    prices = [1.01] * 3 + [1.0] * 10 + [0.9999] + [1.0] * 10 + [1.01] * 3
    evs = feed(make_engine(*EXITS), prices)
    assert changes(evs) == [(2, "ok", "warn")]


def test_coarse_exit_factor_one_is_the_old_rule_and_zero_is_refused(
    make_engine: Callable[..., Engine],
) -> None:
    evs = feed(make_engine(*EXITS, "pegs.coarse_exit_factor=1"), HOVER)
    assert [c[1:] for c in changes(evs)] == [("ok", "warn"), ("warn", "ok")] * 3
    with pytest.raises(ConfigError, match="coarse_exit_factor must be >= 1"):
        config("pegs.coarse_exit_factor=0")


def test_hysteresis_off_stays_off(make_engine: Callable[..., Engine]) -> None:
    """min_exit_duration_s = 0 makes the coarse exit time 0 too: every flip is a change."""
    e = make_engine("pegs.min_exit_ticks=1", "pegs.min_exit_duration_s=0", "pegs.usd_confirm_s=0")
    evs = feed(e, [1.0, 1.01, 1.0, 1.01, 1.0])
    assert [c[2] for c in changes(evs)] == ["warn", "ok", "warn", "ok"]


# --- checkpoints -----------------------------------------------------------------------------------


def _as_v6(data: bytes) -> bytes:
    """The checkpoint as peg state v6 wrote it: tracks without the fine pages of the exit streak."""

    def edit(meta: dict[str, Any]) -> None:
        meta["pegs"]["version"] = 6
        for track in meta["pegs"]["tracks"].values():
            del track["fine_ticks"], track["fine_start"]

    return with_checkpoint_meta(data, edit)


def test_a_v6_checkpoint_restores_its_exit_streak_as_fine(make_engine: Callable[..., Engine]) -> None:
    """A v6 checkpoint in the middle of an exit streak: its pages confirm the exit by the rule it
    began under (two pages spanning min_exit_duration_s), so the restore delays no exit."""
    a = make_engine(*EXITS)
    feed(a, [1.01] * 3 + [1.0] * 3)  # warn, then 3 minutes of $1.00
    b = make_engine(*EXITS)
    b.restore(_as_v6(a.checkpoint()))
    assert changes(feed(b, [0.9999] * 6, start=6)) == [(8, "warn", "ok")]  # 5 min from minute 3
    # restored from v7, the $1.00 pages are what they were (coarse): the fine ones from minute 6
    # confirm the exit on their own, 5 minutes later
    c = make_engine(*EXITS)
    c.restore(a.checkpoint())
    assert changes(feed(c, [0.9999] * 6, start=6)) == [(11, "warn", "ok")]


def test_read_tracks_of_v6_sets_the_fine_streak() -> None:
    t = PegTrack(state="warn", streak_ticks=3, streak_start=T0 + HOUR)
    raw = {k: v for k, v in asdict(t).items() if k not in ("fine_ticks", "fine_start")}
    got = read_tracks({"version": 6, "tracks": {"USDT": raw}})["USDT"]
    assert (got.fine_ticks, got.fine_start) == (3, T0 + HOUR)
