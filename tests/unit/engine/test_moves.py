"""Moves: threshold per horizon, z-score with a sigma floor, one event per sustained move, re-arm."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.support.engine import HOUR, MIN, T0, batch
from tickerstream.engine import Engine, TickBatch
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
    assert [m.kind for m in moves] == ["new", "reminder", "reminder"]


def test_zscore_spike_after_warmup(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(
        *HORIZONS,
        "moves.zscore_k=4",
        "moves.sigma_floor_daily=0.001",
        "moves.zscore_min_returns=10",
        "moves.ewma_halflife_s=3600",  # z needs a half-life of history at the anchor: 90 min here
    )
    # +-0.2 % every 5 min, a bounce: volatility is sampled per 24 h-ring bucket (506 s), so it sees
    # little of it; sigma over an hour stays near its floors
    series = [(T0 + k * 5 * MIN, 100.0 * (1.002 if k % 2 else 1.0)) for k in range(30)]
    series.append((T0 + 30 * 5 * MIN, 103.0))  # +3 % in an hour: below the 5 % threshold, > 4 sigma
    moves = run(e, series)
    assert [m.ts for m in moves] == [T0 + 150 * MIN]
    m = moves[0]
    assert m.horizon_s == 3600 and m.zscore is not None and m.zscore > 4
    assert (m.trigger, m.direction, m.from_ts) == ("zscore", "up", T0 + 90 * MIN)
    assert m.quantum == 0.01  # estimated from the prices (100.2 -> at most a cent)


def test_sigma_floor_keeps_flat_series_finite(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS)  # default floor 0.5 %, k = 6
    series = [(T0 + k * 5 * MIN, 1.0) for k in range(50)] + [(T0 + 50 * 5 * MIN, 1.01)]
    assert run(e, series, "USDT") == []  # a one-cent tick on a flat stablecoin: z = 2, not infinity
    stats = e.window_stats(["USDT"])
    assert stats.ewma_vol[0] >= 0  # finite: cent steps on a flat series are mostly rounding noise


def test_no_zscore_during_warmup(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.sigma_floor_daily=0.0001")
    moves = run(e, [(T0, 100.0), (T0 + 61 * MIN, 100.0), (T0 + 122 * MIN, 104.0)])
    assert moves == []


def test_stale_anchor_is_not_used(make_engine: Callable[..., Engine]) -> None:
    """The only point before ts - 1 h is 5 h old: the change spans 5 h, not 1 h. It is measured
    across the gap (``from_ts`` says so) against the 1 h threshold grown to 5 h, 5 % x sqrt 5 =
    11.2 %: +10 % is no event, +20 % is one."""
    quiet = make_engine(*HORIZONS, "moves.zscore_k=1000")
    assert run(quiet, [(T0, 100.0), (T0 + 5 * HOUR, 110.0)]) == []
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = run(e, [(T0, 100.0), (T0 + 5 * HOUR, 120.0)])
    assert [(m.horizon_s, m.from_ts, m.kind, m.trigger) for m in moves] == [(3600, T0, "new", "threshold")]


def test_moves_disabled(make_engine: Callable[..., Engine]) -> None:
    e = make_engine("moves.enabled=false")
    assert run(e, [(T0, 100.0), (T0 + HOUR, 200.0)]) == []


def quantized(e: Engine, series: list[tuple[int, float]], q: float, symbol: str = "A") -> list[Move]:
    out = []
    for ts, px in series:
        out += [ev for ev in e.process(batch([(symbol, ts, px)], quantum=q)) if isinstance(ev, Move)]
    return out


def test_display_rounding_is_not_a_move(make_engine: Callable[..., Engine]) -> None:
    """SHIB shown as 0.000019 / 0.000018 (quantum 1e-6): -5.26 % as printed, but both could be
    0.0000185: no move, and the series is counted once as having a too coarse quantum."""
    e = make_engine(*HORIZONS)
    series = [(T0 + k * 5 * MIN, 0.000019 if (k // 3) % 2 else 0.000018) for k in range(600)]
    assert quantized(e, series, 1e-6, "SHIB") == []
    assert e.stats.coarse_quantum == 1


def test_rounding_does_not_inflate_volatility_at_fast_cadence(make_engine: Callable[..., Engine]) -> None:
    """A coin near 0.0042 shown with six decimals (one quantum = 2.4e-4 of the price, more than a
    second's move at 3 %/day), one tick a second for two days: the rounding flickers tick to tick,
    yet the estimate stays near the true 3 %/day (tick-to-tick squared returns would read ~9 %)."""
    rng = np.random.default_rng(5)
    n = 2 * 86_400
    true = 0.0042 * np.exp(np.cumsum(rng.normal(0.0, 0.03 / np.sqrt(86_400), n)))
    e = make_engine(*HORIZONS)
    e.process(TickBatch.from_arrays(["X"] * n, T0 + np.arange(n) * 1000, np.round(true, 6), [1e-6] * n))
    assert e.window_stats(["X"]).ewma_vol[0] == pytest.approx(0.03, rel=0.3)


def test_a_real_move_at_a_coarse_quantum_still_fires(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS)
    series = [(T0 + k * 5 * MIN, 0.000019) for k in range(24)] + [(T0 + 24 * 5 * MIN, 0.000016)]
    moves = quantized(e, series, 1e-6, "SHIB")
    # -15.8 % as shown; at least (0.0000165 / 0.0000185 - 1) = -10.8 % whatever the rounding
    assert [(m.horizon_s, m.direction, m.change_pct) for m in moves] == [(3600, "down", -15.7895)]


def slide_day() -> tuple[np.ndarray, np.ndarray]:
    """Three calm days at 3 %/day, then a day sliding -20 %, one tick a minute (cent prices)."""
    rng = np.random.default_rng(3)
    n_calm, n_day = 3 * 1440, 1440
    steps = rng.normal(0.0, 0.03 / np.sqrt(1440), n_calm + n_day)
    steps[n_calm:] += np.log(0.8) / n_day
    px = np.round(100.0 * np.exp(np.cumsum(steps)), 2)
    return T0 + np.arange(px.size) * MIN, px


def test_a_one_day_slide_reads_as_many_sigmas(make_engine: Callable[..., Engine]) -> None:
    """-20 % over a day, after three calm days at 3 %/day, one tick a minute: the 24 h move (threshold
    20 %) fires with |z| >= 4 (the old per-tick z read about -0.9), down, its anchor a day back.
    (At the default 10 % threshold it fires half-way, at -10 %, with the z of that moment: ~-3.5.)"""
    ts, px = slide_day()
    e = make_engine("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 20.0]")
    out = [ev for ev in e.process(TickBatch.from_arrays(["A"] * px.size, ts, px)) if isinstance(ev, Move)]
    day = [m for m in out if m.horizon_s == 86400]
    assert day and day[0].direction == "down" and day[0].zscore is not None and day[0].zscore <= -4
    assert abs(day[0].ts - day[0].from_ts - 86_400_000) <= 86_400_000 * 0.01


def test_a_one_day_slide_at_the_default_threshold_is_reported_again_when_it_deepens(
    make_engine: Callable[..., Engine],
) -> None:
    """The same -20 % day at the default 10 % threshold: reported when it reaches -10 % (z of that
    moment, about -3.4), and again, as ``deepened``, when it reaches -20 %, now with |z| >= 4."""
    ts, px = slide_day()
    e = make_engine(*HORIZONS)
    out = [ev for ev in e.process(TickBatch.from_arrays(["A"] * px.size, ts, px)) if isinstance(ev, Move)]
    day = [m for m in out if m.horizon_s == 86400]
    assert [m.kind for m in day] == ["new", "deepened"]
    first, deeper = day
    assert -11 < first.change_pct <= -10 and deeper.change_pct <= -20
    assert deeper.zscore is not None and deeper.zscore <= -4 and deeper.direction == "down"


def test_deepened_needs_another_threshold_in_the_same_direction(make_engine: Callable[..., Engine]) -> None:
    """On the 5 % hour: -6 % fires; -9 % has not reached the next 5 % level (-10 %), -11.5 % has."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000", "moves.cooldown_s=[86400, 86400]")
    series = [(T0 + k * 10 * MIN, 100.0) for k in range(7)]
    series += [(T0 + 70 * MIN, 94.0), (T0 + 75 * MIN, 91.0), (T0 + 80 * MIN, 88.5), (T0 + 85 * MIN, 88.0)]
    moves = [m for m in run(e, series) if m.horizon_s == 3600]
    assert [(m.kind, m.change_pct) for m in moves] == [("new", -6.0), ("deepened", -11.5)]


