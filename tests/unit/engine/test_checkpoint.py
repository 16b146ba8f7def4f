"""Snapshot/restore (crash, rebalance) and drop (partitions revoked)."""

from __future__ import annotations

import pytest

from tests.support.engine import CFG, MIN, T0, batch, config, stream
from tickerstream.engine import Engine
from tickerstream.engine.checkpoint import CheckpointFormatError


def test_restore_then_continue_equals_one_uninterrupted_engine() -> None:
    b = stream(5)
    cut = len(b) // 2
    whole = Engine(config(*CFG))
    expected = whole.process(b) + whole.flush()
    first = Engine(config(*CFG))
    got = first.process(b.slice(0, cut))
    data = first.checkpoint()
    second = Engine(config(*CFG))
    second.restore(data)
    got += second.process(b.slice(cut, len(b))) + second.flush()
    # Each call sorts its own events; a cut inside a page snapshot moves events across calls.
    assert sorted(e.to_json() for e in got) == sorted(e.to_json() for e in expected)
    assert second.checkpoint() == whole.checkpoint()


def test_snapshot_by_symbols_restores_only_those(make_engine) -> None:  # type: ignore[no-untyped-def]
    a = make_engine("pegs.usd_confirm_s=0")
    a.process(batch([("AAA", T0, 1.0), ("BBB", T0, 2.0), ("USDT", T0, 0.97), ("BTC", T0, 100.0)]))
    part = a.checkpoint(["AAA", "USDT", "NOPE"])
    b = make_engine()
    b.process(batch([("AAA", T0 + MIN, 9.0), ("CCC", T0 + MIN, 3.0)]))
    b.restore(part)
    assert b.last_price("AAA") == 1.0 and b.last_ts("AAA") == T0  # replaced, not merged
    assert b.last_price("CCC") == 3.0  # untouched
    assert b.last_price("BBB") is None and b.last_price("BTC") is None
    assert b.peg_status("USDT") == ("critical", pytest.approx(-300.0))


def test_held_ticks_and_references_travel_with_the_snapshot(make_engine) -> None:  # type: ignore[no-untyped-def]
    a = make_engine("pegs.confirm_s=0")
    a.process(batch([("BTC", T0 - MIN, 100_000.0), ("WBTC", T0, 96_000.0)]))
    assert a.stats.held == 1
    b = make_engine("pegs.confirm_s=0")
    b.restore(a.checkpoint(["WBTC"]))
    assert b.stats.held == 1
    evs = b.observe_reference(["BTC"], [T0], [100_010.0])
    assert [e.state for e in evs] == ["critical"]  # type: ignore[union-attr]


def test_drop_forgets_symbols_and_reuses_rows(make_engine) -> None:  # type: ignore[no-untyped-def]
    e = make_engine()
    e.process(batch([("AAA", T0, 1.0), ("BBB", T0, 2.0), ("USDT", T0, 0.97)]))
    e.drop(["AAA", "USDT", "ZZZ"])
    assert e.symbols() == ["BBB"] and e.stats.symbols == 1
    assert e.last_price("AAA") is None and e.peg_status("USDT") is None
    e.process(batch([("AAA", T0 - MIN, 5.0)]))  # older than before the drop: a fresh start, not late
    assert e.last_price("AAA") == 5.0 and e.stats.late == 0


def test_restore_rejects_garbage_and_other_horizons(make_engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CheckpointFormatError):
        make_engine().restore(b"not a snapshot")
    data = make_engine().checkpoint()
    with pytest.raises(CheckpointFormatError):
        make_engine("moves.horizons_s=[60]", "moves.threshold_pct=[1.0]").restore(data)


def test_v1_checkpoint_is_refused_with_a_clear_message(make_engine) -> None:  # type: ignore[no-untyped-def]
    """A v1 checkpoint (per-tick ring, per-tick volatility) cannot be read as v2: refused, never misread."""
    import io

    import numpy as np
    import orjson

    meta = {"format": "tickerstream-engine", "version": 1, "horizons_s": [3600, 86400], "symbols": []}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(orjson.dumps(meta | {"watermark": 0, "pegs": {}}), dtype=np.uint8))
    with pytest.raises(CheckpointFormatError, match=r"v1 .* cannot be restored"):
        make_engine().restore(buf.getvalue())


def test_restore_into_smaller_capacity_keeps_newest_points(make_engine) -> None:  # type: ignore[no-untyped-def]
    short = ("windows.horizon_s=600", "moves.horizons_s=[600]", "moves.threshold_pct=[50.0]")
    a = make_engine("windows.capacity=16", *short)
    a.process(batch([("AAA", T0 + k * 10 * MIN, float(k + 1)) for k in range(16)]))
    b = make_engine("windows.capacity=4", *short)
    b.restore(a.checkpoint())
    assert b.windows.points(b.series.home("AAA"))[1].tolist() == [13.0, 14.0, 15.0, 16.0]


@pytest.mark.parametrize("symbol", ["WBTC", "BTC", "USDC"])
def test_a_nan_price_survives_a_restore(symbol: str) -> None:
    """A NaN price (the API takes any float) held for a peg or kept as a reference went through the
    checkpoint's JSON as null, and the restored engine raised on the next page. Restored, it is the
    NaN it was: the events are those of an uninterrupted engine."""
    pages = [
        (s, T0 + k * MIN, p)
        for k in range(5)
        for s, p in (("BTC", 100_000.0), ("WBTC", 99_990.0), ("USDC", 1.0))
    ]
    pages += [(symbol, T0 + 5 * MIN, float("nan")), ("WBTC", T0 + 5 * MIN + 1_000, 99_990.0)]
    later = [(s, T0 + 6 * MIN, p) for s, p in (("BTC", 100_000.0), ("WBTC", 99_990.0), ("USDC", 1.0))]
    whole = Engine()
    whole.process(batch(pages, 0.01))
    expected = [ev.to_json() for ev in whole.process(batch(later, 0.01))]
    first = Engine()
    first.process(batch(pages, 0.01))
    second = Engine()
    second.restore(first.checkpoint())
    assert [ev.to_json() for ev in second.process(batch(later, 0.01))] == expected
