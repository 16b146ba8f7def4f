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
from tickerstream.parse.vocab import (
    FIAT_CODES,
    MIN_PRICE,
    NOT_NAME_WORDS,
    NOT_SYMBOLS,
    SIGN_TO_ISO,
    max_price,
)

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


_symbol_cache: dict[tuple[str, bool, bool], str | None] = {}


def symbol_of(token: str, *, paren: bool, attached: bool = False) -> str | None:
    """The upper-cased symbol if ``token`` plausibly is one, else None (cached: symbols repeat)."""
    key = (token, paren, attached)
    try:
        return _symbol_cache[key]
    except KeyError:
        pass
    if len(_symbol_cache) > 50_000:
        _symbol_cache.clear()
    sym = _symbol_cache[key] = _symbol_of(token, paren, attached)
    return sym


def _symbol_of(token: str, paren: bool, attached: bool) -> str | None:
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
        ok = attached and 2 <= len(token) <= 10
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


def _price(line: str, neg: bool, digits: str | None, suffix: str | None, currency: str) -> float | Bad:
    if digits is None or neg:
        return Bad(RejectReason.INVALID_PRICE, "no usable price" if digits is None else "negative price")
    try:
        value = read_number(digits, lambda: decimal_comma_context(line))
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


_SUFFIX_LETTERS = frozenset("kKmMbBtT")


def _number_ends_at(line: str, pos: int, floor: int) -> bool:
    """Cheap test before NUM_BEFORE: does a number (or a K/M/B suffix) end at ``pos`` (one blank allowed)?"""
    if pos > floor and line[pos - 1] in " \t":
        pos -= 1
    if pos <= floor:
        return False
    c = line[pos - 1]
    return c.isdigit() or (c in _SUFFIX_LETTERS and pos - 1 > floor and line[pos - 2].isdigit())


@dataclass(slots=True)
class _Anchor:
    start: int
    end: int
    currency: str
    neg: bool
    digits: str | None
    suffix: str
    pair_base: str | None


def _anchor_at(line: str, mk: re.Match[str], cursor: int) -> _Anchor | None:
    """The price marked by the currency marker ``mk``, or None if it marks no price."""
    ms, me = mk.span()
    first = line[ms]
    if "A" <= first <= "Z":
        code = mk.group()
        if code not in FIAT_CODES or (ms and line[ms - 1].isalpha()) or line[me : me + 1].isalpha():
            return None
        if ms > cursor and line[ms - 1] in "/- \t":
            pb = P.PAIR_BASE.search(line, max(cursor, ms - 14), ms)
            if pb is not None:
                am = P.AFTER_PAIR.match(line, me)
                if am is None:
                    return None
                return _Anchor(pb.start(), am.end(), code, bool(am.group("neg")), am.group("n"),
                               am.group("s"), pb.group("b"))  # fmt: skip
        currency, cstart = code, ms
    else:
        cstart = ms
        if first == "$":
            for prefix in P.DOLLAR_PREFIXES:
                ps = ms - len(prefix)
                if ps >= cursor and line.startswith(prefix, ps) and not (ps and line[ps - 1].isalpha()):
                    cstart = ps
                    break
        currency = SIGN_TO_ISO[line[cstart:me]]
    am = P.AFTER_CUR.match(line, me)
    bm = None
    if _number_ends_at(line, cstart, cursor):
        bm = P.NUM_BEFORE.search(line, max(cursor, cstart - 40), cstart)
    if am is not None and bm is not None:
        # A number on both sides of the sign: "101868.45$ 0.5%" (suffix) vs "3 $1.00" (prefix).
        after_is_pct = am.group("n") is not None and (
            line.startswith("%", am.end()) or line.startswith(" %", am.end())
        )
        after_glued = am.start("n") == me
        before_glued = bm.end() == cstart
        if after_is_pct or (before_glued and not after_glued):
            am = None
        else:
            bm = None
    if am is not None:
        start = cstart
        if cstart > cursor and line[cstart - 1] in "-−" and (cstart == 1 or line[cstart - 2] in " \t|("):
            start -= 1  # "-$5.00"
            return _Anchor(start, am.end(), currency, True, am.group("n"), am.group("s"), None)
        return _Anchor(start, am.end(), currency, bool(am.group("neg")), am.group("n"), am.group("s"), None)
    if bm is not None:
        return _Anchor(bm.start(), me, currency, bool(bm.group("neg")), bm.group("n"), bm.group("s"), None)
    return None


_Ident = tuple[int, str, bool, str, tuple[float, bool] | None]


