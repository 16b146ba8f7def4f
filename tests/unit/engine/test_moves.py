"""Moves: threshold per horizon, z-score with a sigma floor, one event per sustained move, re-arm."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.engine import HOUR, MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import Move

HORIZONS = ("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 10.0]")


def run(e: Engine, series: list[tuple[int, float]], symbol: str = "A") -> list[Move]:
    out = []
    for ts, px in series:
        out += [ev for ev in e.process(batch([(symbol, ts, px)])) if isinstance(ev, Move)]
    return out


def test_threshold_crossing_per_horizon(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    # +1 % per hour for 30 h: never 5 %/h, but 10 % over 24 h after ~10 h... measured as-of ts - 24 h
    series = [(T0 + k * HOUR, 100.0 * 1.01**k) for k in range(31)]
    moves = run(e, series)
    assert {m.horizon_s for m in moves} == {86400}
    first = moves[0]
    assert first.ts == T0 + 24 * HOUR  # the first tick with a point 24 h back
    assert first.from_price == 100.0 and first.direction == "up"
    assert first.change_pct == round((1.01**24 - 1) * 100, 4)


def test_one_hour_drop_is_reported_once_and_down(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    series = [(T0 + k * 10 * MIN, 100.0) for k in range(12)]
    series += [(T0 + (12 + k) * 10 * MIN, 90.0) for k in range(5)]  # -10 %, sustained for 40 min
    moves = run(e, series)
    assert len(moves) == 1
    m = moves[0]
    assert (m.horizon_s, m.direction, m.from_price, m.to_price, m.change_pct) == (
        3600,
        "down",
        100.0,
        90.0,
        -10.0,
    )


def test_rearm_after_the_move_recedes(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=1000", "moves.cooldown_s=[86400, 86400]")
    ts = [T0 + k * 20 * MIN for k in range(40)]
    px = [100.0] * 4 + [110.0] * 4 + [110.0] * 6 + [121.0] * 4 + [121.0] * 22
    moves = [m for m in run(e, list(zip(ts, px, strict=True))) if m.horizon_s == 3600]
    # +10 % fires, the 1 h change falls back to 0 (recedes: re-armed), +10 % again fires again
    assert [m.ts for m in moves] == [ts[4], ts[14]]


def test_sustained_move_repeats_only_after_cooldown(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=1000", "moves.cooldown_s=[7200, 7200]")
    series = [(T0 + k * 20 * MIN, 100.0 * 1.03**k) for k in range(20)]  # +9 %/h, never receding
    moves = [m for m in run(e, series) if m.horizon_s == 3600]
    assert [m.ts for m in moves] == [T0 + 3 * 20 * MIN, T0 + 9 * 20 * MIN, T0 + 15 * 20 * MIN]


def test_zscore_spike_after_warmup(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=6", "moves.sigma_floor=0.001", "moves.zscore_min_returns=10")
    series = [(T0 + k * 5 * MIN, 100.0 * (1.002 if k % 2 else 1.0)) for k in range(30)]
    series.append((T0 + 30 * 5 * MIN, 103.0))  # +3 %: below the 5 % threshold but ~15 sigma
    moves = run(e, series)
    assert [m.ts for m in moves] == [T0 + 150 * MIN]
    assert moves[0].horizon_s == 3600 and moves[0].zscore is not None and moves[0].zscore > 6


def test_sigma_floor_keeps_flat_series_finite(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS)  # default floor 0.5 %, k = 6
    series = [(T0 + k * 5 * MIN, 1.0) for k in range(50)] + [(T0 + 50 * 5 * MIN, 1.01)]
    assert run(e, series, "USDT") == []  # a one-cent tick on a flat stablecoin: z = 2, not infinity
    stats = e.window_stats(["USDT"])
    assert stats.ewma_vol[0] > 0


def test_no_zscore_during_warmup(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.sigma_floor=0.0001")
    moves = run(e, [(T0, 100.0), (T0 + 61 * MIN, 100.0), (T0 + 122 * MIN, 104.0)])
    assert moves == []


def test_stale_anchor_is_not_used(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    # the only point before ts - 1 h is 5 h old: the change spans 5 h, not 1 h
    assert run(e, [(T0, 100.0), (T0 + 5 * HOUR, 120.0)]) == []


def test_moves_disabled(make_engine: Callable[..., Engine]) -> None:
    e = make_engine("moves.enabled=false")
    assert run(e, [(T0, 100.0), (T0 + HOUR, 200.0)]) == []
