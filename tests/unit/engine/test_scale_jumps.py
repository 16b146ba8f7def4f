"""A page at a thousandth (or a thousand times) of the price is a misparse until the next page
confirms its scale: never a -99.9 % move."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import orjson
import pytest

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import Move, PegEvent

HORIZONS = ("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 10.0]")


def pages(n: int, start: float, bad: dict[int, float]) -> list[tuple[int, float]]:
    """``n`` 10-minute pages of a gentle walk from ``start``; page k shown times ``bad[k]``."""
    rng = np.random.default_rng(11)
    walk = start * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    return [(T0 + k * 10 * MIN, round(float(p) * bad.get(k, 1.0), 2)) for k, p in enumerate(walk)]


def feed(e: Engine, ticks: list[tuple[str, int, float]], cuts: list[int]) -> list[Move]:
    out: list[Move] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(ticks)], strict=True):
        out += [m for m in e.process(batch(ticks[lo:hi], 0.01)) if isinstance(m, Move)]
    return out


def misparsed() -> list[tuple[str, int, float]]:
    """ETH a thousandth for one page, SOL a thousand times for one page, BTC a thousandth twice
    (one page each), among 10-minute pages over a day and a half."""
    eth = [("ETH", ts, p) for ts, p in pages(220, 3000.0, {150: 1e-3})]
    sol = [("SOL", ts, p) for ts, p in pages(220, 200.0, {160: 1e3})]
    btc = [("BTC", ts, p) for ts, p in pages(220, 99_000.0, {170: 1e-3, 200: 1e-3})]
    return sorted(eth + sol + btc, key=lambda t: (t[1], t[0]))


@pytest.mark.parametrize("cuts", [[], [451], [450, 451, 452, 453], list(range(1, 660, 7))])
def test_a_one_page_scale_error_is_no_move(make_engine: Callable[..., Engine], cuts: list[int]) -> None:
    """ETH/1000, SOL x1000 and BTC/1000 on one page each used to publish -99.9 % and +100,437 % moves
    on both horizons (z -1755) and nothing when the next page reverted. Each such page is now
    dropped and counted; the page after it, back at the true scale, is taken. However the stream is
    cut (between the bad page and the next one included), no move and the same count."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    assert feed(e, misparsed(), cuts) == []
    assert e.stats.scale_jumps == 4


def test_a_scale_error_is_dropped_across_a_checkpoint(make_engine: Callable[..., Engine]) -> None:
    """The dropped page's price is in the checkpoint: restored right after it, the next page (back
    at the true scale) is still taken, not dropped as a jump from the last point."""
    ticks = [("ETH", ts, p) for ts, p in pages(160, 3000.0, {150: 1e-3})]
    first = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got = feed(first, ticks[:151], [])
    second = make_engine(*HORIZONS, "moves.zscore_k=1000")
    second.restore(first.checkpoint())
    got += feed(second, ticks[151:], [])
    assert got == []
    row = second.series.home("ETH")
    assert row is not None and second.windows.last_price[row] == ticks[-1][2]


def test_a_real_change_of_scale_is_reported_one_page_late(make_engine: Callable[..., Engine]) -> None:
    """A crash of more than 87.5 % in one page (to 0.05 of the price) that holds: the first page is
    dropped, the second confirms the scale and its move is reported, from the price before."""
    series = pages(20, 3000.0, {k: 0.05 for k in range(12, 20)})
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = feed(e, [("ETH", ts, p) for ts, p in series], [])
    assert [(m.ts, m.horizon_s, m.kind, m.from_price) for m in moves] == [
        (series[13][0], 3600, "new", series[7][1])
    ]
    assert moves[0].change_pct < -94.0
    assert e.stats.scale_jumps == 1


def test_a_decimal_shift_is_taken_once_the_old_scale_is_gone(make_engine: Callable[..., Engine]) -> None:
    """A redenomination to a thousand times the price on every page (10-minute pages): a jump up by
    a power of ten is a misread's shape, so it is confirmed only once no page at the old scale came
    for half an hour, at the third page of the new scale (the first two dropped), from the price
    before. (Down, a power of ten is also a crash: that confirms at the second page, above.)"""
    series = pages(20, 3.0, {k: 1e3 for k in range(12, 20)})
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = feed(e, [("ETH", ts, p) for ts, p in series], [])
    assert (moves[0].ts, moves[0].horizon_s, moves[0].kind, moves[0].from_price) == (
        series[14][0],
        3600,
        "new",
        series[8][1],
    )
    assert e.stats.scale_jumps == 2


