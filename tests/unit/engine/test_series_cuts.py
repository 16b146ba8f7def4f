"""A tick that re-identifies a series (a claim, or a second series of a pegged symbol) must not
change the events of the ticks before it in the same batch: replay and Kafka cut the stream into
batches differently, and both must give the same events."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickerstream.engine import Engine, TickBatch
from tickerstream.model import Tick

T0 = 1_700_000_000_000


def tick(symbol: str, coin: str | None, price: float, ts: int, currency: str | None = "USD") -> Tick:
    return Tick(symbol, symbol.title(), coin, price, currency, None, False, ts, "page")


def events(ticks: list[Tick], cuts: list[int]) -> list[bytes]:
    engine = Engine()
    batch = TickBatch.from_ticks(ticks)
    out: list[bytes] = []
    for lo, hi in pairwise([0, *sorted(set(cuts)), len(ticks)]):
        out += [e.to_json() for e in engine.process(batch.slice(lo, hi))]
    out += [e.to_json() for e in engine.flush()]
    return sorted(out)


# AAA from pages without the coin id (+10 % in an hour), then a page with it: the claim comes after
# the move, which was reported with no coin id when it happened.
CLAIMED = [tick("AAA", None, 100.0, T0 + i * 60_000) for i in range(61)] + [
    tick("AAA", None, 110.0, T0 + 3_660_000),
    tick("AAA", "aaa", 110.5, T0 + 3_720_000),
]
# USDC at 0.95 from pages without currency or coin id for two minutes (a confirmed critical), then a
# page quoting another USDC-ticker series in USD: from then on two candidates, none judged.
SECOND_SERIES = [tick("USDC", None, 0.95, T0 + i * 10_000, currency=None) for i in range(13)] + [
    tick("USDC", "usd-coin", 0.95, T0 + 130_000)
]


@pytest.mark.parametrize("ticks", [CLAIMED, SECOND_SERIES], ids=["claim", "second-series"])
def test_one_batch_gives_the_events_of_one_tick_per_batch(ticks: list[Tick]) -> None:
    assert events(ticks, []) == events(ticks, list(range(1, len(ticks))))


def test_a_move_before_the_claim_carries_no_coin_id() -> None:
    moves = [e for e in events(CLAIMED, []) if b'"type":"move"' in e and b'"ts":1700003660000' in e]
    assert moves and all(b'"coin_id":null' in m for m in moves)


def test_the_depeg_before_the_second_series_is_reported() -> None:
    assert any(b'"state":"critical"' in e for e in events(SECOND_SERIES, []))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(CLAIMED) + len(SECOND_SERIES) - 1), max_size=8))
def test_any_cut_of_both_gives_the_same_events(cuts: list[int]) -> None:
    both = sorted(CLAIMED + SECOND_SERIES, key=lambda t: t.ts)
    assert events(both, cuts) == events(both, [])


def test_the_reference_mask_covers_every_tick_of_a_split_batch() -> None:
    engine = Engine()
    ticks = [tick("BTC", None, 100_000.0, T0), tick("BTC", "bitcoin", 100_010.0, T0 + 60_000)]
    engine.process(TickBatch.from_ticks(ticks))
    assert engine.last_reference_mask.tolist() == [True, True]
