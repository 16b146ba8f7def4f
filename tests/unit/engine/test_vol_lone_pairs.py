"""The volatility leaves a lone pair out as it does a lone print: two bad pages in a row (another
coin's row twice) must not set sigma for days, whatever batches the stream comes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.support.engine import MIN, T0, config
from tests.unit.engine.test_moves_bad_pages import HORIZONS, assert_same_volatility, calm, feed
from tests.unit.engine.test_stale_repeats import cut, tick_by_tick
from tickerstream.engine import Engine, TickBatch
from tickerstream.engine.windows import Pairs, Windows

PAIR_AT = 288  # the pair's first page (and the next)


def pair_then_drop(pair: tuple[float, float] = (0.55, 0.55)) -> list[tuple[int, float]]:
    """Two calm days of 10-minute ETH pages, two pages in a row at another price (x ``pair``, each
    relative to the calm price there), calm again for five hours, then a true -4.5 % step that holds."""
    px = calm(300)
    for k, f in enumerate(pair):
        px[PAIR_AT + k] = round(px[PAIR_AT + k] * f, 2)
    last = px[-1]
    px += [round(last * 0.955, 2)] * 6
    return [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)]


# The pair's two pages and the page after it, each in the batch before or in a later one: the pair
# revealed with both pages held from before the batch, with one of them, or in the batch.
CUTS = [[], [290], [289], [289, 290], [288, 289, 290, 291], list(range(1, 306))]


@pytest.mark.parametrize("cuts", CUTS)
@pytest.mark.parametrize("pair", [(0.55, 0.55), (0.55, 0.6), (1.7, 1.65)])
def test_a_real_drop_after_a_lone_pair_reads_its_z(
    make_engine: Callable[..., Engine], cuts: list[int], pair: tuple[float, float]
) -> None:
    """ETH at another coin's price on two 10-minute pages between calm pages: their four returns
    (about +-60 % in log terms) went into the variance, and five hours later a true -4.5 % hour,
    z -16 on any calm day and below the 5 % threshold, was silent. Two points each beyond both
    points around them, which agree, are a lone pair: left out once the page after them shows it,
    the -4.5 % hour is reported on its z however the stream is cut."""
    series = pair_then_drop(pair)
    hour = [m for m in feed(make_engine(*HORIZONS), series, cuts) if m.horizon_s == 3600]
    drop = [m for m in hour if m.ts == series[300][0]]
    assert len(drop) == 1
    assert drop[0].sigma_pct is not None and drop[0].sigma_pct < 1.0
    assert drop[0].zscore is not None and drop[0].zscore <= -6.0
    assert drop[0].trigger == "zscore"


@pytest.mark.parametrize("cuts", CUTS)
def test_the_volatility_is_as_if_the_lone_pair_never_was(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """The estimate after the pair is the one of the stream without its two pages: the same floats
    (corrected and as shown) and return count."""
    series = pair_then_drop()[:295]
    with_pair, without = make_engine(*HORIZONS), make_engine(*HORIZONS)
    feed(with_pair, series, cuts)
    gone = series[:PAIR_AT] + series[PAIR_AT + 2 :]
    feed(without, gone, [c - 2 if c > PAIR_AT + 1 else min(c, PAIR_AT) for c in cuts if c != PAIR_AT + 1])
    assert_same_volatility(with_pair, without)


def test_a_price_away_for_longer_is_no_lone_pair(make_engine: Callable[..., Engine]) -> None:
    """Two pages 20 minutes apart at -45 % with the pages around them 60 minutes apart: a dip that
    lasted an hour, whatever few pages showed it. Its returns stay in the volatility."""
    px = calm(300)
    series = [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)]
    dip = round(px[PAIR_AT] * 0.55, 2)
    before = series[PAIR_AT - 1][0]
    series = [*series[:PAIR_AT], (before + 20 * MIN, dip), (before + 40 * MIN, dip)]
    series += [(series[-1][0] + 20 * MIN + k * 10 * MIN, px[PAIR_AT + 2 + k]) for k in range(5)]
    e = make_engine(*HORIZONS)
    feed(e, series, [])
    calm_only = make_engine(*HORIZONS)
    feed(calm_only, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px[:PAIR_AT])], [])
    row = e.series.home("ETH")
    assert row is not None
    assert float(e.windows.var[row]) > 5 * float(calm_only.windows.var[row])


def test_the_lone_pair_is_undone_after_a_restore(make_engine: Callable[..., Engine]) -> None:
    """Restored between the pair and the page that reveals it (and between its two pages), the
    engine reports what an uninterrupted one does: the state before the pair is in the checkpoint."""
    series = pair_then_drop()
    expected = feed(make_engine(*HORIZONS), series, [])
    for at in (PAIR_AT + 1, PAIR_AT + 2):
        first = make_engine(*HORIZONS)
        got = feed(first, series[:at], [])
        second = make_engine(*HORIZONS)
        second.restore(first.checkpoint())
        got += feed(second, series[at:], [])
        assert [m.to_json() for m in got] == [m.to_json() for m in expected], at


def jumpy_stream(rng: np.random.Generator) -> list[tuple[str, int, float]]:
    """ETH in cents on pages 3-20 minutes apart: a calm walk with, at random, a bad page, two or three
    bad pages in a row (at one price or two), pages alternating between two prices, and real steps."""
    ticks: list[tuple[str, int, float]] = []
    t, p = T0, 3000.0
    for _ in range(int(rng.integers(10, 40))):
        t += int(rng.choice([3, 5, 10, 10, 15, 20])) * MIN
        p = round(p * float(np.exp(rng.normal(0.0, 0.004))), 2)
        u = rng.random()
        if u < 0.5:
            ticks.append(("ETH", t, p))
            continue
        if u < 0.8:  # one to three bad pages
            f = [float(rng.choice([0.55, 0.6, 1.7, 1.8])) for _ in range(int(rng.integers(1, 4)))]
        elif u < 0.9:  # two sites at two prices, alternating
            f = [1.0 if k % 2 else 0.55 for k in range(int(rng.integers(2, 6)))]
        else:  # a real step
            p = round(p * float(rng.choice([0.9, 0.6, 1.5])), 2)
            f = [1.0]
        for x in f:
            ticks.append(("ETH", t, round(p * x, 2)))
            t += int(rng.choice([5, 10])) * MIN
    return ticks


def test_random_lone_pairs_are_judged_as_tick_by_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random streams of bad pages, pairs, alternations and steps: one batch, random cuts and two
    ticks a batch give the events, counts and checkpoint of tick by tick; and pairs were left out,
    in each place."""
    found = {"in batch": 0, "last and first": 0, "last two": 0}
    judge = Windows._lone_pairs

    def counting(self: Windows, *args: Any) -> Pairs:
        pairs = judge(self, *args)
        found["in batch"] += int(pairs.first.sum())
        found["last and first"] += int(pairs.from_b.sum())
        found["last two"] += int(pairs.from_c.sum())
        return pairs

    monkeypatch.setattr(Windows, "_lone_pairs", counting)
    rng = np.random.default_rng(7)
    for case in range(120):
        ticks = jumpy_stream(rng)
        expected = tick_by_tick(ticks, *HORIZONS)
        cuts = sorted({int(c) for c in rng.integers(1, len(ticks), size=int(rng.integers(1, 5)))})
        pairs_of_ticks = list(range(1 + case % 2, len(ticks), 2))
        for cs in ([], cuts, pairs_of_ticks):
            assert cut(ticks, cs, *HORIZONS) == expected, (case, cs, ticks)
    assert min(found.values()) >= 10, found