@pytest.mark.parametrize("symbol", ["USDC", "FOO"])
@pytest.mark.parametrize("factor", [100.0, 10.0, 1000.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_site_misreading_every_page_never_takes_the_series_over(
    make_engine: Callable[..., Engine], symbol: str, factor: float, seed: int
) -> None:
    """USDC from a site at 1.0000 and a second site showing every page x100 (or x10, x1000), the
    two paging in random order for 6 hours. The bad site's second page confirmed its scale: the
    series became 100.00, every correct page was dropped as a jump back, and it published
    +9,900 % and a critical depeg at +990,000 bps that never ended. Now every bad page is dropped
    (and counted) and nothing is published. The same for a coin without a peg (FOO) whose first
    page is a correct one: with no price expected before it, a series whose first pages are the bad
    site's keeps that scale (docs/moves.md). (A site showing every page /100 is not caught: down, a
    power of ten is also a crash, which must be reported at its second page.)"""
    rng = np.random.default_rng(seed)
    ticks = []
    for k in range(6 * 60):
        good = round(1.0 + float(rng.normal(0.0, 0.0001)), 4)
        bad = k > 0 and rng.random() < 0.5 if symbol == "FOO" else rng.random() < 0.5
        ticks.append((symbol, T0 + k * MIN, round(good * factor, 4) if bad else good))
    n_bad = sum(1 for _, _, p in ticks if p > 2.0 or p < 0.5)
    e = make_engine(*HORIZONS)
    events = []
    for lo in range(0, len(ticks), 7):
        events += e.process(batch(ticks[lo : lo + 7], 0.0001))
    assert events == []
    assert e.stats.scale_jumps == n_bad


@pytest.mark.parametrize("cuts", [[], [41, 42, 43], list(range(1, 80, 3))])
def test_a_crash_beyond_a_tenth_is_confirmed_between_stale_pages(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """A stale second source keeps showing 2.0 between the live pages, which show a -92 % crash to
    0.158. Each live page used to be a jump from the stale page before it (dropped) and each stale
    page a jump from a dropped one (taken): the crash was never reported. Judged against the last
    taken page, the second live page at 0.158 confirms the first: reported then, once; the stale
    pages are dropped from then on (a return to the scale left needs two pages in a row)."""
    ticks = []
    for k in range(40):
        live = 2.0 if k < 20 else 0.158
        ticks += [("FOO", T0 + k * 10 * MIN, live), ("FOO", T0 + k * 10 * MIN + 5 * MIN, 2.0)]
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = feed(e, ticks, cuts)
    assert [(m.ts, m.horizon_s, m.kind, m.to_price) for m in moves] == [(T0 + 210 * MIN, 3600, "new", 0.158)]
    assert e.stats.scale_jumps == 1 + 19


def test_a_dropped_page_confirms_nothing_after_an_hour(make_engine: Callable[..., Engine]) -> None:
    """Two misparsed pages at a thousandth, 70 minutes apart, with good pages between: both dropped
    (a dropped page confirms a jump to its scale for an hour)."""
    series = pages(20, 3000.0, {6: 1e-3, 13: 1e-3})
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    assert feed(e, [("ETH", ts, p) for ts, p in series], []) == []
    assert e.stats.scale_jumps == 2


def test_a_dropped_reference_page_is_not_published(make_engine: Callable[..., Engine]) -> None:
    """BTC is WBTC's reference: a BTC page dropped as a scale jump is not a reference point other
    instances would judge WBTC by."""
    e = make_engine()
    ticks = [("BTC", T0 + k * MIN, 99_000.0 + k) for k in range(5)]
    ticks[3] = ("BTC", ticks[3][1], 99.0)
    e.process(batch(ticks, 0.01))
    assert e.last_reference_mask.tolist() == [True, True, True, False, True]


def as_version_4(data: bytes) -> bytes:
    """A checkpoint as version 4 wrote it: ``receded`` instead of ``last_trig_ts``, no ``held_ts``
    and no ``left_price``."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in ("held_ts", "left_price", "last_trig_ts")}
    arrays["receded"] = np.zeros(arrays["armed"].shape, dtype=bool)
    meta = orjson.loads(arrays.pop("meta").tobytes())
    meta["version"] = 4
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8), **arrays)
    return buf.getvalue()


def test_a_version_4_checkpoint_keeps_the_dropped_page(make_engine: Callable[..., Engine]) -> None:
    """Version 4 restores: its dropped page (without a ts, dated at the last taken page) still
    confirms the next page at its scale, so a redenomination cut by the restore after its first
    page is reported at its second, as without the restore."""
    series = [("ETH", ts, p) for ts, p in pages(20, 3000.0, {k: 0.05 for k in range(12, 20)})]
    whole = make_engine(*HORIZONS, "moves.zscore_k=1000")
    expected = feed(whole, series, [])
    first = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got = feed(first, series[:13], [])
    second = make_engine(*HORIZONS, "moves.zscore_k=1000")
    second.restore(as_version_4(first.checkpoint()))
    got += feed(second, series[13:], [])
    assert got == expected
    assert [m.ts for m in got] == [series[13][1]]


def test_a_return_to_the_scale_left_takes_two_pages_in_a_row(make_engine: Callable[..., Engine]) -> None:
    """3000 for 12 pages, 150 for 6 (a confirmed crash), then 3000 again for good: the first page
    back is dropped, the second (right after it) confirms the return."""
    series = pages(24, 3000.0, {k: 0.05 for k in range(12, 18)})
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = feed(e, [("ETH", ts, p) for ts, p in series], [])
    assert [(m.ts, m.horizon_s, m.direction) for m in moves if m.kind == "new"] == [
        (series[13][0], 3600, "down"),
        (series[19][0], 3600, "up"),
    ]
    assert e.stats.scale_jumps == 2


@pytest.mark.parametrize(
    ("shown", "dropped"), [(30005.0, True), (300.05, True), (24010.0, True), (23900.0, False)]
)
def test_a_tenfold_misread_after_a_small_move_is_still_a_scale_jump(
    make_engine: Callable[..., Engine], shown: float, dropped: bool
) -> None:
    """ETH 3001.00, then 3000.50 read as 30005.0 (or 300.05): x9.998 (x0.09998), so with the factor
    at 10 it was taken and published +900 % at z 392. At 8 (x8.0007, 24010) it is dropped, on one
    page; a page at x7.96 (23900) is taken."""
    series = [*pages(20, 3000.0, {}), (T0 + 20 * 10 * MIN, 3001.0), (T0 + 21 * 10 * MIN, shown)]
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    moves = feed(e, [("ETH", ts, p) for ts, p in series], [])
    assert e.stats.scale_jumps == (1 if dropped else 0)
    assert (moves == []) == dropped


def test_a_usd_peg_at_eight_times_its_target_is_never_taken(make_engine: Callable[..., Engine]) -> None:
    """USDC from site A at 1.0000 every 2 minutes and site B at 100.00 a minute after each; A is down
    from 2:00 to 2:45. With no page of the old scale for 30 minutes, B's x100 was confirmed, and A's
    pages, back, were jumps back that never came twice in a row: a +9,900 % move and a critical
    depeg at +990,000 bps that never ended. A USD peg's page at 8x its target is never taken."""
    ticks = []
    for k in range(4 * 30):
        t = T0 + k * 2 * MIN
        if not 120 * MIN <= t - T0 < 165 * MIN:
            ticks.append(("USDC", t, 1.0))
        ticks.append(("USDC", t + MIN, 100.0))
    e = make_engine(*HORIZONS)
    assert [ev for ev in e.process(batch(ticks, 0.0001))] == []
    assert e.stats.scale_jumps == 4 * 30


def test_a_stablecoin_crash_to_a_tenth_beside_a_stale_mirror_fires_at_its_second_page(
    make_engine: Callable[..., Engine],
) -> None:
    """USDC on a live site every 2 minutes and a mirror stuck at 1.0000 between; at 60 minutes the
    live site shows 0.1000, 0.0990, 0.1010 ... (a collapse). Taken for a decimal misread, every
    live page was dropped for 6 hours: no move, no peg event. A jump down is also a crash: the
    second live page confirms it, a -90 % move; the peg monitor, which never saw the dropped first
    page, is critical at the next live page (two pages beyond the bypass)."""
    ticks = []
    for k in range(3 * 30):
        t = T0 + k * 2 * MIN
        live = 1.0 if k < 30 else round(0.1 + 0.001 * ((k % 3) - 1), 4)
        ticks += [("USDC", t, live), ("USDC", t + MIN, 1.0)]
    e = make_engine(*HORIZONS)
    events = e.process(batch(ticks, 0.0001))
    second = T0 + 31 * 2 * MIN
    pegs = [ev for ev in events if isinstance(ev, PegEvent) and ev.kind == "change"]
    assert (pegs[0].ts, pegs[0].state, pegs[0].episode_start) == (second + 2 * MIN, "critical", second)
    assert [(m.ts, m.horizon_s) for m in events if isinstance(m, Move)][:1] == [(second, 3600)]


def test_a_misreading_site_at_slow_cadence_never_takes_the_series_over(
    make_engine: Callable[..., Engine],
) -> None:
    """BTC misread x100 every 45 minutes, the right page 5 s after each: at that cadence the last
    page of the old scale is always over 30 minutes old, so the misread's second page confirmed it
    (+9,902 %). An up shift also needs the page right before it at the new scale."""
    ticks = [("BTC", T0, 97_123.5)]
    for k in range(1, 12):
        t = T0 + k * 45 * MIN
        ticks += [("BTC", t, 9_712_350.0 + k), ("BTC", t + 5_000, 97_123.5 + k)]
    e = make_engine(*HORIZONS)
    assert e.process(batch(ticks, 0.01)) == []
    assert e.stats.scale_jumps == 11


@pytest.mark.parametrize("prices", [[0.5, 1.5e308, 1.5e308], [0.0, 299.0]])
def test_extreme_prices_raise_nothing(make_engine: Callable[..., Engine], prices: list[float]) -> None:
    """A price so large the ratio overflows raised OverflowError out of the decimal-shift test; a
    zero first price and a page two hours later raised ZeroDivisionError building the move across
    the gap. Neither is a move."""
    e = make_engine()
    huge = prices[1] > 1e300
    ticks = [("FOO", T0 + k * (MIN if huge else 120 * MIN), p) for k, p in enumerate(prices)]
    quantum = float("nan") if huge else 0.001  # unknown: the engine estimates one
    with np.errstate(all="ignore"):
        assert [ev for ev in e.process(batch(ticks, quantum)) if isinstance(ev, Move)] == []