def test_the_anchor_keeps_its_own_quantum_across_one_dollar(make_engine: Callable[..., Engine]) -> None:
    """The seed widget shows $1.03 in cents and $0.978 with six decimals. Shown, that is -5.05 %;
    the anchor's true price may be $1.025, so the change may be -4.6 %: not a 5 % move (found by the
    scorecard's mixed stream). A real -7.8 % still is."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    before = [(T0 + k * 10 * MIN, 1.03, 0.01) for k in range(7)]
    for ts, px, q in [*before, (T0 + 70 * MIN, 0.978, 1e-6)]:
        out = [m for m in e.process(TickBatch.from_arrays(["A"], [ts], [px], [q])) if isinstance(m, Move)]
        assert out == []
    out = e.process(TickBatch.from_arrays(["A"], [T0 + 80 * MIN], [0.95], [1e-6]))
    assert [(m.horizon_s, m.from_price, m.change_pct) for m in out if isinstance(m, Move)] == [
        (3600, 1.03, -7.767)
    ]


def test_the_day_horizon_fires_at_one_tick_a_second(make_engine: Callable[..., Engine]) -> None:
    """86,400 ticks a day into 256-point rings: the 24 h change is still measured a day back."""
    n = 86_400 + 3_600
    px = np.where(np.arange(n) < 86_400, 100.0, 85.0)
    ts = T0 + np.arange(n) * 1000
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    out = [ev for ev in e.process(TickBatch.from_arrays(["A"] * n, ts, px)) if isinstance(ev, Move)]
    assert [(m.horizon_s, m.ts) for m in out] == [(3600, T0 + 86_400_000), (86400, T0 + 86_400_000)]


def test_two_sites_basis_after_a_gap_is_no_move(make_engine: Callable[..., Engine]) -> None:
    """BTC at a calm 1.5 %/day on 5-minute pages for two days, 2 h down, then two sites 15 s apart
    0.2 % from each other (a basis). Measured from the first page back over 15 s, the 0.2 % read z
    +10 on 1 h, a `new` move; z is now over the horizon at least, as for any other change: none."""
    rng = np.random.default_rng(7)
    sd = 0.015 * np.sqrt(300 / 86400)
    p, rows = 60_000.0, []
    for i in range(2 * 288):
        p *= float(np.exp(sd * (1 if rng.random() < 0.5 else -1)))
        rows.append((T0 + i * 5 * MIN, round(p, 2)))
    back = rows[-1][0] + 2 * HOUR
    for k in range(30):
        rows += [(back + k * MIN, round(p, 2)), (back + k * MIN + 15_000, round(p * 1.002, 2))]
    assert run(make_engine(*HORIZONS), rows) == []


def test_a_bad_first_page_back_after_a_gap_is_no_anchor(make_engine: Callable[..., Engine]) -> None:
    """ETH on 10-minute pages, 3 h down, the first page back another coin's row (1650), then 3000
    again: `new` -45 % at the bad page, as without the gap; measured from it, the next page read
    +82 %, a phantom. Far off the last page before the gap and the tick, which agree, it is a lone
    print: the page after it stands in."""
    rows = [(T0 + k * 10 * MIN, 3000.0) for k in range(288)]
    back = rows[-1][0] + 3 * HOUR
    rows += [(back, 1650.0)] + [(back + k * 10 * MIN, 3000.0) for k in range(1, 8)]
    moves = run(make_engine(*HORIZONS, "moves.zscore_k=1000"), rows)
    assert [(m.ts, m.horizon_s, m.to_price) for m in moves] == [(back, 3600, 1650.0), (back, 86400, 1650.0)]


def test_pages_after_a_gap_are_measured_from_the_first_page_back(make_engine: Callable[..., Engine]) -> None:
    """+6 % fires. After a 2 h 10 min gap, 106.5 is measured across it (+0.5 % from 106: the move
    receded, so re-armed) and 112.5 ten minutes later from the first page back: +5.6 % in 10
    minutes, a new move. Its 1 h anchor lies before the gap; it used to have no usable anchor
    (undefined: neither fired nor re-armed) until an hour after the pages came back."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000", "moves.cooldown_s=[86400, 86400]")
    series = [(T0 + k * 10 * MIN, 100.0) for k in range(7)]
    series += [(T0 + 70 * MIN, 106.0), (T0 + 200 * MIN, 106.5), (T0 + 210 * MIN, 112.5)]
    moves = [m for m in run(e, series) if m.horizon_s == 3600]
    assert [(m.ts, m.from_ts, m.kind) for m in moves] == [
        (T0 + 70 * MIN, T0 + 10 * MIN, "new"),
        (T0 + 210 * MIN, T0 + 200 * MIN, "new"),
    ]