def checkpoint_of(ticks: list[tuple[str, int, float, float]], cuts: list[int]) -> bytes:
    """The checkpoint after ``ticks`` (with their quanta) fed in the batches ``cuts`` makes."""
    e = Engine(config(*HORIZONS))
    for lo, hi in zip([0, *cuts], [*cuts, len(ticks)], strict=True):
        b = ticks[lo:hi]
        e.process(
            TickBatch.from_arrays([t[0] for t in b], [t[1] for t in b], [t[2] for t in b], [t[3] for t in b])
        )
    return e.checkpoint()


@pytest.mark.parametrize("bad", [[3150.42], [3150.42, 4800.0]], ids=["print", "pair"])
def test_a_jump_in_of_exactly_the_threshold_is_judged_as_tick_by_tick(bad: list[float]) -> None:
    """3000.40 to 3150.42 is +5 % by the lone rule (``p >= before * 1.05``) but a hair under it by
    the jump prefilter (``|p - before| >= before * 0.05`` in floating point). In one batch the
    prefilter looked at the jump in, from a checkpoint only at the jump out: the print or pair was
    left out tick by tick and kept in one batch. Only the jump out prefilters now."""
    rng = np.random.default_rng(1)
    walk = [round(3000.40 * float(np.exp(v)), 2) for v in np.cumsum(rng.normal(0, 0.001, 40))]
    walk[-1] = 3000.40
    px = [*walk, *bad, 2995.0, *(2996.0 + k for k in range(5))]
    ticks = [("ETH", T0 + k * 10 * MIN, p, 0.01) for k, p in enumerate(px)]
    assert checkpoint_of(ticks, []) == checkpoint_of(ticks, list(range(1, len(ticks))))


def test_a_pair_held_from_before_the_batch_steps_back_across_quanta_as_in_one() -> None:
    """A six-decimal page of a $0.32 coin, a lone pair in cents, the price back in cents: the return
    the estimate takes after the pair (from the six-decimal page to a cents page, a step of 3 %) is
    no return. Held from before the batch, the third newest point's quantum was not looked at and
    the return counted (the variance went below zero); in one batch it did not."""
    t0 = 1_700_049_726_000  # each page the first of its bucket of the volatility's ring
    ticks = [
        ("AAA", t0, 0.31992, 1e-06),
        ("AAA", t0 + 750_000, 0.54, 0.01),
        ("AAA", t0 + 1_050_000, 0.54, 0.01),
        ("AAA", t0 + 1_500_000, 0.32, 0.01),
    ]
    expected = checkpoint_of(ticks, [])
    for cuts in ([1, 2, 3], [3], [2]):
        assert checkpoint_of(ticks, cuts) == expected, cuts


@pytest.mark.parametrize("cuts", CUTS)
def test_a_bad_page_after_a_pair_and_the_price_back_is_left_out_too(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """A pair, the price back, one more page at the pair's level (N B B N B N): the page back was
    far off both pages still shown around it (the pair's second and the bad page), so the bad page
    after it counted as "right after a lone print" and stayed in the volatility (sigma 50x, a true
    -4.5 % hour five hours later silent). The point right after a pair is the price back, never a
    print: the estimate is the one of the stream without the three bad pages' pair."""
    series = pair_then_drop()
    bad = list(series)
    bad[PAIR_AT + 3] = (bad[PAIR_AT + 3][0], round(bad[PAIR_AT + 3][1] * 0.55, 2))
    with_pages, without = make_engine(*HORIZONS), make_engine(*HORIZONS)
    hour = [m for m in feed(with_pages, bad, cuts) if m.horizon_s == 3600 and m.ts == series[300][0]]
    assert len(hour) == 1 and hour[0].zscore is not None and hour[0].zscore <= -6.0
    feed(without, series[:PAIR_AT] + bad[PAIR_AT + 2 :], [])
    assert_same_volatility(with_pages, without)
