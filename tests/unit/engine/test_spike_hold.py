"""With ``moves.spike_hold_s`` set (it is off by default), a page far off every page just before it,
at fast cadence, waits for the next page before a move judges it (``engine/spike.py``): a bad tick
is no alert, a crash is one page late."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from tests.support.engine import MIN, T0, config
from tickerstream.engine import Engine, MoveConfig, TickBatch
from tickerstream.events import Move


def eth(prices: list[float], step_ms: int = MIN, seed: int = 3) -> tuple[list[int], list[float]]:
    """Three calm days of ETH at 3 %/day, a page every ``step_ms``, then ``prices`` as further
    pages, each a multiple of the last calm price."""
    n = 3 * 86_400_000 // step_ms
    rng = np.random.default_rng(seed)
    calm = 3000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03 * np.sqrt(step_ms / 86_400_000), n)))
    px = [round(float(p), 2) for p in calm] + [round(float(calm[-1]) * f, 2) for f in prices]
    return [T0 + k * step_ms for k in range(len(px))], px


HOLD = "moves.spike_hold_s=120"


def moves(ts: list[int], px: list[float], *overrides: str, cuts: list[int] | None = None) -> list[Move]:
    e = Engine(config(HOLD, *overrides))
    b = TickBatch.from_arrays(["ETH"] * len(ts), ts, px)
    out: list[Move] = []
    for lo, hi in pairwise([0, *sorted(set(cuts or [])), len(b)]):
        out += [m for m in e.process(b.slice(lo, hi)) if isinstance(m, Move)]
    return out


def test_a_one_page_print_is_no_move() -> None:
    """ETH at 1-minute pages, one page at +40 % and the next back: the print fired `new` on 1 h and
    24 h, which nothing took back. Now it waits for the next page, which is back: nothing."""
    ts, px = eth([1.4, 1.0, 1.0])
    assert moves(ts, px) == []
    assert len(moves(ts, px, "moves.spike_hold_s=0")) == 2  # as before: judged at once


def test_a_crash_that_stays_down_fires_one_page_late() -> None:
    ts, px = eth([0.6, 0.6, 0.6])
    at_once = moves(ts, px, "moves.spike_hold_s=0")
    held = moves(ts, px)
    crash = ts[-3]
    assert [(m.ts, m.horizon_s, m.kind) for m in at_once] == [(crash, 3600, "new"), (crash, 86400, "new")]
    assert [(m.ts, m.horizon_s, m.kind, m.direction) for m in held] == [
        (crash + MIN, 3600, "new", "down"),
        (crash + MIN, 86400, "new", "down"),
    ]
    assert all(m.change_pct < -39 for m in held)


def test_a_move_in_two_big_steps_fires_at_the_second() -> None:
    """100, 80, 64 a minute apart: the -20 % page waits, the next is never held (-36 %)."""
    ts, px = eth([0.8, 0.64, 0.64])
    hour = [m for m in moves(ts, px) if m.horizon_s == 3600]
    assert [(m.ts, m.kind) for m in hour] == [(ts[-2], "new")]
    assert hour[0].change_pct < -35


def test_a_live_page_between_lagging_pages_fires_at_the_live_sites_next_page() -> None:
    """A live site and one showing its price of 5 minutes before take turns every minute. After a
    -8 % drop each live page sits between lagging pages at the old price: the first waits, the
    live site's second is near it (two pages back) and fires; lagging pages cannot hold it off."""
    ts, px = eth([])
    last = px[-1]
    for k in range(1, 21):
        live = k % 2 == 1
        moved = k >= 3 if live else k >= 8
        ts.append(ts[-1] + MIN)
        px.append(round(last * (0.92 if moved else 1.0), 2))
    hour = [m for m in moves(ts, px) if m.horizon_s == 3600 and m.kind == "new"]
    assert [(m.ts, m.direction) for m in hour] == [(ts[-21 + 5], "down")]


def test_a_mirror_paging_more_often_cannot_hold_a_crash_off() -> None:
    """A live site every minute and a mirror stuck at the old price every 15 s: each live page after
    a -12 % drop is far off the four latest pages (all the mirror's). Held each time, the crash was
    never reported; a series holds one page in ten ``spike_hold_s``, so the live site's second page
    fires."""
    ts, px = eth([], step_ms=60_000)
    ts, px = ts[-600:], px[-600:]  # ten calm hours of the live site
    last, t0 = px[-1], ts[-1]
    for k in range(60):
        ts += [t0 + k * 60_000 + 3_000 + j * 15_000 for j in range(4)] + [t0 + (k + 1) * 60_000]
        px += [last] * 4 + [round(last * 0.88, 2)]
    hour = [m for m in moves(ts, px) if m.horizon_s == 3600 and m.kind == "new"]
    first_live = t0 + 60_000
    assert [(m.ts, m.direction) for m in hour][:1] == [(first_live + 60_000, "down")]


def test_slow_pages_are_judged_at_once() -> None:
    """Pages 5 minutes apart (over ``spike_hold_s``, 2 minutes): a -40 % page fires at once."""
    ts, px = eth([0.6, 0.6], step_ms=5 * MIN)
    assert [m.ts for m in moves(ts, px)] == [ts[-2], ts[-2]]


@pytest.mark.parametrize("tail", [[1.4, 1.0, 1.0], [0.6, 0.6], [0.8, 0.64, 0.64], [1.2, 1.0, 1.25, 1.25]])
def test_holding_does_not_depend_on_batching(tail: list[float]) -> None:
    ts, px = eth(tail)
    n = len(ts)
    expected = moves(ts, px, "moves.zscore_k=3")
    for cuts in ([n - 3], [n - 2], [n - 1], list(range(n - 6, n))):
        assert moves(ts, px, "moves.zscore_k=3", cuts=cuts) == expected


def test_a_held_page_is_held_across_a_restore() -> None:
    """Restored between a held page and the next, the engine judges as an uninterrupted one."""
    ts, px = eth([1.4, 1.0, 1.0])
    b = TickBatch.from_arrays(["ETH"] * len(ts), ts, px)
    first = Engine(config(HOLD))
    out = first.process(b.slice(0, len(b) - 2))
    second = Engine(config(HOLD))
    second.restore(first.checkpoint())
    out += second.process(b.slice(len(b) - 2, len(b)))
    assert [m for m in out if isinstance(m, Move)] == []


def test_spike_hold_is_validated() -> None:
    with pytest.raises(ValueError, match="spike_hold_s"):
        MoveConfig(spike_hold_s=-1)