def test_direction_is_the_sign_of_the_change(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*HORIZONS, "moves.zscore_k=3", "moves.sigma_floor_daily=0.001")
    series = [(T0 + k * 5 * MIN, 100.0 + 0.01 * (k % 2)) for k in range(40)]
    series += [(T0 + 40 * 5 * MIN, 101.0), (T0 + 41 * 5 * MIN, 100.9)]  # a +0.9 % hour after a spike
    for m in run(e, series):
        assert m.direction == ("up" if m.change_pct > 0 else "down")


def test_a_tick_in_another_quote_is_another_series(make_engine: Callable[..., Engine]) -> None:
    """BTC in EUR inside a USD stream: never a -8 % move of the USD series; it starts its own
    series, whose moves say EUR. Events say the quote."""
    e = make_engine(*HORIZONS)
    n = 30
    usd = TickBatch.from_arrays(
        ["BTC"] * n, T0 + np.arange(n) * 5 * MIN, 100_000.0 + np.arange(n), currency=["USD"] * n
    )
    assert e.process(usd) == []
    eur = TickBatch.from_arrays(["BTC"], [T0 + n * 5 * MIN], [92_000.0], currency=["EUR"])
    assert e.process(eur) == [] and len(e.series) == 2
    crash = TickBatch.from_arrays(["BTC"], [T0 + (n + 1) * 5 * MIN], [90_000.0], currency=["USD"])
    moves = [m for m in e.process(crash) if isinstance(m, Move)]
    assert moves and all(m.currency == "USD" and m.direction == "down" for m in moves)
    eur_crash = TickBatch.from_arrays(
        ["BTC"] * 2, T0 + np.array([n + 2, n + 13]) * 5 * MIN, [92_010.0, 80_000.0], currency=["EUR"] * 2
    )
    eur_moves = [m for m in e.process(eur_crash) if isinstance(m, Move)]
    assert [(m.currency, m.horizon_s, m.from_price) for m in eur_moves] == [("EUR", 3600, 92_000.0)]