def _ident_before(line: str, lo: int, start: int) -> _Ident | None:
    """(ident start, token, in parentheses, separator, percent-before-price) ending at ``start``."""
    window = line[max(lo, start - 96) : start][::-1]
    m = P.IDENT_REV.match(window)
    if m is None:
        return None
    paren = m.group("ps") is not None
    token = (m.group("ps") if paren else m.group("bs"))[::-1]
    pct = None
    if m.group("qn") is not None:
        value = float(m.group("qn")[::-1].replace(",", "."))
        sign, arrow = m.group("qs"), m.group("qa") or m.group("qb")
        if sign:
            pct = (value if sign == "+" else -value, True)
        elif arrow:
            pct = (value if arrow in P.UP_ARROWS else -value, True)
        else:
            pct = (value, False)
    return start - m.end(), token, paren, m.group("sep"), pct


def parse_line(line: str, pct_ordinal: int = 0) -> list[Found | Bad]:
    """All records of one line, or nothing if the line is not a ticker line.

    ``pct_ordinal`` picks which of several percents after a price is the 24 h change (from a table
    header such as ``| Price | 1h % | 24h % | 7d % |``).
    """
    out: list[Found | Bad] = []
    cursor = 0
    for mk in P.MARK.finditer(line):
        if mk.start() < cursor:
            continue
        a = _anchor_at(line, mk, cursor)
        if a is None:
            continue
        pct: tuple[float, bool] | None = None
        if a.pair_base is not None:
            symbol = symbol_of(a.pair_base, paren=False)
            ident_start, strict = a.start, True
        else:
            ident = _ident_before(line, cursor, a.start)
            if ident is None:
                continue
            ident_start, token, paren, sep, pct = ident
            attached = not paren and not sep and line[a.start] in P.SIGN_CHARS
            symbol = symbol_of(token, paren=paren, attached=attached)
            strict = not paren
        if symbol is None:
            continue  # an orphan figure (market cap, volume): filler, checked as such below
        name_start = _filler_end(line, cursor, ident_start)
        name = line[name_start:ident_start].rstrip(" \t|-–—")
        if name.endswith(":"):
            name = ""  # a label (``Prices: BTC $62,000``), not the coin's name
        name = name.strip(" \t|:-–—")
        if not name_ok(name, strict):
            return []
        end = a.end
        if pct is None:
            pcts: list[tuple[float, bool]] = []
            while len(pcts) <= pct_ordinal and (pm := P.PCT_AFTER.match(line, end)) is not None:
                pcts.append(read_pct(pm, "r"))
                end = pm.end()
            if pcts:
                pct = pcts[pct_ordinal] if pct_ordinal < len(pcts) else pcts[0]
        cursor = end
        price = _price(line, a.neg, a.digits, a.suffix, a.currency)
        if isinstance(price, Bad):
            out.append(price)
        elif pct is not None and not MIN_CHANGE_PCT < pct[0] <= MAX_CHANGE_PCT:
            out.append(Bad(RejectReason.CHANGE_OUT_OF_RANGE, f"24h change {pct[0]}% is implausible"))
        elif pct is None:
            out.append(Found(symbol, name, price, a.currency, None, False))
        else:
            out.append(Found(symbol, name, price, a.currency, pct[0], pct[1]))
    if out and _filler_end(line, cursor, len(line)) != len(line):
        return []
    return out


#: ``parse_line`` results by (line, percent column), across snapshots: re-scraped pages and marquees
#: repeat whole lines, and the general path costs 10-30 µs a line. Bounded (cleared when full): at
#: most ``_MEMO_LINES`` lines of at most ``_MEMO_LINE_CHARS`` characters, ~5 MB worst case.
_memo: dict[tuple[str, int], tuple[Found | Bad, ...]] = {}
_MEMO_LINES = 4096
_MEMO_LINE_CHARS = 1024


def parse_line_cached(line: str, pct_ordinal: int = 0) -> tuple[Found | Bad, ...]:
    """``parse_line`` through a bounded memo. The records are shared between calls: read only."""
    key = (line, pct_ordinal)
    items = _memo.get(key)
    if items is None:
        items = tuple(parse_line(line, pct_ordinal))
        if len(line) <= _MEMO_LINE_CHARS:
            if len(_memo) >= _MEMO_LINES:
                _memo.clear()
            _memo[key] = items
    return items


_HEADER_CELL_PCT = re.compile(r"%|chg|change|\b\d+\s?[hdwmy]\b", re.I)
_HEADER_24H = re.compile(r"24\s?h|1\s?d\b|day", re.I)


def table_pct_ordinal(line: str) -> int | None:
    """For a table header row (``| # | Name | Price | 1h % | 24h % |``), which percent column after the
    price is the 24 h change; None if ``line`` is not such a header."""
    sep = "|" if line.count("|") >= 2 else "\t" if line.count("\t") >= 2 else None
    if sep is None or P.HEADER_DIGIT.search(line):
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
