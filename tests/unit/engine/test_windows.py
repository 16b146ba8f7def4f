"""Windows: ring wrap, horizon, statistics against naive numpy, late/duplicate policy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.support.engine import HOUR, MIN, T0, batch
from tickerstream.engine import Engine
from tickerstream.engine.grouping import segmented_recurrence
from tickerstream.engine.quanta import UNROUNDED, price_decimals
from tickerstream.engine.rings import bsearch_last_le

SHORT = ("windows.horizon_s=600", "moves.horizons_s=[600]", "moves.threshold_pct=[50.0]")


def test_ring_wraps_and_keeps_the_newest_points(make_engine: Callable[..., Engine]) -> None:
    e = make_engine("windows.capacity=8", *SHORT)  # buckets of 600 * 1.5 / 6 = 150 s: every tick kept
    for k in range(20):
        e.process(batch([("A", T0 + k * 3 * MIN, 100.0 + k)]))
    ts, px = e.windows.points(e.series.home("A"))
    assert ts.tolist() == [T0 + k * 3 * MIN for k in range(12, 20)]
    assert px.tolist() == [100.0 + k for k in range(12, 20)]
    assert e.stats.evicted == 12
    assert e.window_fill() == 1.0


def test_fast_ticks_are_thinned_so_the_ring_spans_its_horizon(make_engine: Callable[..., Engine]) -> None:
    """One tick a second for 2 h into 8-point rings: each ring keeps the first tick of each bucket of
    h * 1.5 / 6, so the 10 min ring still reaches 10 min back and the 1 h ring 1 h back."""
    e = make_engine(
        "windows.capacity=8", "windows.horizon_s=3600", "moves.horizons_s=[600]", "moves.threshold_pct=[50.0]"
    )
    ts = T0 + np.arange(7200) * 1000
    e.process(batch(("A", int(t), 100.0) for t in ts))
    for ring in e.windows.rings:
        held, _ = e.windows.points(0, ring)
        assert len(held) == 8
        assert np.all(held % ring.bucket_ms == 0)  # the first tick of each bucket (ticks on the second)
        assert held[-1] - held[0] >= ring.horizon_ms  # spans the horizon
    assert [r.bucket_ms for r in e.windows.rings] == [150_000, 900_000]


def test_one_batch_longer_than_capacity_matches_tick_by_tick(make_engine: Callable[..., Engine]) -> None:
    ticks = [("A", T0 + k * MIN, 100.0 * (1.01 ** (k % 7))) for k in range(50)]
    one = make_engine("windows.capacity=8", "moves.horizons_s=[300]", "moves.threshold_pct=[3.0]")
    many = make_engine("windows.capacity=8", "moves.horizons_s=[300]", "moves.threshold_pct=[3.0]")
    ev_one = one.process(batch(ticks))
    ev_many = [ev for t in ticks for ev in many.process(batch([t]))]
    assert [e.to_json() for e in ev_one] == [e.to_json() for e in ev_many]
    assert ev_one
    assert one.windows.points(0)[0].tolist() == many.windows.points(0)[0].tolist()


def test_stats_match_naive_numpy_over_the_horizon(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(
        "windows.horizon_s=7200",
        "windows.capacity=64",
        "moves.ewma_halflife_s=7200",
        "moves.horizons_s=[3600]",
        "moves.threshold_pct=[50.0]",
    )
    rng = np.random.default_rng(7)
    # irregular: minutes to most of an hour apart, never two in one 2 h * 1.5 / 62 = 174 s bucket
    gaps = rng.integers(3, 40, size=100) * MIN
    ts = T0 + np.cumsum(gaps)
    px = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.01, size=100)))
    for lo in range(0, 100, 13):
        e.process(
            batch(("S", int(t), float(p)) for t, p in zip(ts[lo : lo + 13], px[lo : lo + 13], strict=True))
        )
    st = e.window_stats(["S"])
    last = ts[-1]
    inside = (ts >= last - 2 * HOUR) & (np.arange(100) >= 100 - 64)
    w = px[inside]
    assert st.points[0] == inside.sum()
    assert st.last[0] == px[-1] and st.last_ts[0] == last
    assert st.min[0] == w.min() and st.max[0] == w.max()
    assert st.mean[0] == pytest.approx(w.mean())
    assert st.logret_std[0] == pytest.approx(np.diff(np.log(w)).std(ddof=1))
    # Variance per second: EWMA of r^2 / dt, weights halving every 2 h of event time, debiased,
    # against the plain recurrence (the prices are unrounded floats: estimated quantum 0, no
    # rounding-noise correction).
    v = w = 0.0
    for r, dt in zip(np.diff(np.log(px)), np.diff(ts) / 1000.0, strict=True):
        decay = 0.5 ** (dt / 7200.0)
        v = decay * v + (1 - decay) * r * r / dt
        w = decay * w + (1 - decay)
    assert st.ewma_vol[0] == pytest.approx(np.sqrt(v / w * 86_400))
    # price at ts - 1 h: the latest point at or before it
    assert st.price_at[0, 0] == px[np.flatnonzero(ts <= last - HOUR)[-1]]


def test_horizon_expiry_excludes_old_points_from_stats(make_engine: Callable[..., Engine]) -> None:
    e = make_engine("windows.horizon_s=3600", "moves.horizons_s=[600]", "moves.threshold_pct=[50.0]")
    e.process(batch([("A", T0, 10.0), ("A", T0 + 10 * MIN, 1.5)]))
    e.process(batch([("A", T0 + 2 * HOUR, 2.0), ("A", T0 + 2 * HOUR + MIN, 3.0)]))
    st = e.window_stats(["A"])
    assert st.points[0] == 2 and st.max[0] == 3.0 and st.min[0] == 2.0


def test_late_and_duplicate_ticks_are_dropped_and_counted(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(
        "windows.capacity=8", "windows.horizon_s=60", "moves.horizons_s=[60]", "moves.threshold_pct=[5.0]"
    )
    e.process(batch([("A", T0 + 2 * MIN, 10.0), ("B", T0, 5.0)]))
    e.process(
        batch(
            [
                ("A", T0 + 2 * MIN, 11.0),  # duplicate of the accepted tick: first one wins
                ("A", T0 + MIN, 9.0),  # late
                ("A", T0 + 3 * MIN, 12.0),
                ("A", T0 + 3 * MIN, 12.0),  # duplicate within the batch
                ("B", T0 + 5 * MIN, 6.0),
                ("B", T0 + 4 * MIN, 6.5),  # late within the batch
                ("B", T0 + 6 * MIN, 7.0),
            ]
        )
    )
    s = e.stats
    assert (s.ticks, s.accepted, s.late, s.duplicates) == (9, 5, 2, 2)
    assert e.windows.points(e.series.home("A"))[1].tolist() == [10.0, 12.0]
    assert e.windows.points(e.series.home("B"))[1].tolist() == [5.0, 6.0, 7.0]
    assert e.last_ts("B") == T0 + 6 * MIN and e.last_price("A") == 12.0


def test_symbols_interleaved_in_any_order_across_a_batch(make_engine: Callable[..., Engine]) -> None:
    ticks = [(s, T0 + k * MIN, 1.0 + k) for k in range(5) for s in ("A", "B", "C")]
    e = make_engine()
    e.process(batch(ticks))
    assert (e.stats.accepted, e.stats.late) == (15, 0)
    f = make_engine()
    f.process(batch(reversed(ticks)))  # newest first: all but the first tick per symbol are late
    assert (f.stats.accepted, f.stats.late) == (3, 12)


@pytest.mark.parametrize("n_long", [1, 40])
def test_segmented_recurrence_is_the_exact_sequential_recurrence(n_long: int) -> None:
    rng = np.random.default_rng(1)
    lens = np.array([300] * n_long + list(rng.integers(1, 20, size=60)), dtype=np.int64)
    rng.shuffle(lens)
    starts = np.cumsum(lens) - lens
    a = rng.uniform(0, 1, int(lens.sum()))
    b = rng.normal(size=a.size)
    x = segmented_recurrence(a, b, starts, lens)
    ref = []
    for s0, n in zip(starts, lens, strict=True):
        prev = 0.0
        for i in range(s0, s0 + n):
            prev = b[i] if i == s0 else a[i] * prev + b[i]
            ref.append(prev)
    assert x.tolist() == ref  # bit for bit


def test_vectorised_binary_search() -> None:
    vals = np.array([1, 3, 3, 5, 9, 12], dtype=np.int64)
    lo = np.array([0, 0, 2, 3, 4, 5], dtype=np.int64)
    hi = np.array([5, 5, 5, 2, 5, 5], dtype=np.int64)
    tgt = np.array([4, 0, 3, 100, 11, 12], dtype=np.int64)
    got = bsearch_last_le(lambda k: vals[k], lo, hi, tgt)
    assert got.tolist() == [2, -1, 2, 2, 4, 5]


def test_price_decimals_reads_the_shown_step() -> None:
    px = np.array([0.000019, 104442.98, 1.0, 1.5, 0.413496, 67000.0, 0.1 + 0.2, 0.123456789012345])
    # float noise (0.30000000000000004) reads as 0.3; 15 significant digits read as unrounded
    assert price_decimals(px).tolist() == [6, 2, 0, 1, 6, 0, 1, UNROUNDED]


def test_bytes_per_symbol_as_documented() -> None:
    e = Engine()
    # two rings (1 h, 24 h) of 256 x (8 B ts, 8 B price, 8 B variance, 1 B quantum exponent) + 8 B
    # count, 192 B of scalars (the variance before the last point's return and the one before,
    # the same sums of the returns as shown, a dropped scale jump's price and ts, the price before
    # the latest confirmed jump, the volatility's last three points and how the two before the
    # newest were left out, the start of the last price's run, its repeats and whether it is
    # frozen among them)
    assert e.windows.nbytes_per_row() == 2 * (256 * 25 + 8) + 192


def test_quantum_exponents_are_the_power_of_ten_at_or_above_each_quantum() -> None:
    """The hot path's log-free version against the plain definition, on every kind of quantum."""
    import numpy as np

    from tickerstream.engine.quanta import NO_Q, exponent_quanta, quantum_exponents

    rng = np.random.default_rng(1)
    q = np.concatenate(
        [10.0 ** rng.integers(-15, 8, 500), rng.uniform(1e-12, 1e6, 20_000), [0.05, 0.5, 1.0, 3e-7]]
    )
    expected = np.ceil(np.log10(q) - 1e-9).astype(np.int8)
    assert (quantum_exponents(q) == expected).all()
    assert quantum_exponents(np.array([np.nan, 0.0])).tolist() == [NO_Q, NO_Q]
    back = exponent_quanta(quantum_exponents(np.array([0.01, 1e-6, 0.05, np.nan])))
    assert back[:3].tolist() == [0.01, 1e-6, 0.1] and np.isnan(back[3])