def crash_after(calm_h: float, seed: int = 3) -> list[tuple[int, float]]:
    """One tick a minute: ``calm_h`` hours of a 3 %/day random walk, then -8 % over 30 minutes."""
    rng = np.random.default_rng(seed)
    n = int(calm_h * 60)
    calm = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03 / np.sqrt(1440), n)))
    crash = calm[-1] * np.linspace(1.0, 0.92, 31)[1:]
    return [(T0 + k * MIN, round(float(p), 2)) for k, p in enumerate([*calm, *crash])]


def test_a_crash_is_judged_by_the_volatility_before_it(make_engine: Callable[..., Engine]) -> None:
    """A calm day and two hours (past the 1-day half-life), then -8 % in 30 minutes: the 1 h move's z
    uses the volatility known at its anchor, not the current estimate that the crash inflates."""
    e = make_engine(*HORIZONS)
    hour = [m for m in run(e, crash_after(26.0)) if m.horizon_s == 3600]
    assert hour
    first = hour[0]  # z reaches 6 before the change reaches the 5 % threshold
    assert first.trigger == "zscore" and first.zscore is not None and first.zscore <= -6
    assert first.sigma_pct is not None and first.sigma_pct < 1.0  # about 0.6 % an hour at 3 %/day


def test_no_z_when_the_anchor_is_in_the_warm_up(make_engine: Callable[..., Engine]) -> None:
    """The crash starts 90 minutes into the series, and its 1 h anchor 30 minutes before that, when
    the series had neither a half-life (1 day) of history nor zscore_min_returns returns: no z, no
    sigma (the current estimate would count the crash itself); the threshold reports it."""
    e = make_engine(*HORIZONS)
    hour = [m for m in run(e, crash_after(1.5)) if m.horizon_s == 3600]
    assert hour and all(m.zscore is None and m.sigma_pct is None for m in hour)
    assert hour[0].trigger == "threshold" and hour[0].change_pct <= -5


