"""Rows that show a name and no symbol: the registry's name index, and the layout that uses it (#13).

Positive cases are built from the shipped registry itself: every name the index maps, rendered as a
name-only row, must parse back to its symbol with ``symbol_source = "registry"``; every name it does
not map must give a reject, never a tick.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.paths import REPO
from tests.support.schemas import assert_valid_records
from tickerstream.model import RejectReason
from tickerstream.parse import SnapshotParser, parse_text
from tickerstream.parse import patterns as P
from tickerstream.parse.names import NAME_ROW
from tickerstream.parse.records import name_ok, parse_line
from tickerstream.parse.registry import build_index, name_index, normalise_name
from tickerstream.parse.vocab import NOT_SYMBOLS

COINS = REPO / "src" / "tickerstream" / "data" / "coins" / "cryptocurrencies.json"


@cache
def registry() -> list[tuple[str, str]]:
    return list(json.loads(COINS.read_text(encoding="utf-8")).items())


def takes_the_layout(name: str) -> bool:
    """Whether a name-only row can show ``name`` (its name grammar and name check) and reach this
    layout: a name with a currency mark in it (``Noku CHF``) is a line for the general path, which
    reads ``NOKU`` at ``CHF 1.00`` there."""
    m = NAME_ROW.fullmatch(f"{name} 1.00 1%")
    return (
        m is not None
        and m["name"] == name
        and name_ok(name, False)
        and name.upper() not in NOT_SYMBOLS
        and P.HIT.search(name) is None
    )


def general_path_reads(name: str) -> bool:
    """Whether the general path reads the ``$`` form of the row itself: a name ending in a word that
    is a ticker (``ALIF COIN $0.01`` is ``COIN``, as in flattened tables), shown on the page."""
    return bool(parse_line(f"{name} $1.00 1%"))


@cache
def mapped() -> list[tuple[str, str]]:
    """(display name, symbol) of every registry entry whose name maps and that the layout can show."""
    index = name_index()
    out = []
    for symbol, name in registry():
        got, _ = index.lookup(name)
        if got is not None and takes_the_layout(name):
            assert got == symbol.upper()
            out.append((name, got))
    return out


# -- the index -----------------------------------------------------------------------------------


def test_names_are_compared_case_folded_with_blanks_collapsed_and_nothing_more() -> None:
    index = build_index({"BTC": "Bitcoin", "ETH": "Ether eum"}, frozenset())
    assert index.lookup("BITCOIN") == ("BTC", "")
    assert index.lookup("  ether   EUM ") == ("ETH", "")
    assert index.lookup("Bit-coin")[0] is None
    assert normalise_name(" Shiba\tInu ") == "shiba inu"


def test_a_name_two_coins_share_is_never_mapped() -> None:
    index = build_index({"AAVE": "Aave", "LEND": "aave", "BTC": "Bitcoin"}, frozenset())
    symbol, why = index.lookup("Aave")
    assert symbol is None and "ambiguous" in why and "AAVE, LEND" in why
    assert index.lookup("Bitcoin") == ("BTC", "")


def test_risky_names_are_never_mapped() -> None:
    coins = {
        "XYZ": "ETH",  # another coin's symbol
        "ETH": "Ethereum",
        "CHN": "Chain",  # a common word
        "VOLX": "Volume",  # a word of market statistics
        "AB": "Ab",  # too short to name one coin
        "808": "Eight Hundred",  # no symbol a tick carries
    }
    index = build_index(coins, frozenset({"chain"}))
    for name, why in [
        ("ETH", "another coin's symbol"),
        ("Chain", "common word"),
        ("Volume", "market statistics"),
        ("Ab", "too short"),
        ("Eight Hundred", "symbol"),
    ]:
        symbol, reason = index.lookup(name)
        assert symbol is None and why in reason, (name, reason)
    assert index.lookup("Ethereum") == ("ETH", "")
    assert index.lookup("Nothing Like It") == (None, "not in the coin registry")


def test_the_shipped_index() -> None:
    index = name_index()
    assert index.lookup("Bitcoin") == ("BTC", "")
    assert index.lookup("Ethereum") == ("ETH", "")
    assert index.lookup("Wrapped Bitcoin") == ("WBTC", "")
    assert "ambiguous" in index.lookup("Aave")[1]  # AAVE and LEND
    assert "common word" in index.lookup("Near")[1]
    # No mapped name is shared by two symbols, and the refused ones hold every shared name.
    names: dict[str, set[str]] = {}
    for symbol, name in registry():
        names.setdefault(normalise_name(name), set()).add(symbol.upper())
    shared = {n for n, s in names.items() if len(s) > 1}
    assert shared and not shared & set(index.symbols)
    assert all(len(names[n]) == 1 and names[n] == {s} for n, s in index.symbols.items())


# -- the layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "price", "pct", "signed"),
    [
        ("Bitcoin 49,485.50 3.39%", 49485.5, 3.39, False),
        ("Bitcoin $49,485.50 -3.39%", 49485.5, -3.39, True),
        ("Bitcoin $ 49,485.50 +3.39%", 49485.5, 3.39, True),
        ("Bitcoin 49,485.50 −3.39%", 49485.5, -3.39, True),  # U+2212
        ("Bitcoin\t49485.5\t3.39%", 49485.5, 3.39, False),
        ("BITCOIN 49,485.50 3.39%  ", 49485.5, 3.39, False),
    ],
)
def test_a_name_only_row_gets_its_symbol_from_the_registry(
    line: str, price: float, pct: float, signed: bool
) -> None:
    result = parse_text(line + "\r\n", ts=7, source="news")
    (tick,) = result.ticks
    assert result.rejects == []
    assert (tick.symbol, tick.price, tick.currency, tick.change_pct, tick.change_sign_known) == (
        "BTC", price, "USD", pct, signed,
    )  # fmt: skip
    assert tick.symbol_source == "registry" and tick.name.casefold() == "bitcoin"
    assert_valid_records(result.ticks)


def test_ticks_keep_page_order_and_say_where_their_symbol_came_from() -> None:
    page = (
        "Markets today\n"
        "Ethereum 3,200.10 1.1%\n"
        "Solana $ 150.2 -2%\n"
        "bitcoin\n"
        "Bitcoin (BTC) $ 104,442.98 0.48%\n"
        "cardano\n"
        "Cardano 0.45 0.1%\n"
    )
    ticks = parse_text(page, ts=1).ticks
    got = [(t.symbol, t.symbol_source, t.coin_id) for t in ticks]
    assert got == [
        ("ETH", "registry", None),
        ("SOL", "registry", None),
        ("BTC", "page", "bitcoin"),
        ("ADA", "registry", "cardano"),
    ]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("Aave 90.10 1.2%", "ambiguous"),  # AAVE and LEND
        ("Stellar 0.12 1.2%", "common word"),
        ("Apple 190.12 1.1%", "not in the coin registry"),
        ("Tesla $190.12 +1.1%", "not in the coin registry"),
        ("Bitcoin rose 49,485.50 3.39%", "not in the coin registry"),
    ],
)
def test_a_name_that_does_not_map_is_a_reject_not_a_guess(line: str, why: str) -> None:
    result = parse_text(line, ts=1, source="news")
    assert result.ticks == []
    (reject,) = result.rejects
    assert reject.reason is RejectReason.UNMAPPED_NAME and why in (reject.detail or "")
    assert_valid_records((), result.rejects)


@pytest.mark.parametrize(
    "line", ["Gold 2,345.10 0.5%", "SPX 5,123.45 +0.5%", "Dow Jones 38,000.12 +0.3%", "Market Cap 2.1 3%"]
)
def test_indices_commodities_and_labels_are_not_even_rejects(line: str) -> None:
    """Words the parser already knows are no coin (``vocab``) stay prose in this layout too."""
    result = parse_text(line, ts=1)
    assert result.ticks == [] and result.rejects == []


def test_values_of_a_name_only_row_are_checked_like_any_other() -> None:
    result = parse_text("Bitcoin 0.00 1%\nBitcoin 49,485.50 5000%\n", ts=1)
    assert result.ticks == []
    assert [r.reason for r in result.rejects] == [
        RejectReason.INVALID_PRICE,
        RejectReason.CHANGE_OUT_OF_RANGE,
    ]


def test_name_rows_read_the_same_whole_or_fed_in_pieces() -> None:
    """Lines without a currency mark are found by their final percent (blanks and ``\\r`` after it
    allowed), wherever the chunks of a followed file cut the text."""
    page = (
        "Markets rose 5% today, and more\n"
        "Bitcoin 49,485.50 3.39%\r\n"
        "Ethereum 3,200.10 1.1%  \n"
        "Solana $ 150.2 -2%\n"
        "Cardano 0.45 0.1%"
    )
    whole = parse_text(page, ts=1).ticks
    assert [t.symbol for t in whole] == ["BTC", "ETH", "SOL", "ADA"]
    for cut in range(1, len(page)):
        parser = SnapshotParser(ts=1, source="-")
        assert parser.feed(page[:cut]).ticks + parser.feed(page[cut:]).ticks + parser.close().ticks == whole


def test_seed_rows_never_go_through_the_registry() -> None:
    """A row that shows its symbol keeps it, even when the registry would give another one."""
    (tick,) = parse_text("Bitcoin (XBT) $ 49,485.50 3.39%", ts=1).ticks
    assert (tick.symbol, tick.symbol_source) == ("XBT", "page")


# -- built from the registry ---------------------------------------------------------------------


def test_every_mapped_registry_name_reads_back_as_its_symbol() -> None:
    rows = mapped()
    assert len(rows) > 5_000  # most of the registry's unambiguous names
    page = "".join(f"{name} {1 + i % 97}.{i % 100:02d} {i % 13}.5%\n" for i, (name, _) in enumerate(rows))
    result = parse_text(page, ts=1, source="registry")
    assert result.rejects == []
    # The dedupe keys on (symbol, currency, price): every row's price differs from its symbol's others.
    got = [(t.symbol, t.symbol_source) for t in result.ticks]
    assert got == [(symbol, "registry") for _, symbol in rows]


def test_every_refused_registry_name_is_a_reject() -> None:
    index = name_index()
    refused = [name for _, name in registry() if index.lookup(name)[0] is None and takes_the_layout(name)]
    assert len(refused) > 1_000
    page = "".join(f"{name} {1 + i % 97}.{i % 100:02d} 1.5%\n" for i, name in enumerate(refused))
    result = parse_text(page, ts=1, source="registry")
    assert result.ticks == []
    assert {r.reason for r in result.rejects} == {RejectReason.UNMAPPED_NAME}
    assert len(result.rejects) == len(set(page.splitlines()))


@st.composite
def name_rows(draw: st.DrawFn) -> tuple[str, str, float, float, bool]:
    """A mapped registry name rendered as a name-only row, with any price and change the layout shows."""
    name, symbol = draw(st.sampled_from(mapped()))
    dollar = "" if general_path_reads(name) else draw(st.sampled_from(["", "$", "$ "]))
    cents = draw(st.integers(min_value=1, max_value=10**9))  # up to the plausible cap, $10M
    price = cents / 100
    price_s = f"{price:,.2f}" if draw(st.booleans()) else f"{price:.2f}"
    pct_hundredths = draw(st.integers(min_value=0, max_value=99_999))
    sign = draw(st.sampled_from(["", "+", "-", "−"]))
    pct = pct_hundredths / 100 * (-1 if sign in ("-", "−") else 1)
    return f"{name} {dollar}{price_s} {sign}{pct_hundredths / 100:.2f}%", symbol, price, pct, sign != ""


@given(name_rows())
def test_name_only_rows_of_the_registry_parse_back_exactly(row: tuple[str, str, float, float, bool]) -> None:
    line, symbol, price, pct, signed = row
    result = parse_text(line, ts=1)
    if not -100 < pct <= 1000:
        assert result.ticks == [] and [r.reason for r in result.rejects] == [RejectReason.CHANGE_OUT_OF_RANGE]
        return
    (tick,) = result.ticks
    assert (tick.symbol, tick.price, tick.change_pct, tick.change_sign_known, tick.symbol_source) == (
        symbol, price, pct, signed, "registry",
    )  # fmt: skip
