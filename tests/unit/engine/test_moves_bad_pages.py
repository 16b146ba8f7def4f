"""Moves around pages that are wrong or late: a lone print must not set the volatility, and a second
source lagging the move must not make one crash several `new` episodes."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import orjson
import pytest

from tests.support.engine import MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.events import Move

HORIZONS = ("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 10.0]")


def calm(n: int, seed: int = 5, start: float = 3000.0) -> list[float]:
    """``n`` pages of a 3 %/day random walk at 10-minute pages, in cents."""
    rng = np.random.default_rng(seed)
    walk = start * np.exp(np.cumsum(rng.normal(0.0, 0.03 / np.sqrt(144), n)))
    return [round(float(p), 2) for p in walk]


def misparse_then_drop() -> list[tuple[int, float]]:
    """Two calm days of 10-minute pages, one page at half the price (another row's price: a lone
    print, yet no scale jump, which engine/scale.py drops before it is a point), calm again for five
    hours, then a true -6 % step that holds."""
    px = calm(300)
    px[288] = round(px[288] / 2.0, 2)
    last = px[-1]
    px += [round(last * 0.94, 2)] * 6
    return [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)]


def feed(e: Engine, series: list[tuple[int, float]], cuts: list[int]) -> list[Move]:
    out: list[Move] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(series)], strict=True):
        got = e.process(batch([("ETH", ts, p) for ts, p in series[lo:hi]], 0.01))
        out += [m for m in got if isinstance(m, Move)]
    return out


@pytest.mark.parametrize("cuts", [[], [289], [288, 289, 290], list(range(1, 306))])
def test_a_lone_print_is_left_out_of_the_volatility(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """ETH at half its price for one page between calm pages: its return in and out (-69 % and +69 %
    in log terms) went into the variance, sigma read tens of % an hour for days and a true -6 % hour
    five hours later had a small z (threshold only; a page at 3.08 between pages at 3083 gave 201 %
    an hour and z -0.03). Once the next page shows the page was a lone print, the
    variance is what it would be without it: the -6 % hour reads its z as on any calm day. However
    the stream is cut (the print's reveal in the next batch included), the events are the same."""
    series = misparse_then_drop()
    e = make_engine(*HORIZONS)
    hour = [m for m in feed(e, series, cuts) if m.horizon_s == 3600]
    drop = [m for m in hour if m.ts == series[300][0]]
    assert len(drop) == 1
    assert drop[0].sigma_pct is not None and drop[0].sigma_pct < 1.0  # ~0.5 % an hour at 3 %/day
    assert drop[0].zscore is not None and drop[0].zscore <= -6.0
    assert drop[0].trigger == "both"


@pytest.mark.parametrize("revealed_later", [True, False])
def test_the_volatility_is_as_if_the_lone_print_never_was(
    make_engine: Callable[..., Engine], revealed_later: bool
) -> None:
    """Undoing the lone leg gives the estimate of the stream without the page: the same floats, for
    the corrected sum and the one as shown, whether the next page comes in a later batch (the state
    goes back to the one before the print) or in the same one."""
    series = misparse_then_drop()[:295]
    with_print, without = make_engine(*HORIZONS), make_engine(*HORIZONS)
    feed(with_print, series, [100, 289] if revealed_later else [100])
    feed(without, series[:288] + series[289:], [100, 288] if revealed_later else [100])
    assert_same_volatility(with_print, without)


def assert_same_volatility(a: Engine, b: Engine) -> None:
    """ETH's volatility in ``a`` and ``b`` is the same: floats (corrected and as shown) and count."""
    ra, rb = a.series.home("ETH"), b.series.home("ETH")
    assert ra is not None and rb is not None
    assert a.windows.var[ra] == b.windows.var[rb]
    assert a.windows.var_raw[ra] == b.windows.var_raw[rb]
    assert a.windows.n_ret[ra] == b.windows.n_ret[rb]


def test_a_crash_that_stays_down_still_raises_the_volatility(make_engine: Callable[..., Engine]) -> None:
    """A -8 % page followed by pages that stay down is no lone print: its return counts."""
    px = calm(300)
    px += [round(px[-1] * 0.92, 2)] * 3
    e = make_engine(*HORIZONS)
    feed(e, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)], [300])
    row = e.series.home("ETH")
    assert row is not None
    calm_only = make_engine(*HORIZONS)
    feed(calm_only, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px[:300])], [])
    assert float(e.windows.var[row]) > 5 * float(calm_only.windows.var[row])


