"""Whether a coin-id slug line belongs to the ticker record that follows it.

CoinGecko-style widgets print the coin id on its own line above ``Name (SYMBOL) $ price``. Ids often
share no word with the name (``crypto-com-chain`` is Cronos, ``the-open-network`` is Toncoin), so
adjacency decides: a well-formed slug right above a record belongs to it. The exceptions are slugs we
know name another coin (``bitcoin`` above an Ethereum line, after a widget dropped a row), which are
refused, and slugs separated from the record by blank lines, which must relate to it by name.
"""

from __future__ import annotations

import re

from tickerstream.parse.patterns import SLUG
from tickerstream.parse.vocab import KNOWN_COIN_IDS

MAX_SLUG_CHARS = 64
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def as_slug(line: str) -> str | None:
    """The slug if the stripped line is a well-formed coin id (``lido staked-ether`` is not)."""
    s = line.strip()
    if 0 < len(s) <= MAX_SLUG_CHARS and SLUG.fullmatch(s) and not s.isdigit():
        return s
    return None


def related(slug: str, symbol: str, name: str) -> bool:
    """Does the slug share a word (or a prefix) with the record's symbol or name?"""
    sym = symbol.lower()
    words = slug.split("-")
    if sym in words or slug.replace("-", "").startswith(sym):
        return True
    flat_name = name.lower().replace(" ", "").replace("-", "")
    return any(len(w) >= 3 and w in flat_name for w in words) or (
        bool(flat_name) and slug.replace("-", "").startswith(flat_name[:4])
    )


def slug_of(name: str) -> str:
    """The coin id a coin database derives from a display name: lower case, words joined by '-'."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")


def spelled_by_slug(line: str, name: str, slug: str) -> str:
    """``name`` with the text before it on ``line`` when the slug above spells them together.

    A leading number or sign reads as a table's rank or a bullet (``3 Kingdoms Multiverse`` would be
    rank 3), but when the coin id right above the row is ``3-kingdoms-multiverse``, the number is part
    of the name. Without that evidence the shorter name stands."""
    at = line.find(name)
    if at <= 0 or slug_of(name) == slug:
        return name
    full = line[: at + len(name)].strip()
    return full if slug_of(full) == slug else name


def slug_belongs(slug: str, symbol: str, name: str, *, adjacent: bool) -> bool:
    """Attach ``slug`` to the record ``symbol``/``name``? See the module docstring for the rule."""
    known = KNOWN_COIN_IDS.get(slug)
    if known is not None:
        return known == symbol
    return adjacent or related(slug, symbol, name)
