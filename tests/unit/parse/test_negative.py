"""Precision over recall: text that is not a ticker yields nothing; bad values yield reasoned rejects."""

from __future__ import annotations

import pytest

from tests.support.schemas import assert_valid_records
from tickerstream.model import RejectReason
from tickerstream.parse import MAX_LINE_CHARS, SnapshotParser, parse_bytes, parse_text

NOT_TICKS = [
    "Bitcoin hit $100,000 on Monday",
    "Bitcoin hit $100,000 on Monday, analysts said, as ETH rose 5%.",
    "Market Cap: $2.1T",
    "Total Market Cap (MCAP) $2.1T +1.2%",
    "24h Vol $52B",
    "24h Volume: $52.3B -4.1%",
    "BTC Dominance 54.2%",
    "S&P 500 5,123.45 +0.5%",
    "S&P 500 $5,123.45 +0.5%",
    "Dow Jones 38,000.12 +0.3%",
    "NASDAQ $16,000.10 +1.1%",
    "SPX $5,123.45 +0.5%",
    "EUR/USD 1.0812 +0.1%",
    "XAU/USD 2,350.10 +0.3%",
    "Home | Markets | News | Prices | Buy BTC",
    "Home | Markets | Crypto | $0 fees on your first trade",
    "$ 104,442.98 0.48%",
    "Price: $1.00",
    "PRICE: $1.00",
    "BTC $100,000 is coming",
    "Analysts expect BTC $100,000",
    "Yesterday we saw Bitcoin (BTC) $100,000 for the first time.",
    "The fund raised $120 million from investors.",
    "Gas fee (GWEI) $0.12",
    "Menu\nLogin\nSign up\n© 2024 Example Media",
    # Names without a symbol (read through the coin registry) in sentences: still prose.
    "Bitcoin rose 3.39% to 49,485.50 on Monday",
    "Bitcoin rose 3.39% to $49,485.50 on Monday",
    "Bitcoin rose to 49,485.50, up 3.39%",
    "Bitcoin rose to 49,485.50 3.39%",
    "Ethereum fell to $3,200.10 -3.1%",
    "Solana traded at 150.20 (2.1%)",
    "In 2024 Bitcoin gained 120%",
    "Bitcoin 49,485.50 3.39% on the day",
    "Bitcoin: 49,485.50 3.39%",
]


@pytest.mark.parametrize("text", NOT_TICKS)
def test_not_a_tick(text: str) -> None:
    result = parse_text(text, ts=1)
    assert result.ticks == [] and result.rejects == []


REJECTS = [
    ("Bitcoin (BTC) $ 0 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ 0.00 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ NaN 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ inf 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ -5.00 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) -$5.00 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ -- 0.5%", RejectReason.INVALID_PRICE),
    ("Bitcoin (BTC) $ 99,999,999,999 0.5%", RejectReason.PRICE_OUT_OF_RANGE),
    ("Bitcoin (BTC) $ 5T 0.5%", RejectReason.PRICE_OUT_OF_RANGE),
    ("Bitcoin (BTC) $ 1.00 5000%", RejectReason.CHANGE_OUT_OF_RANGE),
    ("Bitcoin (BTC) $ 1.00 -100%", RejectReason.CHANGE_OUT_OF_RANGE),
    ("Bitcoin (BTC) € 1,234 -1,2%", RejectReason.AMBIGUOUS_NUMBER),
    ("Bitcoin (BTC) $ 1,23,4 0.5%", RejectReason.INVALID_PRICE),
]


@pytest.mark.parametrize(("text", "reason"), REJECTS)
def test_bad_value_is_a_reject(text: str, reason: RejectReason) -> None:
    result = parse_text(text, ts=1, source="s")
    assert result.ticks == []
    assert [r.reason for r in result.rejects] == [reason]
    assert result.rejects[0].raw == text and result.rejects[0].source == "s" and result.rejects[0].detail
    assert_valid_records(result.ticks, result.rejects)


def test_reject_does_not_stop_the_rest_of_the_page() -> None:
    page = "Bitcoin (BTC) $ 0 0.5%\nEthereum (ETH) $ 3,259.53 2.32%\n"
    result = parse_text(page, ts=1)
    assert [t.symbol for t in result.ticks] == ["ETH"]
    assert [r.reason for r in result.rejects] == [RejectReason.INVALID_PRICE]


def test_line_too_long() -> None:
    line = "Bitcoin (BTC) $ 1.00 0.5% " + "x" * MAX_LINE_CHARS
    result = parse_text(line + "\nEthereum (ETH) $ 3,259.53 2.32%\n", ts=1)
    assert [r.reason for r in result.rejects] == [RejectReason.LINE_TOO_LONG]
    assert [t.symbol for t in result.ticks] == ["ETH"]
    assert len(result.rejects[0].to_dict()["raw"]) <= 512
    assert_valid_records(result.ticks, result.rejects)


def test_long_prose_line_without_prices_is_ignored() -> None:
    assert parse_text("word " * (MAX_LINE_CHARS // 2), ts=1).rejects == []


def test_line_too_long_streamed_without_newline() -> None:
    parser = SnapshotParser(ts=1, source="f")
    rejects = []
    for _ in range(4):
        rejects += parser.feed("$1 " * (MAX_LINE_CHARS // 3)).rejects
    result = parser.feed("\nEthereum (ETH) $ 3,259.53 2.32%\n")
    rejects += result.rejects
    assert [r.reason for r in rejects] == [RejectReason.LINE_TOO_LONG]
    assert [t.symbol for t in result.ticks + parser.close().ticks] == ["ETH"]


def test_invalid_utf8_line_is_a_reject_and_the_rest_is_parsed() -> None:
    data = (
        b"bitcoin\nBitcoin (BTC) $ 104,442.98 0.48%\n\xff\xfe bad line\nusd-coin\nUSDC (USDC) $ 1.00 0.01%\n"
    )
    result = parse_bytes(data, ts=1, source="b")
    assert [(t.symbol, t.coin_id) for t in result.ticks] == [("BTC", "bitcoin"), ("USDC", "usd-coin")]
    assert [r.reason for r in result.rejects] == [RejectReason.INVALID_UTF8]
    assert_valid_records(result.ticks, result.rejects)


def test_invalid_utf8_breaks_slug_adjacency() -> None:
    data = b"usd-coin\n\xff\nUSDC (USDC) $ 1.00 0.01%\n"
    assert [t.coin_id for t in parse_bytes(data, ts=1).ticks] == [None]


def test_repeated_bad_line_in_a_marquee_is_one_reject() -> None:
    page = "Bitcoin (BTC) $ 0 0.5%\n" * 3
    assert len(parse_text(page, ts=1).rejects) == 1
