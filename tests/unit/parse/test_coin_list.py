"""Every coin of a real coin list, rendered as the seed widget prints it, parses back exactly.

The list (src/tickerstream/data/coins/, the parser's coin registry: 12,242 symbols and names, MIT,
see SOURCE.md) holds the names a coin database really uses: lower case (``cat in a dogs world``),
abbreviations (``Coritiba F.C. Fan Token``), parentheses, digits, non-Latin letters, one-letter and
dotted symbols. A row the parser reads must come back with exactly its symbol, name, coin id, price
and change; a row it refuses must fall under one of the documented refusals (docs/parsing.md, "What
it refuses"), where precision wins over recall.
"""

from __future__ import annotations

import json
import re
from functools import cache

from tests.support.paths import REPO
from tickerstream.parse import parse_bytes
from tickerstream.parse.records import symbol_of
from tickerstream.parse.slugs import slug_of
from tickerstream.parse.vocab import KNOWN_COIN_IDS, NOT_NAME_WORDS

COINS = REPO / "src" / "tickerstream" / "data" / "coins" / "cryptocurrencies.json"
#: Prices and changes cycled over the rows: sub-cent, cents, thousands with grouping.
PRICES = [("0.004299", 0.004299), ("1.00", 1.0), ("104,442.98", 104442.98), ("0.000019", 0.000019)]
PCTS = [("2.72", 2.72), ("0.48", 0.48), ("12.1", 12.1)]


@cache
def coins() -> list[tuple[str, str]]:
    return list(json.loads(COINS.read_text(encoding="utf-8")).items())


def refused_by_design(symbol: str, name: str) -> str | None:
    """Why the parser may refuse this row (the documented refusals), or None if it must read it."""
    if symbol_of(symbol, paren=True) is None or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,31}", symbol):
        return "not a symbol: no letter, a word of market statistics, or characters a ticker does not use"
    if name != name.strip() or not name.isprintable():
        return "a name with blanks or invisible characters around it"
    if any(w.lower() in NOT_NAME_WORDS for w in name.split()):
        return "a name with a word of market statistics (index, market, volume, ...)"
    if re.search(r"[!?;\"“”…$€£¥%@]|:(?:\s|$)|https?:|www\.|\(|\)|[.,]$", name):
        return "money, links, quotes, parentheses of its own, or a trailing full stop in the name"
    if len(name) > 64 or len(name.split()) > 10:
        return "longer than any display name"
    return None


def shown_name(name: str) -> str:
    """The name as the parser reports it: a leading bullet-like sign (``/Reach``) that the coin id does
    not spell is taken for list punctuation and dropped (documented in docs/parsing.md)."""
    return name.lstrip("/•·*#>-–—|:") if name[:1] in "/•·*#>-–—|:" else name


def test_every_coin_reads_back_exactly_or_is_refused_by_design() -> None:
    read = refused = 0
    wrong: list[str] = []
    for i, (symbol, name) in enumerate(coins()):
        price_s, price = PRICES[i % len(PRICES)]
        pct_s, pct = PCTS[i % len(PCTS)]
        slug = slug_of(name)
        page = f"{slug}\n{name} ({symbol}) $ {price_s} {pct_s}%\n".encode()
        ticks = parse_bytes(page, ts=0, source="coins").ticks
        why = refused_by_design(symbol, name)
        if not ticks:
            refused += 1
            if why is None:
                wrong.append(f"dropped: {name} ({symbol})")
            continue
        read += 1
        (t,) = ticks
        known = KNOWN_COIN_IDS.get(slug)
        coin_id = slug if known is None or known == symbol.upper() else None
        got = (t.symbol, t.name, t.coin_id, t.price, t.change_pct)
        if got != (symbol.upper(), shown_name(name), coin_id, price, pct):
            wrong.append(f"misread: {name} ({symbol}) -> {got}")
    assert not wrong, f"{len(wrong)} rows:\n" + "\n".join(wrong[:40])
    assert read / (read + refused) >= 0.985  # the refusals are a small, documented minority