def v_shape(step_min: int, flat: int = 12) -> list[tuple[int, float]]:
    """Pages every ``step_min`` minutes: flat at 100, one page at 93, then 106 and flat."""
    px = [100.0] * flat + [93.0] + [106.0] * 6
    return [(T0 + k * step_min * MIN, p) for k, p in enumerate(px)]


@pytest.mark.parametrize("one_batch", [False, True])
def test_a_reversal_through_the_threshold_is_new_when_it_happens(
    make_engine: Callable[..., Engine], one_batch: bool
) -> None:
    """-7 % fires; 15 minutes later the price is 6 % above where it was an hour ago (+14 % from the
    low). That reversal is news then, as a new episode: it used to wait for the cooldown and come
    out 45 minutes late as a "reminder" of the down move (the desk filtering reminders never saw it)."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    series = v_shape(15)
    if one_batch:
        out = e.process(batch([("A", ts, px) for ts, px in series]))
        moves = [m for m in out if isinstance(m, Move) and m.horizon_s == 3600]
    else:
        moves = [m for m in run(e, series) if m.horizon_s == 3600]
    assert [(m.ts, m.kind, m.direction, m.from_price, m.to_price) for m in moves[:2]] == [
        (T0 + 12 * 15 * MIN, "new", "down", 100.0, 93.0),
        (T0 + 13 * 15 * MIN, "new", "up", 100.0, 106.0),
    ]
    assert all(m.kind != "reminder" for m in moves)


def test_a_rebound_from_a_crash_low_is_judged_with_the_crash_counted(
    make_engine: Callable[..., Engine],
) -> None:
    """Hourly pages: 30 h flat at 100, -12 % to 88 for 3 h, back to 101. A day after the low the
    24 h change, measured from 88, is +14.8 %: a true day-over-day reading (the page's 24 h column
    says the same), reported by the threshold. Its z is judged by the volatility known at the
    anchor, the low, with the crash that made it counted (sigma about 14 % a day, z about 1): it
    used to exclude the anchor's own return and judge the rebound by the calm before the crash
    (sigma at its 0.5 % floor, z 27.5), where the 1 h rebound, from the tick after the low, read 5."""
    e = make_engine(*HORIZONS)
    px = [100.0] * 30 + [88.0] * 3 + [101.0] * 30
    moves = run(e, [(T0 + k * HOUR, p) for k, p in enumerate(px)])
    day = [m for m in moves if m.horizon_s == 86400]
    assert [(m.ts, m.kind, m.from_price, m.to_price) for m in day] == [
        (T0 + 30 * HOUR, "new", 100.0, 88.0),
        (T0 + 54 * HOUR, "new", 88.0, 101.0),
    ]
    rebound = day[1]
    assert rebound.trigger == "threshold"
    assert rebound.zscore is not None and 0.5 < rebound.zscore < 2.0
    assert rebound.sigma_pct is not None and rebound.sigma_pct > 10.0


#: Batch cuts around a bad page at index 10 of 30: none, every tick, right after it, and later.
CUTS_AROUND_PAGE_10 = ([], list(range(1, 30)), [11], [12, 17])


def run_cut(e: Engine, series: list[tuple[int, float]], cuts: list[int]) -> list[Move]:
    """The moves of ``series`` (symbol A) fed in the batches that ``cuts`` makes."""
    moves: list[Move] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(series)], strict=True):
        moves += [
            m for m in e.process(batch([("A", ts, p) for ts, p in series[lo:hi]])) if isinstance(m, Move)
        ]
    return moves


def test_a_lone_print_is_never_an_anchor(make_engine: Callable[..., Engine]) -> None:
    """USDC at $1.00 every 10 minutes, one page at 0.93: -7 % on the hour when it comes (a flash
    crash looks the same until the next page). An hour later the bad page is the as-of price: the
    flat $1.00 used to read +7.5 % from it (a `new` move); far off both neighbours, which agree, it
    is skipped for the page before it. Cut into batches any way, the events are the same."""
    px = [1.0] * 10 + [0.93] + [1.0] * 19
    series = [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)]
    expected = [(T0 + 100 * MIN, "new", 1.0, 0.93)]
    for cuts in CUTS_AROUND_PAGE_10:
        moves = run_cut(make_engine(*HORIZONS, "moves.zscore_k=1000"), series, cuts)
        assert [(m.ts, m.kind, m.from_price, m.to_price) for m in moves] == expected, cuts


@pytest.mark.parametrize("pair", [(1650.0, 1650.0), (1650.0, 1700.0), (5100.0, 5000.0)])
def test_a_lone_pair_is_never_an_anchor(
    make_engine: Callable[..., Engine], pair: tuple[float, float]
) -> None:
    """ETH at 3000 every 10 minutes, two pages in a row at another coin's price (x0.55, or x1.7)
    and back: `new` on the hour at the first bad page (it could be a crash until the pages after
    it). An hour later each bad page in turn was the as-of price, far off the page on one side
    but not the other bad page, so no lone print: the flat 3000 read +82 % from it, a phantom
    `new`. Two pages each far off both pages around them, which agree, are a lone pair and skipped
    for the page before them. Cut into batches any way, the events are the same."""
    px = [3000.0] * 10 + list(pair) + [3000.0] * 18
    series = [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)]
    for cuts in CUTS_AROUND_PAGE_10:
        moves = run_cut(make_engine(*HORIZONS, "moves.zscore_k=1000"), series, cuts)
        hour = [(m.ts, m.kind, m.from_price) for m in moves if m.horizon_s == 3600]
        assert hour[0] == (T0 + 100 * MIN, "new", 3000.0), cuts
        assert all(m.from_price == 3000.0 for m in moves), cuts


def test_a_spike_is_reported_both_ways_but_never_measured_from_a_day_later(
    make_engine: Callable[..., Engine],
) -> None:
    """Hourly pages at 100, one page at 121. The spike is news both ways on the hour: +21 % up,
    then -17.4 % down from it (the page after it is the tick itself, not yet a neighbour). A day
    later the spike is the 24 h anchor with both neighbours at 100: skipped, so the flat 100 is not
    a -17.4 % day (it was, 23 hours after the reversal the hour had reported)."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    px = [100.0] * 30 + [121.0] + [100.0] * 30
    moves = run(e, [(T0 + k * HOUR, p) for k, p in enumerate(px)])
    assert [(m.ts, m.horizon_s, m.kind, m.from_price, m.to_price) for m in moves] == [
        (T0 + 30 * HOUR, 3600, "new", 100.0, 121.0),
        (T0 + 30 * HOUR, 86400, "new", 100.0, 121.0),
        (T0 + 31 * HOUR, 3600, "new", 121.0, 100.0),
    ]


