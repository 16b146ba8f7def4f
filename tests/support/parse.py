"""Helpers shared by the parser tests: the switch to the general path only and the comparison of the
two paths' results, the rendering of every supported style of ticker row with hypothesis strategies for
its parts, and fragments of ticker text for fuzzing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import strategies as st

from tickerstream.model import Tick
from tickerstream.parse import ParseResult, parse_text
from tickerstream.parse import snapshot as snapshot_mod
from tickerstream.parse.records import parse_line
from tickerstream.parse.vocab import NOT_SYMBOLS

# --- the fast paths against the general path ------------------------------------------------------

_NEVER = re.compile(r"(?!)")


@contextmanager
def general_path_only() -> Iterator[None]:
    """Switch off both widget fast paths (block and single line) and the line memo."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshot_mod, "_FAST_LINE", _NEVER)
        mp.setattr(snapshot_mod, "_EXTENT", _NEVER)
        mp.setattr(
            snapshot_mod, "parse_line_cached", lambda line, ordinal=0: tuple(parse_line(line, ordinal))
        )
        yield


def both_ways(text: str) -> tuple[ParseResult, ParseResult]:
    fast = parse_text(text, ts=1737331200000, source="t")
    with general_path_only():
        slow = parse_text(text, ts=1737331200000, source="t")
    return fast, slow


def assert_same(fast: ParseResult, slow: ParseResult) -> None:
    assert fast.ticks == slow.ticks
    assert [type(t) for t in fast.ticks] == [Tick] * len(fast.ticks)
    # Equal floats can differ in type (int vs float) or sign of zero; the JSON is the contract.
    assert [t.to_json() for t in fast.ticks] == [t.to_json() for t in slow.ticks]
    assert fast.rejects == slow.rejects


# --- every supported style of row, and its parts --------------------------------------------------

WORDS = [
    "Bit",
    "Coin",
    "Lido",
    "Staked",
    "Ether",
    "Wrapped",
    "Shiba",
    "Inu",
    "Token",
    "Protocol",
    "Network",
    "Chain",
    "Finance",
    "Swap",
    "Aave",
    "Polka",
    "Dot",
    "Cash",
    "Classic",
    "Pepe",
    "Sui",
    "Ondo",
    "stETH",
]

symbols = st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True).filter(lambda s: s not in NOT_SYMBOLS)
names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
prices = st.builds(
    lambda units, places: (Decimal(units) / Decimal(10) ** places).quantize(
        Decimal(1) / Decimal(10) ** places
    ),
    st.integers(min_value=1, max_value=10**11),
    st.sampled_from([2, 4, 6]),
).filter(lambda d: Decimal("0.0001") <= d <= Decimal(2_000_000))
pcts = st.integers(min_value=-9_999, max_value=99_999).map(lambda n: Decimal(n) / 100)


def dot(p: Decimal) -> str:
    return f"{p:,}"


def comma(p: Decimal) -> str:
    return f"{p:,}".replace(",", " ").replace(".", ",").replace(" ", ".")


def signed(x: Decimal) -> str:
    return f"+{x}" if x >= 0 else f"-{-x}"


STYLES = {
    # style: (render(sym, name, price, pct) -> text, currency, name shown?, sign shown?)
    "seed": (lambda s, n, p, c: f"{n} ({s}) $ {dot(p)} {abs(c)}%", "USD", True, False),
    "seed+slug": (lambda s, n, p, c: f"{s.lower()}-id\n{n} ({s}) $ {dot(p)} {abs(c)}%", "USD", True, False),
    "nospace": (lambda s, n, p, c: f"{n}({s})${dot(p)} {signed(c)}%", "USD", True, True),
    "suffix": (lambda s, n, p, c: f"{n} ({s}) {p}$ {signed(c)}%", "USD", True, True),
    "pct-first": (lambda s, n, p, c: f"{n} ({s}) {signed(c)}% ${dot(p)}", "USD", True, True),
    "colon": (lambda s, n, p, c: f"{n} ({s}): ${dot(p)} {signed(c)}%", "USD", True, True),
    "pair": (lambda s, n, p, c: f"{s}/USD {p} {signed(c)}%", "USD", False, True),
    "pipe": (lambda s, n, p, c: f"| 1 | {n} | {s} | ${dot(p)} | {signed(c)}% | $1.2B |", "USD", True, True),
    "compact": (lambda s, n, p, c: f"{s.lower()}${p}{signed(c)}%", "USD", False, True),
    "euro": (lambda s, n, p, c: f"{n} ({s}) {comma(p)} € {signed(c).replace('.', ',')}%", "EUR", True, True),
    "arrows": (
        lambda s, n, p, c: f"{n} ({s}) £{dot(p)} {'▲' if c >= 0 else '▼'} {abs(c)}%",
        "GBP",
        True,
        True,
    ),
    "flat": (
        lambda s, n, p, c: f"{n} ({s}) ${dot(p)} {signed(c)}% • Tether (USDT) $1.00 0.01%",
        "USD",
        True,
        True,
    ),
}


# --- fragments of ticker text ----------------------------------------------------------------------

FRAGMENTS = [
    "Bitcoin",
    " (BTC)",
    "(",
    ")",
    " $ ",
    "$",
    "€",
    "USD",
    "/",
    "1,234.56",
    "0,5",
    "0.0₄12",
    " 0.48%",
    "-",
    "−",
    "+",
    "▲",
    "▼",
    "%",
    "\n",
    "\r\n",
    " | ",
    "\t",
    "bitcoin\n",
    "k",
    "NaN",
    "12",
    "..",
    ",",
    "Market Cap",
    ":",
    " ",
    "USDe",
    "x" * 50,
    "9" * 20,
    "\x00",
    "\ufeff",
    "ß",
    "🔺",
]
