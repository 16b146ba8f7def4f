"""One test per widget/table family the parser supports; every emitted record is schema-checked."""

from __future__ import annotations

import pytest

from tests.support.schemas import assert_valid_records
from tickerstream.parse import parse_text

Row = tuple[str, str, float, str, float | None, bool]


def rows(text: str) -> list[Row]:
    result = parse_text(text, ts=1, source="t")
    assert_valid_records(result.ticks, result.rejects)
    assert result.rejects == []
    return [(t.symbol, t.name, t.price, t.currency, t.change_pct, t.change_sign_known) for t in result.ticks]


CASES: list[tuple[str, str, list[Row]]] = [
    ("seed row", "Bitcoin (BTC) $ 104,442.98 0.48%", [("BTC", "Bitcoin", 104442.98, "USD", 0.48, False)]),
    (
        "paren in name",
        "POL (ex-MATIC) (POL) $ 0.413496 2.56%",
        [("POL", "POL (ex-MATIC)", 0.413496, "USD", 2.56, False)],
    ),
    (
        "digits, lower case symbols",
        "USDT0 (USDT0) $ 1.00 0.01%\nEthena USDe (USDe) $ 1.00 0.12%",
        [("USDT0", "USDT0", 1.0, "USD", 0.01, False), ("USDE", "Ethena USDe", 1.0, "USD", 0.12, False)],
    ),
    (
        "no spaces",
        "Lido Staked Ether(STETH)$1,890.99 -1.99%",
        [("STETH", "Lido Staked Ether", 1890.99, "USD", -1.99, True)],
    ),
    (
        "sign after number",
        "Bitcoin (BTC) 101868.45$ +0.5%",
        [("BTC", "Bitcoin", 101868.45, "USD", 0.5, True)],
    ),
    ("sign after number, no percent", "BTC 101868.45$", [("BTC", "", 101868.45, "USD", None, False)]),
    (
        "percent before price",
        "Bitcoin (BTC) 0.48% $ 104,442.98",
        [("BTC", "Bitcoin", 104442.98, "USD", 0.48, False)],
    ),
    (
        "percent before price, flattened",
        "BTC +1.2% $62,000 ETH -0.5% $3,000",
        [("BTC", "", 62000.0, "USD", 1.2, True), ("ETH", "", 3000.0, "USD", -0.5, True)],
    ),
    ("colon", "Bitcoin (BTC): $104,442.98 +0.48%", [("BTC", "Bitcoin", 104442.98, "USD", 0.48, True)]),
    ("pair", "BTC/USD 62,700.12 +1.2%", [("BTC", "", 62700.12, "USD", 1.2, True)]),
    ("pair with sign and parens", "BTC/USD: $62,700.12 (+1.2%)", [("BTC", "", 62700.12, "USD", 1.2, True)]),
    ("pair, dash, stablecoin", "USDT-USD 0.9998 -0.01%", [("USDT", "", 0.9998, "USD", -0.01, True)]),
    ("pair in euro, decimal comma", "ETH/EUR 1.700,50 -0,3%", [("ETH", "", 1700.5, "EUR", -0.3, True)]),
    (
        "pipe table with 1h/24h/7d columns",
        "| # | Name | Symbol | Price | 1h % | 24h % | 7d % | Market Cap |\n"
        "|---|------|--------|-------|------|-------|------|------------|\n"
        "| 1 | Bitcoin | BTC | $62,700.12 | +0.1% | +1.2% | -3.0% | $1.2T |\n"
        "| 2 | Ethereum | ETH | $3,000.50 | -0.2% | -0.5% | +2.0% | $400B |",
        [("BTC", "Bitcoin", 62700.12, "USD", 1.2, True), ("ETH", "Ethereum", 3000.5, "USD", -0.5, True)],
    ),
    (
        "pipe table without header",
        "| 1 | Bitcoin | BTC | $62,700.12 | -1.2% | $1.2T |",
        [("BTC", "Bitcoin", 62700.12, "USD", -1.2, True)],
    ),
    (
        "tab separated row",
        "1\tBitcoin\tBTC\t$62,700.12\t-1.2%",
        [("BTC", "Bitcoin", 62700.12, "USD", -1.2, True)],
    ),
    (
        "table flattened into one line",
        "1 Bitcoin BTC $62,700.12 1.2% $1.2T 2 Ethereum ETH $3,000 -0.5% $400B "
        "3 Tether USDT $1.00 0.01% $110B",
        [
            ("BTC", "Bitcoin", 62700.12, "USD", 1.2, False),
            ("ETH", "Ethereum", 3000.0, "USD", -0.5, True),
            ("USDT", "Tether", 1.0, "USD", 0.01, False),
        ],
    ),
    (
        "seed widget flattened",
        "Bitcoin (BTC) $ 104,442.98 0.48% Ethereum (ETH) $ 3,259.53 2.32% • XRP (XRP) $3.08 0.69%",
        [
            ("BTC", "Bitcoin", 104442.98, "USD", 0.48, False),
            ("ETH", "Ethereum", 3259.53, "USD", 2.32, False),
            ("XRP", "XRP", 3.08, "USD", 0.69, False),
        ],
    ),
    (
        "compact strip",
        "btc$62.7k-0.9%eth$1.8k-0.7%",
        [("BTC", "", 62700.0, "USD", -0.9, True), ("ETH", "", 1800.0, "USD", -0.7, True)],
    ),
    ("M suffix", "Bitcoin (BTC) ₩140.5M +0.3%", [("BTC", "Bitcoin", 140_500_000.0, "KRW", 0.3, True)]),
    ("subscript zeros", "PEPE $0.0₄1234 +5.1%", [("PEPE", "", 0.00001234, "USD", 5.1, True)]),
    (
        "euro prefix, decimal comma",
        "Bitcoin (BTC) € 95.000,12 1,2%",
        [("BTC", "Bitcoin", 95000.12, "EUR", 1.2, False)],
    ),
    (
        "euro suffix, decimal comma",
        "Tether (USDT) 0,9998 € −0,01%",
        [("USDT", "Tether", 0.9998, "EUR", -0.01, True)],
    ),
    (
        "pound and up arrow",
        "Bitcoin (BTC) £ 80,000.12 ▲ 1.2%",
        [("BTC", "Bitcoin", 80000.12, "GBP", 1.2, True)],
    ),
    (
        "yen and down arrow",
        "Bitcoin (BTC) ¥15,000,000 ▼1.2%",
        [("BTC", "Bitcoin", 15_000_000.0, "JPY", -1.2, True)],
    ),
    ("code prefix", "Bitcoin (BTC) EUR 95,000.12 +1.2%", [("BTC", "Bitcoin", 95000.12, "EUR", 1.2, True)]),
    ("code suffix", "BTC 62,700 USD +1.2%", [("BTC", "", 62700.0, "USD", 1.2, True)]),
    (
        "US$ and C$",
        "USD Coin (USDC) US$ 1.00 0.01%\nBitcoin (BTC) C$ 140,000.50 +1.1%",
        [("USDC", "USD Coin", 1.0, "USD", 0.01, False), ("BTC", "Bitcoin", 140000.5, "CAD", 1.1, True)],
    ),
    ("bare fraction percent", "Tether (USDT) $1.00 -.10%", [("USDT", "Tether", 1.0, "USD", -0.1, True)]),
    ("spaced sign", "Tether (USDT) $1.00 + 0.07%", [("USDT", "Tether", 1.0, "USD", 0.07, True)]),
    ("unicode minus", "Tether (USDT) $1.00 −0.07%", [("USDT", "Tether", 1.0, "USD", -0.07, True)]),
    ("missing percent", "Bitcoin (BTC) $ 104,442.98", [("BTC", "Bitcoin", 104442.98, "USD", None, False)]),
    (
        "label before records",
        "Prices: BTC $62,000 +1.2% ETH $3,000 -0.5%",
        [("BTC", "", 62000.0, "USD", 1.2, True), ("ETH", "", 3000.0, "USD", -0.5, True)],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_family(text: str, expected: list[Row]) -> None:
    assert rows(text) == expected


def test_families_in_one_page_keep_page_order() -> None:
    page = "\n".join(
        ["News of the day.", CASES[0][1], "More words here.", CASES[9][1], CASES[18][1], "Footer"]
    )
    assert [r[0] for r in rows(page)] == ["BTC", "BTC", "BTC", "ETH"]


def test_same_symbol_in_two_currencies_is_two_ticks() -> None:
    page = "BTC/USD 62,700.12 +1.2%\nBTC/EUR 58.000,10 +1,2%"
    assert [(r[0], r[3]) for r in rows(page)] == [("BTC", "USD"), ("BTC", "EUR")]


@pytest.mark.parametrize(
    ("text", "quantum"),
    [
        ("Bitcoin (BTC) $ 104,442.98 0.48%", 0.01),
        ("Shiba Inu (SHIB) $ 0.000019 1.35%", 1e-6),
        ("Tether (USDT) $ 1.00 0.01%", 0.01),
        ("Bit (A0) $ 01.00 0%", 0.01),
        ("Bit (A0) $ 000,000.0001 0%", 1e-4),
        ("Bitcoin (BTC) 104.442,98 € +0,48%", 0.01),
        ("Bitcoin (BTC) $ 67,000 0.48%", 1.0),
    ],
)
def test_the_shown_price_step_is_the_quantum(text: str, quantum: float) -> None:
    """The parser carries the step the page's digits show: every shown price is within half of it."""
    (tick,) = parse_text(text, ts=1, source="t").ticks
    assert tick.price_quantum == quantum