def test_a_v_and_a_step_are_not_lone_prints(make_engine: Callable[..., Engine]) -> None:
    """15-minute pages. 100, 93, 106 is a V (the neighbours disagree by 6 %): an hour after the low
    the 1 h change is measured from it (+14 %, deepened). 100, 93, 93 is a step: the low stays the
    anchor, the move has receded an hour later, and no reminder comes (from 100 it would)."""

    def hour_moves(tail: list[float]) -> list[tuple[int, str, float, float]]:
        e = make_engine(*HORIZONS, "moves.zscore_k=1000")
        px = [100.0] * 12 + [93.0] + tail
        moves = run(e, [(T0 + k * 15 * MIN, p) for k, p in enumerate(px)])
        return [(m.ts, m.kind, m.from_price, m.to_price) for m in moves if m.horizon_s == 3600]

    low = T0 + 12 * 15 * MIN
    assert (low + HOUR, "deepened", 93.0, 106.0) in hour_moves([106.0] * 8)
    assert hour_moves([93.0] * 8) == [(low, "new", 100.0, 93.0)]


def test_a_lone_print_is_skipped_after_a_restore_too(make_engine: Callable[..., Engine]) -> None:
    """The skip reads the ring's points, which a checkpoint carries: restored between the bad page
    and the hour after it, the engine reports what an uninterrupted one does."""
    px = [1.0] * 10 + [0.93] + [1.0] * 19
    ticks = [("A", T0 + k * 10 * MIN, p) for k, p in enumerate(px)]
    first = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got = [m for m in first.process(batch(ticks[:13])) if isinstance(m, Move)]
    second = make_engine(*HORIZONS, "moves.zscore_k=1000")
    second.restore(first.checkpoint())
    got += [m for m in second.process(batch(ticks[13:])) if isinstance(m, Move)]
    assert [(m.ts, m.from_price, m.to_price) for m in got] == [(T0 + 100 * MIN, 1.0, 0.93)]


