"""One line of text -> the ticker records on it (the general path; no slug, dedupe or I/O here).

A line is accepted only if everything on it is explained: records, plus separators, rank numbers and
other columns (market cap, volume, extra percents). Anything else (a verb, a sentence) marks prose, and
prose yields nothing, not even rejects: ``Bitcoin hit $100,000 on Monday`` is news, not a price.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tickerstream.model import RejectReason
from tickerstream.parse import patterns as P
from tickerstream.parse.numbers import SUFFIX_MULTIPLIER, Ambiguous, read_number
from tickerstream.parse.vocab import MIN_PRICE, NOT_NAME_WORDS, NOT_SYMBOLS, SIGN_TO_ISO, max_price

#: A 24 h change beyond these bounds is a misread (a price can't fall 100 %; +1000 % is off the charts).
MIN_CHANGE_PCT = -100.0
MAX_CHANGE_PCT = 1000.0

_SCHEMA_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,31}")


@dataclass(slots=True)
class Found:
    """A record read off a line, before ts/source/coin id are attached."""

    symbol: str
    name: str
    price: float
    currency: str
    change_pct: float | None
    sign_known: bool


@dataclass(slots=True)
class Bad:
    """A record whose identifier was clear but whose values are not usable."""

    reason: RejectReason
    detail: str


def currency_iso(mark: str) -> str:
    mark = mark.strip()
    return SIGN_TO_ISO.get(mark) or mark.upper()


def symbol_of(token: str, *, paren: bool, attached: bool = False) -> str | None:
    """The upper-cased symbol if ``token`` plausibly is one, else None.

    In parentheses (``(USDe)``, ``(stETH)``) most tokens are symbols; bare ones must look like tickers
    (mostly upper case) so ``Monday $5`` is not read as MONDAY. An all-lower-case bare token is accepted
    only glued to a currency sign, as compact strips print it (``btc$62.7k``).
    """
    if not any(c.isalpha() for c in token):
        return None
    upper = sum(c.isupper() for c in token)
    lower = sum(c.islower() for c in token)
    if paren:
        ok = upper >= lower or (upper == 0 and len(token) <= 6)
    elif lower == 0:
        ok = len(token) >= 2
    elif upper == 0:
        ok = attached and 2 <= len(token) <= 6
    else:
        ok = upper >= 2 and upper > lower
    sym = token.upper()
    if not ok or sym in NOT_SYMBOLS or not _SCHEMA_SYMBOL.fullmatch(sym):
        return None
    return sym


_name_cache: dict[tuple[str, bool], bool] = {}


def name_ok(name: str, strict: bool) -> bool:
    """Could ``name`` be a coin's display name (rather than the end of a sentence)?

    ``strict`` (bare-symbol records) allows no all-lower-case word; ``Name (SYM)`` records allow one
    (``dogwifhat``, ``Book of Meme``).
    """
    key = (name, strict)
    hit = _name_cache.get(key)
    if hit is None:
        hit = _name_ok(name, strict)
        if len(_name_cache) > 50_000:
            _name_cache.clear()
        _name_cache[key] = hit
    return hit


def _name_ok(name: str, strict: bool) -> bool:
    if not name:
        return True
    if len(name) > 64 or P.PROSE_MARK.search(name):
        return False
    words = name.split()
    if len(words) > 6 or any(w.lower() in NOT_NAME_WORDS for w in words):
        return False
    lower = sum(1 for w in words if w.isalpha() and w.islower())
    return lower <= (0 if strict else 1)


def decimal_comma_context(line: str) -> bool:
    return P.DECIMAL_COMMA_HINT.search(line) is not None and P.DECIMAL_DOT_HINT.search(line) is None


def read_pct(m: re.Match[str], tag: str) -> tuple[float, bool]:
    """(value, sign_known) of a percent match; arrows count as signs, the explicit sign wins."""
    value = float(m.group(tag + "n").replace(",", "."))
    sign = m.group(tag + "s")
    arrow = m.group(tag + "a") or m.group(tag + "b")
    if sign:
        return (value if sign == "+" else -value), True
    if arrow:
        return (value if arrow in P.UP_ARROWS else -value), True
    return value, False


def _price(line: str, neg: str | None, digits: str | None, suffix: str | None, currency: str) -> float | Bad:
    if digits is None or neg:
        return Bad(RejectReason.INVALID_PRICE, "no usable price" if digits is None else "negative price")
    try:
        comma_ctx = ("," in digits or "." in digits) and decimal_comma_context(line)
        value = read_number(digits, comma_ctx)
    except Ambiguous:
        return Bad(RejectReason.AMBIGUOUS_NUMBER, f"price {digits!r} reads as two numbers on this page")
    except ValueError:
        return Bad(RejectReason.INVALID_PRICE, f"unreadable price {digits!r}")
    if suffix:
        value *= SUFFIX_MULTIPLIER[suffix]
    if not math.isfinite(value) or value <= 0:
        return Bad(RejectReason.INVALID_PRICE, f"price {digits!r} is not > 0")
    if value < MIN_PRICE or value > max_price(currency):
        return Bad(RejectReason.PRICE_OUT_OF_RANGE, f"price {value!r} {currency} is implausible")
    return value


def _filler_end(line: str, pos: int, endpos: int) -> int:
    m = P.FILLER.match(line, pos, endpos)
    return pos if m is None else m.end()


def parse_line(line: str, pct_ordinal: int = 0) -> list[Found | Bad]:
    """All records of one line, or nothing if the line is not a ticker line.

    ``pct_ordinal`` picks which of several percents after a price is the 24 h change (from a table
    header such as ``| Price | 1h % | 24h % | 7d % |``).
    """
    out: list[Found | Bad] = []
    cursor = 0
    for a in P.ANCHOR.finditer(line):
        start = a.start()
        if start < cursor:
            continue
        pct: tuple[float, bool] | None = None
        if a.group("pb") is not None:
            symbol = symbol_of(a.group("pb"), paren=False)
            ident_start = start
            currency, neg, digits, suffix = a.group("pq"), a.group("pneg"), a.group("pn"), a.group("ps")
            strict = True
        else:
            im = P.IDENT_END.search(line, max(cursor, start - 96), start)
            if im is None:
                continue
            paren = im.group("ps") is not None
            attached = not paren and not im.group("sep") and a.group("c1") is not None
            symbol = symbol_of(im.group("ps") if paren else im.group("bs"), paren=paren, attached=attached)
            if im.group("qn") is not None:
                pct = read_pct(im, "q")
            ident_start = im.start()
            strict = not paren
            if a.group("c1") is not None:
                currency = currency_iso(a.group("c1"))
                neg = a.group("neg0") or a.group("neg1")
                digits, suffix = a.group("n1"), a.group("s1")
            else:
                currency = currency_iso(a.group("c2"))
                neg, digits, suffix = a.group("neg2"), a.group("n2"), a.group("s2")
        if symbol is None:
            continue  # an orphan figure (market cap, volume): filler, checked as such below
        name_start = _filler_end(line, cursor, ident_start)
        name = line[name_start:ident_start].rstrip(" \t|-–—")
        if name.endswith(":"):
            name = ""  # a label (``Prices: BTC $62,000``), not the coin's name
        name = name.strip(" \t|:-–—")
        if not name_ok(name, strict):
            return []
        end = a.end()
        if pct is None:
            pcts: list[tuple[float, bool]] = []
            while (pm := P.PCT_AFTER.match(line, end)) is not None and len(pcts) <= pct_ordinal:
                pcts.append(read_pct(pm, "r"))
                end = pm.end()
            if pcts:
                pct = pcts[pct_ordinal] if pct_ordinal < len(pcts) else pcts[0]
        cursor = end
        price = _price(line, neg, digits, suffix, currency)
        if isinstance(price, Bad):
            out.append(price)
        elif pct is not None and not MIN_CHANGE_PCT < pct[0] <= MAX_CHANGE_PCT:
            out.append(Bad(RejectReason.CHANGE_OUT_OF_RANGE, f"24h change {pct[0]}% is implausible"))
        elif pct is None:
            out.append(Found(symbol, name, price, currency, None, False))
        else:
            out.append(Found(symbol, name, price, currency, pct[0], pct[1]))
    if out and _filler_end(line, cursor, len(line)) != len(line):
        return []
    return out


_HEADER_CELL_PCT = re.compile(r"%|chg|change|\b\d+\s?[hdwmy]\b", re.I)
_HEADER_24H = re.compile(r"24\s?h|1\s?d\b|day", re.I)


def table_pct_ordinal(line: str) -> int | None:
    """For a table header row (``| # | Name | Price | 1h % | 24h % |``), which percent column after the
    price is the 24 h change; None if ``line`` is not such a header."""
    sep = "|" if line.count("|") >= 2 else "\t" if line.count("\t") >= 2 else None
    if sep is None or P.ANCHOR.search(line):
        return None
    cells = [c.strip() for c in line.split(sep)]
    price_idx = next((i for i, c in enumerate(cells) if "price" in c.lower()), None)
    if price_idx is None:
        return None
    ordinal = 0
    for cell in cells[price_idx + 1 :]:
        if not _HEADER_CELL_PCT.search(cell):
            continue
        if _HEADER_24H.search(cell):
            return ordinal
        ordinal += 1
    return 0
