"""The fast paths (widget blocks, cheap ``Tick`` construction, memos) must give exactly what the general
path gives: same ticks (fields, order, types) and same rejects, on generated pages that mix clean rows
with every kind of row the fast path has to refuse."""

from __future__ import annotations

import pickle

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.parse import assert_same, both_ways
from tickerstream.model import Tick
from tickerstream.parse import records as records_mod
from tickerstream.parse.records import parse_line, parse_line_cached
from tickerstream.parse.ticks import UNFROZEN, make_tick

slugs = st.sampled_from(
    ["bitcoin", "ethereum", "usd-coin", "foo-token", "42", "abc-", "Bitcoin", "wrapped-bitcoin"]
)
names = st.sampled_from(
    [
        "Bitcoin",
        "Ethereum",
        "POL (ex-MATIC)",
        "Lido Staked Ether",
        "USDC",
        "the price is",
        "A$B",
        "Foo (X)",
        "x",
    ]
)
syms = st.sampled_from(["BTC", "ETH", "POL", "USDe", "stETH", "usd", "MCAP", "SPX", "USDT0", "A"])
prices = st.sampled_from(
    [
        "104,442.98",
        "0.413496",
        "1.00",
        "0",
        "0.00",
        "12,34",
        "99999999",
        "10,000,000",
        "1,000",
        "0.000000000001",
    ]
)
pcts = st.sampled_from(["0.48", "2.56", "0", "999.9", "1000", "1000.01", "9999", "0.0001", "12.5"])
row = st.builds(lambda n, s, p, c: f"{n} ({s}) $ {p} {c}%", names, syms, prices, pcts)
other = st.sampled_from(
    [
        "",
        "Bitcoin hit $100,000 on Monday.",
        "Ethereum (ETH) $3,179.87 +1.55% • Tether (USDT) $1.00 +0.01%",
        "| # | Name | Price | 1h % | 24h % |",
        "| 1 | Bitcoin | $62,000 | +0.1% | -1.2% |",
        "Bitcoin (BTC)  $ 1.00 1.00%",
        "Bitcoin (BTC) $ 1.00 1.00% extra",
        "Bitcoin (BTC) $ 1.00 1.00%\r",
        "x" * 300,
    ]
)
line = st.one_of(row, st.builds(lambda s, r: f"{s}\n{r}", slugs, row), slugs, other)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=25), st.booleans(), st.booleans())
def test_fast_path_equals_general_path(lines: list[str], loop: bool, final_newline: bool) -> None:
    body = "\n".join(lines * 2 if loop else lines)  # loop: a marquee's second lap
    fast, slow = both_ways(body + "\n" if final_newline else body)
    assert_same(fast, slow)


def test_seed_sample_with_odd_rows_equals_general_path() -> None:
    text = (
        "bitcoin\nBitcoin (BTC) $ 104,442.98 0.48%\n"
        "polygon-ecosystem-token\nPOL (ex-MATIC) (POL) $ 0.413496 2.56%\n"
        "ethereum\nBitcoin (BTC) $ 3,259.53 1.00%\n"  # a slug that names another coin
        "tether\nTether (USDT) $ 0 0.01%\n"  # invalid price: a reject from the general path
        "dai\nDai (DAI) $ 1.00 1000.5%\n"  # change out of range
        "usd-coin\nUSDC (USDC) $ 1.00 0.01%\n"
    )
    fast, slow = both_ways(text)
    assert_same(fast, slow)
    assert [t.symbol for t in fast.ticks] == ["BTC", "POL", "BTC", "USDC"]
    assert fast.rejects


def test_block_longer_than_one_findall_window() -> None:
    rows = "".join(f"coin-{i}\nCoin {i} (C{i}) $ {i + 1}.00 1.00%\n" for i in range(2000))
    fast, slow = both_ways("News.\n" + rows + "Footer\n")
    assert len(fast.ticks) == 2000
    assert_same(fast, slow)


def test_make_tick_is_a_real_frozen_tick() -> None:
    args = ("BTC", "Bitcoin", None, 104442.98, "USD", None, False, 1, "s")
    made, real = make_tick(*args), Tick(*args)
    assert UNFROZEN is not None  # the shortcut is active on CPython
    assert type(made) is Tick and made == real and hash(made) == hash(real)
    assert made.to_json() == real.to_json() and orjson.dumps(made) == orjson.dumps(real)
    assert pickle.loads(pickle.dumps(made)) == real
    with pytest.raises(AttributeError):
        made.price = 1.0  # type: ignore[misc]


def test_line_memo_returns_what_parse_line_returns_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_mod, "_memo", {})
    monkeypatch.setattr(records_mod, "_MEMO_LINES", 3)
    lines = [
        "Ethereum (ETH) $3,179.87 +1.55%",
        "BTC/USD 62700 -1.2%",
        "Bitcoin hit $100,000 on Monday",
        "x $ 0",
    ]
    for _ in range(2):
        for text in lines:
            assert parse_line_cached(text) == tuple(parse_line(text))
            assert len(records_mod._memo) <= 3
    long_line = "Ethereum (ETH) $3,179.87 +1.55% " + "•" * 2000
    assert parse_line_cached(long_line) == tuple(parse_line(long_line))
    assert (long_line, 0) not in records_mod._memo