def test_a_move_across_a_data_gap_is_reported_when_pages_come_back(
    make_engine: Callable[..., Engine],
) -> None:
    """BTC-like pages every 5 minutes for 30 h at 1.5 %/day, none for 2 h, then 8 % lower. The 1 h
    anchor of the first page back lies in the gap: the change was undefined and nothing came on
    1 h. Measured from the last page before the gap, judged by its z over the 2 h 5 min span and by
    the 1 h threshold grown to it (5 % x sqrt(125 / 60) = 7.2 %): both."""
    rng = np.random.default_rng(5)
    n = 30 * 12
    calm = 100_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015 * np.sqrt(5 / 1440), n)))
    series = [(T0 + k * 5 * MIN, round(float(p), 2)) for k, p in enumerate(calm)]
    last_ts, last_px = series[-1]
    back = last_ts + 125 * MIN
    series += [(back + k * 5 * MIN, round(last_px * 0.92, 2)) for k in range(6)]
    hour = [m for m in run(make_engine(*HORIZONS), series) if m.horizon_s == 3600]
    assert [(m.ts, m.from_ts, m.kind, m.trigger, m.direction) for m in hour] == [
        (back, last_ts, "new", "both", "down")
    ]
    assert (
        hour[0].zscore is not None
        and hour[0].zscore <= -10
        and hour[0].change_pct == pytest.approx(-8.0, abs=0.01)
    )


def test_a_coin_relisted_after_days_is_reported_from_its_last_page(
    make_engine: Callable[..., Engine],
) -> None:
    """A coin at 5 %/day paged every 5 minutes for 2 days, gone for 3, 5 or 21 days, back 40 % lower
    (a delisting and relisting, a migration): the first page back is measured from the last page
    before the gap. Gaps beyond the longest horizon used to be silent. Its z over the gap is -6.2
    after 3 days (an event on 1 h and 24 h) and -4.8 after 5 days, which was silent: -40 % is past
    each horizon's threshold grown to the gap, which grows to at most 3x (15 % and 30 %). After 21
    days the growth unbounded was 45.8 % on 24 h, and the relisting was silent again."""
    rng = np.random.default_rng(7)
    n = 2 * 24 * 12
    calm = 2.0 * np.exp(np.cumsum(rng.normal(0.0, 0.05 * np.sqrt(5 / 1440), n)))
    series = [(T0 + k * 5 * MIN, round(float(p), 4)) for k, p in enumerate(calm)]
    last_ts, last_px = series[-1]
    for days, expected in [
        (3, {(3600, "both"), (86400, "both")}),
        (5, {(3600, "threshold"), (86400, "threshold")}),
        (21, {(3600, "threshold"), (86400, "threshold")}),
    ]:
        back = last_ts + days * 24 * HOUR
        later = [(back + k * 5 * MIN, round(last_px * 0.6, 4)) for k in range(6)]
        moves = [m for m in run(make_engine(*HORIZONS), series + later) if m.ts >= back]
        assert {(m.horizon_s, m.trigger) for m in moves} == expected
        assert {(m.ts, m.from_ts, m.kind, m.direction) for m in moves} == {(back, last_ts, "new", "down")}
        assert all(m.zscore is not None and -8 < m.zscore < -2 for m in moves)  # ln(0.6) / (5 % x sqrt d)


