"""Rows that show a coin's name and no symbol: ``Bitcoin 49,485.50 3.39%``, ``Bitcoin $49,485.50 -3.39%``.

The symbol comes from the coin registry (``registry``), only when the name maps to exactly one coin
there and is not a common word or another coin's symbol; the tick then says ``symbol_source =
"registry"``. A row of this layout whose name does not map is a reject (``unmapped_name``, with the
registry's reason), never a guess.

The layout is one row per line and nothing else: a name of at most five words, an optional ``$``, a
price (dot decimals, comma thousands), a percent with an optional sign. A sentence does not take it
(``Bitcoin rose 3.39% to 49,485.50 on Monday`` has words after the numbers), and the name must pass
the general path's name check (at most one all-lower-case word, no sentence punctuation, no word of
market statistics), so ``Bitcoin rose to 49,485.50 3.39%`` is prose, not even a reject. A price with
no currency sign is read as US dollars, as on the news-site widgets that print this layout.

Only lines the other paths did not read are tried (the caller's hooks in ``snapshot``), so the
parser's hot path does not pay for this layout.
"""

from __future__ import annotations

import re

from tickerstream.model import RejectReason
from tickerstream.parse.numbers import read_number, shown_quantum
from tickerstream.parse.records import MAX_CHANGE_PCT, MIN_CHANGE_PCT, Bad, Found, name_ok
from tickerstream.parse.registry import name_index
from tickerstream.parse.vocab import MIN_PRICE, NOT_SYMBOLS, max_price

_WORD = r"[A-Za-z0-9][A-Za-z0-9.&'’\-]*"
#: The whole line: name, optional ``$``, price, signed or bare percent. Groups: name, dollar, price,
#: sign, percent.
NAME_ROW = re.compile(
    rf"(?P<name>[A-Za-z][A-Za-z0-9.&'’\-]*(?: {_WORD}){{0,4}})[ \t]+(?P<cur>\$[ \t]?)?"
    r"(?P<price>\d{1,3}(?:,\d{3})+(?:\.\d{1,12})?|\d{1,12}(?:\.\d{1,12})?)"
    r"[ \t]+(?P<sign>[+\-−])?(?P<pct>\d{1,4}(?:\.\d{1,4})?)%"
)


def read_name_row(line: str) -> Found | Bad | None:
    """The record of a name-only row, a ``Bad`` if its name or values are unusable, None if ``line``
    is not such a row."""
    m = NAME_ROW.fullmatch(line.rstrip(" \t\r"))
    if m is None:
        return None
    name = m.group("name")
    if not name_ok(name, False) or name.upper() in NOT_SYMBOLS:
        return None  # words of a sentence, or an index or label (``SPX``): not a coin, not even a reject
    symbol, why = name_index().lookup(name)
    if symbol is None:
        return Bad(RejectReason.UNMAPPED_NAME, f"name {name!r} not mapped to a symbol: {why}")
    digits = m.group("price")
    price = read_number(digits)  # the grammar allows commas only as thousands separators
    if price <= 0:
        return Bad(RejectReason.INVALID_PRICE, f"price {digits!r} is not > 0")
    if not MIN_PRICE <= price <= max_price("USD"):
        return Bad(RejectReason.PRICE_OUT_OF_RANGE, f"price {price!r} USD is implausible")
    sign = m.group("sign")
    pct = float(m.group("pct"))
    if sign is not None and sign != "+":
        pct = -pct
    if not MIN_CHANGE_PCT < pct <= MAX_CHANGE_PCT:
        return Bad(RejectReason.CHANGE_OUT_OF_RANGE, f"24h change {pct}% is implausible")
    return Found(symbol, name, price, "USD", pct, sign is not None, shown_quantum(digits, price))
