"""Series identity = (symbol, coin id, quote): shared tickers, second quotes, ticks without a coin id,
and which series the peg monitor judges."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence

import numpy as np
import orjson
import pytest

from tests.support.engine import MIN, T0
from tickerstream.engine import Engine, TickBatch
from tickerstream.engine.checkpoint import CheckpointFormatError
from tickerstream.events import Move, PegEvent

FAST = ("moves.horizons_s=[3600, 86400]", "moves.threshold_pct=[5.0, 10.0]", "pegs.usd_confirm_s=0")


def ticks(rows: Sequence[tuple[str, str | None, str, int, float]]) -> TickBatch:
    """A batch of (symbol, coin id, quote, ts, price)."""
    return TickBatch.from_arrays(
        [r[0] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        currency=[r[2] for r in rows],
        coin_ids=[r[1] for r in rows],
    )


def test_two_coins_sharing_a_ticker_are_two_series(make_engine: Callable[..., Engine]) -> None:
    """A $1 coin and a $0.02 coin both called ABC, interleaved: each is flat, so no move at all
    (keyed by symbol alone, every tick would read as -98 % or +4900 %)."""
    e = make_engine(*FAST)
    rows = []
    for k in range(40):
        rows += [
            ("ABC", "abc-one", "USD", T0 + k * 5 * MIN, 1.0),
            ("ABC", "abc-two", "USD", T0 + k * 5 * MIN, 0.02),
        ]
    assert e.process(ticks(rows)) == []
    assert len(e.series) == 2 and e.symbols() == ["ABC"]
    crash = e.process(ticks([("ABC", "abc-two", "USD", T0 + 40 * 5 * MIN, 0.015)]))
    # -25 % over the hour (no point a day back yet): a move of abc-two alone
    assert [(m.coin_id, m.currency, m.horizon_s, m.from_price) for m in crash if isinstance(m, Move)] == [
        ("abc-two", "USD", 3600, 0.02)
    ]


def test_a_tick_without_coin_id_joins_the_only_series_and_is_refused_on_a_shared_ticker(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine(*FAST)
    # Pages without the slug line first: a series without coin id, claimed by the first coin id.
    e.process(ticks([("ABC", None, "USD", T0, 1.0), ("ABC", "abc-one", "USD", T0 + MIN, 1.0)]))
    e.process(ticks([("ABC", None, "USD", T0 + 2 * MIN, 1.0)]))
    assert len(e.series) == 1 and e.series.key(e.series.home("ABC") or 0) == ("ABC", "abc-one", "USD")
    # A second coin: now an id-less tick could be either, and is dropped and counted.
    e.process(ticks([("ABC", "abc-two", "USD", T0 + 3 * MIN, 0.02), ("ABC", None, "USD", T0 + 4 * MIN, 0.5)]))
    assert len(e.series) == 2 and e.stats.ambiguous_series == 1
    assert e.stats.accepted == 4


def test_series_do_not_depend_on_how_the_stream_is_cut(make_engine: Callable[..., Engine]) -> None:
    rng = np.random.default_rng(7)
    kinds = [
        ("ABC", None, "USD"),
        ("ABC", "abc-one", "USD"),
        ("ABC", "abc-two", "USD"),
        ("ABC", "abc-one", "EUR"),
    ]
    base = {("ABC", None, "USD"): 1.0, ("ABC", "abc-one", "USD"): 1.0, ("ABC", "abc-two", "USD"): 0.02,
            ("ABC", "abc-one", "EUR"): 0.9}  # fmt: skip
    rows = []
    for k in range(600):
        s, c, q = kinds[int(rng.integers(0, 4))] if k > 2 else kinds[0]
        drift = 0.8 if 300 < k < 340 else 1.0  # a crash the series must each see on their own
        rows.append((s, c, q, T0 + k * MIN, round(base[(s, c, q)] * drift * (1 + rng.normal(0, 0.002)), 6)))
    whole = ticks(rows)
    one = make_engine(*FAST)
    expected = [ev.to_json() for ev in one.process(whole)]
    assert any(b'"move"' in j for j in expected)
    for step in (1, 7, 50):
        e = make_engine(*FAST)
        got = [
            ev.to_json() for lo in range(0, len(rows), step) for ev in e.process(whole.slice(lo, lo + step))
        ]
        assert got == expected
        assert e.stats.ambiguous_series == one.stats.ambiguous_series


def test_a_fake_coin_under_a_pegged_ticker_is_never_judged_against_the_peg(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """The shipped registry pins USDC to coin id usd-coin: a token also called USDC at $0.02 is a
    series of its own, no depeg of USDC (logged once), while the real USDC is still judged."""
    e = make_engine(*FAST)
    with caplog.at_level(logging.WARNING):
        out = e.process(ticks([("USDC", "usdc-fake", "USD", T0 + k * MIN, 0.02) for k in range(5)]))
        out += e.process(ticks([("USDC", "usd-coin", "USD", T0 + 10 * MIN, 1.0)]))
        out += e.process(ticks([("USDC", "usdc-fake", "USD", T0 + 11 * MIN, 0.02)]))
    assert [ev for ev in out if isinstance(ev, PegEvent)] == []
    assert sum("engine.peg_other_coin" in r.getMessage() for r in caplog.records) == 1
    depeg = e.process(ticks([("USDC", "usd-coin", "USD", T0 + 12 * MIN, 0.95)]))
    assert [ev.state for ev in depeg if isinstance(ev, PegEvent)] == ["critical"]


def test_pegs_judge_only_usd_quotes(make_engine: Callable[..., Engine]) -> None:
    """USDT quoted in EUR (0.92) is no depeg: pegs compare like with like (no FX conversion)."""
    e = make_engine(*FAST)
    out = e.process(ticks([("USDT", "tether", "EUR", T0 + k * MIN, 0.92) for k in range(5)]))
    assert [ev for ev in out if isinstance(ev, PegEvent)] == [] and e.peg_status("USDT") is None


def test_an_unpinned_pegged_symbol_with_two_coins_is_not_guessed(
    make_engine: Callable[..., Engine], tmp_path: object
) -> None:
    """Without a coin_id in the registry, two coins under one pegged ticker: neither is judged
    (counted as peg_ambiguous), since judging the wrong one would raise or hide a depeg."""
    e = make_engine(*FAST)
    out = e.process(
        ticks([("PYUSD", "paypal-usd", "USD", T0, 1.0), ("PYUSD", "pyusd-fake", "USD", T0 + MIN, 0.02)])
    )
    out += e.process(ticks([("PYUSD", "pyusd-fake", "USD", T0 + 2 * MIN, 0.02)]))
    assert [ev.state for ev in out if isinstance(ev, PegEvent)] == []
    assert e.stats.peg_ambiguous == 1


def test_only_the_pinned_reference_coin_is_a_reference_point(make_engine: Callable[..., Engine]) -> None:
    e = make_engine(*FAST)
    e.process(
        ticks(
            [
                ("BTC", "bitcoin", "USD", T0, 100_000.0),
                ("BTC", "bitcoin", "EUR", T0 + 1, 92_000.0),
                ("BTC", "btc-fake", "USD", T0 + 2, 3.0),
            ]
        )
    )
    assert e.last_reference_mask.tolist() == [True, False, False]


def test_every_series_of_a_symbol_travels_in_its_checkpoint(make_engine: Callable[..., Engine]) -> None:
    rows = [("ABC", c, q, T0 + k * MIN, p) for k in range(30) for c, q, p in
            (("abc-one", "USD", 1.0), ("abc-two", "USD", 0.02), ("abc-one", "EUR", 0.9))]  # fmt: skip
    a = make_engine(*FAST)
    a.process(ticks(rows))
    b = make_engine(*FAST)
    b.process(ticks([("ABC", "abc-three", "USD", T0, 5.0), ("XYZ", None, "USD", T0, 5.0)]))
    b.restore(a.checkpoint(["ABC"]))
    assert sorted(map(str, (b.series.key(r) for r in b.series.rows_of("ABC")))) == sorted(
        map(str, (a.series.key(r) for r in a.series.rows_of("ABC")))
    )
    assert b.checkpoint(["ABC"]) == a.checkpoint(["ABC"]) and b.last_price("XYZ") == 5.0
    b.drop(["ABC"])
    assert b.series.rows_of("ABC") == [] and len(b.series) == 1


def test_v2_checkpoint_is_refused_with_a_clear_message(make_engine: Callable[..., Engine]) -> None:
    """v2 keyed series by symbol alone: which coin id its state belongs to is unknown, so it is
    refused (the caller cold-starts), never restored under a guess."""
    meta = {"format": "tickerstream-engine", "version": 2, "horizons_s": [3600, 86400], "symbols": ["BTC"]}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(orjson.dumps(meta | {"watermark": 0, "pegs": {}}), dtype=np.uint8))
    with pytest.raises(CheckpointFormatError, match=r"v2 .*symbol only.* cannot be restored"):
        make_engine().restore(buf.getvalue())


def test_new_series_beyond_the_limit_are_dropped_and_counted_not_grown(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """A flood of junk symbols must not grow the process without bound (50,000 took 746 MB)."""
    e = make_engine("windows.max_series=3")
    with caplog.at_level(logging.WARNING):
        e.process(ticks([(f"S{k}", None, "USD", T0 + k, 1.0) for k in range(5)]))
        e.process(ticks([(f"S{k}", None, "USD", T0 + 10 + k, 1.0) for k in range(6)]))
    assert e.symbols() == ["S0", "S1", "S2"] and e.series.size <= 16
    assert e.stats.series_limit == 2 + 3 and e.stats.accepted == 3 + 3
    assert sum("engine.series_limit" in r.getMessage() for r in caplog.records) == 1
    e.drop(["S1"])  # room again: the next new series is taken
    e.process(ticks([("S9", None, "USD", T0 + 100, 1.0)]))
    assert "S9" in e.symbols()