@pytest.mark.parametrize(("gap_h", "horizon_s"), [(3, 3600), (36, 86400)])
def test_a_crash_soon_after_a_gap_is_reported_when_it_happens(
    make_engine: Callable[..., Engine], gap_h: int, horizon_s: int
) -> None:
    """Pages every 5 minutes, none for 3 h (36 h), then back at the same price, and 25 % lower 10
    minutes later. The crash page's as-of point (1 h, or 24 h back) lies before the gap, older than
    the window: the horizon was blind until a point an hour (a day) back existed, and the crash
    fired 50 minutes (23 h 50 min) late. Measured from the first page back, it fires at once, in one
    batch as tick by tick."""
    pre = [(T0 + k * 5 * MIN, 100.0) for k in range(40 * 12)]  # 40 h, so 24 h has its history
    back = pre[-1][0] + gap_h * HOUR
    post = [(back, 100.0), (back + 5 * MIN, 100.0), (back + 10 * MIN, 75.0), (back + 15 * MIN, 75.0)]
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = [m for m in run(e, pre + post) if m.horizon_s == horizon_s]
    assert [(m.ts, m.from_ts, m.kind, m.change_pct) for m in moves] == [(back + 10 * MIN, back, "new", -25.0)]
    whole = make_engine(*HORIZONS, "moves.zscore_k=1000")
    rows = [("A", ts, px) for ts, px in pre + post]
    in_one = [m for m in whole.process(batch(rows)) if isinstance(m, Move)]
    assert [m for m in in_one if m.horizon_s == horizon_s] == moves


@pytest.mark.parametrize(("back_at", "fires"), [(106.0, False), (111.0, False), (112.0, True)])
def test_a_gap_move_is_judged_by_the_threshold_grown_to_the_gap(
    make_engine: Callable[..., Engine], back_at: float, fires: bool
) -> None:
    """Across a gap the 1 h threshold grows as a random walk's typical change does: over 5 hours it
    is 5 % x sqrt 5 = 11.2 %. +6 % and +11 % over 5 hours are no 1 h move (z disabled here), +12 %
    is one, measured from the last page before the gap."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    series = [(T0 + k * 10 * MIN, 100.0) for k in range(7)] + [(T0 + 60 * MIN + 5 * HOUR, back_at)]
    moves = run(e, series)
    assert [(m.horizon_s, m.from_ts, m.trigger) for m in moves] == (
        [(3600, T0 + 60 * MIN, "threshold")] if fires else []
    )


def test_a_move_deepens_a_quarter_threshold_beyond_its_latest_event(
    make_engine: Callable[..., Engine],
) -> None:
    """10-minute pages at 100, then 90.1 (a -9.9 % jump, `new`), 89.9, 88.7 and 84.9. The grid's
    next multiple, -10 %, is 0.2 points on: it used to be a `deepened` a page later, the grid's
    artefact rather than news. A move deepens at the next multiple and at least a quarter of a
    threshold beyond its latest event: -11.3 % here (88.7), then -15 % (84.9)."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    px = [100.0] * 7 + [90.1, 89.9, 88.7, 84.9]
    moves = run(e, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)])
    assert [(m.ts, m.kind, m.to_price) for m in moves if m.horizon_s == 3600] == [
        (T0 + 70 * MIN, "new", 90.1),
        (T0 + 90 * MIN, "deepened", 88.7),
        (T0 + 100 * MIN, "deepened", 84.9),
    ]


def test_a_long_gap_back_at_the_same_price_does_not_shrink_the_volatility(
    make_engine: Callable[..., Engine],
) -> None:
    """BTC on 10-minute pages at about 2 %/day for 3 days, 36 h silent, back at the same price, +1.5 %
    ten minutes later. The return across the gap (zero) took two thirds of the estimate's weight,
    sigma fell to 0.6x and the +1.5 % read z 6.7 on 1 h, a `new` move (3.6 without the gap). One
    return keeps at most half the weight: no move."""
    rng = np.random.default_rng(3)
    sd = 0.02 * np.sqrt(10 / 1440)
    rows, p = [], 60_000.0
    for k in range(3 * 144):
        p *= float(np.exp(rng.normal(0.0, sd)))
        rows.append((T0 + k * 10 * MIN, round(p, 2)))
    back = rows[-1][0] + 36 * HOUR
    rows += [(back, rows[-1][1]), (back + 10 * MIN, round(rows[-1][1] * 1.015, 2))]
    assert run(make_engine(*HORIZONS), rows) == []