def test_the_lone_print_is_undone_after_a_restore(make_engine: Callable[..., Engine]) -> None:
    """Restored between the lone page and the page that reveals it, the engine undoes it as an
    uninterrupted one does: the variance before the lone leg is in the checkpoint."""
    series = misparse_then_drop()
    whole = make_engine(*HORIZONS)
    expected = feed(whole, series, [])
    first = make_engine(*HORIZONS)
    got = feed(first, series[:289], [])
    second = make_engine(*HORIZONS)
    second.restore(first.checkpoint())
    got += feed(second, series[289:], [])
    assert got == expected


def as_version_3(data: bytes) -> bytes:
    """A checkpoint as version 3 wrote it: none of the state versions 4 and 5 added."""
    later = ("var_prev", "receded", "held_price", "held_ts", "left_price", "last_trig_ts")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in later}
    meta = orjson.loads(arrays.pop("meta").tobytes())
    meta["version"] = 3
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8), **arrays)
    return buf.getvalue()


def test_a_version_3_checkpoint_still_restores(make_engine: Callable[..., Engine]) -> None:
    """Version 3 restores; what it lacks matters only for the tick after it: the last point is kept
    in the volatility (its pre-update variance is unknown) and the latest tick counts as not receded.
    A restore away from a lone print and a recede reports what an uninterrupted engine does."""
    series = misparse_then_drop()
    whole = make_engine(*HORIZONS)
    expected = feed(whole, series, [])
    first = make_engine(*HORIZONS)
    got = feed(first, series[:200], [])
    second = make_engine(*HORIZONS)
    second.restore(as_version_3(first.checkpoint()))
    row = second.series.home("ETH")
    assert row is not None and np.isnan(second.windows.var_prev[row])
    got += feed(second, series[200:], [])
    assert got == expected
    assert any(m.zscore is not None and m.zscore <= -6.0 for m in got)


def dual_source() -> list[tuple[int, float]]:
    """BTC from a live site every 5 minutes and, 2.5 minutes after each live page, the same prices
    from a second site 10 minutes late. Two calm hours at 104,350, then -6 % that holds."""
    live = [104_350.0 + (k % 3) for k in range(24)] + [98_100.0 + (k % 3) for k in range(24)]
    out: list[tuple[int, float]] = []
    for k, p in enumerate(live):
        out.append((T0 + k * 5 * MIN, p))
        out.append((T0 + k * 5 * MIN + 150_000, live[max(k - 2, 0)]))  # what live showed 10 min ago
    return out


def hour_moves(e: Engine, series: list[tuple[int, float]], cuts: list[int]) -> list[tuple[int, str, str]]:
    moves = feed(e, series, cuts)
    return [(m.ts, m.kind, m.direction) for m in moves if m.horizon_s == 3600]


@pytest.mark.parametrize("cuts", [[], [49, 50, 51], list(range(1, 96))])
def test_a_lagging_second_source_does_not_make_one_crash_several(
    make_engine: Callable[..., Engine], cuts: list[int]
) -> None:
    """Each page of the late site between the drop and ten minutes after it still shows the price
    before it: a small 1 h change. It used to re-arm the detector, so the next live page fired
    `new` again (three `new` for one -6 % drop). Re-arming takes two receding pages in a row."""
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got = hour_moves(e, dual_source(), cuts)
    assert [(kind, d) for _, kind, d in got] == [("new", "down")]
    assert got[0][0] == T0 + 24 * 5 * MIN


def test_one_receding_page_between_triggering_ones_does_not_rearm(make_engine: Callable[..., Engine]) -> None:
    """10-minute pages: 100, then 90 held; one page back at 100 (its 1 h change is 0: receding),
    then 90 again. The one page used to re-arm the detector and the next 90 was a second `new` for
    the same drop. It comes 10 minutes after a triggering page, less than a quarter of the hour:
    no re-arm. A move that really receded: 90 held for two hours, then 81 is a new episode in the
    same direction, as before."""
    px = [100.0] * 8 + [90.0] * 3 + [100.0] + [90.0] * 3
    e = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got = hour_moves(e, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px)], [])
    assert [(ts, kind) for ts, kind, d in got if d == "down"] == [(T0 + 80 * MIN, "new")]
    px2 = [100.0] * 8 + [90.0] * 12 + [81.0] * 3
    e2 = make_engine(*HORIZONS, "moves.zscore_k=1000")
    got2 = hour_moves(e2, [(T0 + k * 10 * MIN, p) for k, p in enumerate(px2)], [])
    assert got2 == [(T0 + 80 * MIN, "new", "down"), (T0 + 200 * MIN, "new", "down")]
