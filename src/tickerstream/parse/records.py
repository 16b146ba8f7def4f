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
from tickerstream.parse.anchors import PctSpan, anchor_at, ident_before, pct_after, symbol_reach
from tickerstream.parse.numbers import SUFFIX_MULTIPLIER, Ambiguous, read_number, shown_quantum
from tickerstream.parse.shapes import Layout, Rec, layouts, remember, shape_of
from tickerstream.parse.strips import items_of, shifted
from tickerstream.parse.vocab import (
    FIAT_CODES,
    MIN_PRICE,
    NOT_NAME_WORDS,
    NOT_SYMBOLS,
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
    #: The price step the page showed (``shown_quantum``), None when unknown.
    quantum: float | None = None


@dataclass(slots=True)
class Bad:
    """A record whose identifier was clear but whose values are not usable."""

    reason: RejectReason
    detail: str


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


_name_cache: dict[tuple[str, bool, bool], bool] = {}


def name_ok(name: str, strict: bool, *, seed_row: bool = False) -> bool:
    """Could ``name`` be a coin's display name (rather than the end of a sentence)?

    ``strict`` (bare-symbol records) allows no all-lower-case word; ``Name (SYM)`` records allow one
    (``dogwifhat``, ``Book of Meme``). ``seed_row``: the whole line is exactly one seed-widget row
    (``patterns.SEED_ROW``), a layout that sentences do not take, so the name may be any coin
    database name: lower-case words (``cat in a dogs world``), abbreviations (``Sonic (prev. FTM)``).
    Money, links, quotes and the words of market statistics are refused even there.
    """
    key = (name, strict, seed_row)
    hit = _name_cache.get(key)
    if hit is None:
        hit = _name_ok(name, strict, seed_row)
        if len(_name_cache) > 50_000:
            _name_cache.clear()
        _name_cache[key] = hit
    return hit


def _name_ok(name: str, strict: bool, seed_row: bool) -> bool:
    if not name:
        return True
    if len(name) > 64 or (P.PROSE_MARK_IN_ROW if seed_row else P.PROSE_MARK).search(name):
        return False
    words = name.split()
    if len(words) > (10 if seed_row else 6) or any(w.lower() in NOT_NAME_WORDS for w in words):
        return False
    lower = sum(1 for w in words if w.isalpha() and w.islower())
    return seed_row or lower <= (0 if strict else 1)


def _name_ok_here(line: str, name: str, paren: bool) -> bool:
    """``name_ok`` for a record of ``line``; a ``Name (SYM)`` record on a line that is exactly one
    seed-widget row gets the row's latitude (checked only when the plain rule refuses: rare)."""
    return name_ok(name, not paren) or (
        paren
        and name_ok(name, False, seed_row=True)
        and P.SEED_ROW.fullmatch(line.rstrip("\r\n")) is not None
    )


def decimal_comma_context(line: str) -> bool:
    return P.DECIMAL_COMMA_HINT.search(line) is not None and P.DECIMAL_DOT_HINT.search(line) is None


def _price(
    line: str, neg: bool, digits: str | None, suffix: str | None, currency: str
) -> tuple[float, float | None] | Bad:
    """The price and the step its digits show (scaled like the price by a K/M/B suffix)."""
    if digits is None or neg:
        return Bad(RejectReason.INVALID_PRICE, "no usable price" if digits is None else "negative price")
    try:
        value = read_number(digits, lambda: decimal_comma_context(line))
    except Ambiguous:
        return Bad(RejectReason.AMBIGUOUS_NUMBER, f"price {digits!r} reads as two numbers on this page")
    except ValueError:
        return Bad(RejectReason.INVALID_PRICE, f"unreadable price {digits!r}")
    quantum = shown_quantum(digits, value) if math.isfinite(value) else None
    if suffix:
        value *= SUFFIX_MULTIPLIER[suffix]
        quantum = None if quantum is None else quantum * SUFFIX_MULTIPLIER[suffix]
    if not math.isfinite(value) or value <= 0:
        return Bad(RejectReason.INVALID_PRICE, f"price {digits!r} is not > 0")
    if value < MIN_PRICE or value > max_price(currency):
        return Bad(RejectReason.PRICE_OUT_OF_RANGE, f"price {value!r} {currency} is implausible")
    return value, quantum


def _filler_end(line: str, pos: int, endpos: int) -> int:
    m = P.FILLER.match(line, pos, endpos)
    return pos if m is None else m.end()


_NO_PCT = (-1, -1, 1, False)
#: Markers a line gets at full price before ``layout_of`` consults ``symbol_reach``: real ticker
#: lines have a few per record, and building the stretches costs a Python step per word.
_FEW_MARKS = 16
_ASCII_DIGIT = re.compile(r"[0-9]")


def layout_of(line: str, pct_ordinal: int = 0) -> Layout:
    """Where the records of ``line`` are (see ``Rec``): every decision of the general path, no values.

    A line is a ticker line only if everything on it is explained (records, separators, filler);
    ``pct_ordinal`` picks which of several percents after a price is the 24 h change (from a table
    header such as ``| Price | 1h % | 24h % | 7d % |``).
    """
    recs: list[Rec] = []
    cursor = 0
    pos = 0
    marks = 0
    reach: list[tuple[int, int]] | None = None  # ``symbol_reach``, for lines dense with markers
    ri = 0
    search = P.MARK.search
    # ``search`` from the last match's end: the matches of ``finditer``, but we may jump ahead.
    while (mk := search(line, pos)) is not None:
        ms, me = mk.span()
        pos = me
        if ms < cursor or (me - ms == 3 and mk.group() not in FIAT_CODES):
            continue  # (a symbol such as WBTC: anchor_at would refuse it, after a call)
        marks += 1
        if marks > _FEW_MARKS:
            if reach is None:
                reach = symbol_reach(line)
            while ri < len(reach) and reach[ri][1] <= ms:
                ri += 1
            if ri == len(reach):
                break  # no later marker has a symbol before it: nothing more on this line
            if ms < reach[ri][0]:
                # Markers before the stretch have no symbol in reach. Starting the search inside a run
                # of capitals may align three-letter matches differently, but every code in a run of
                # four or more capitals is refused (a letter touches it), as is one at the run start.
                pos = reach[ri][0]
                continue
        a = anchor_at(line, mk, cursor)
        if a is None:
            continue
        pct: PctSpan | None = None
        if a.pair_base[0] >= 0:
            ident_start, (ts, te), paren, attached = a.start, a.pair_base, False, False
        else:
            ident = ident_before(line, cursor, a.start)
            if ident is None:
                continue
            ident_start, (ts, te), paren, sep, pct = ident
            attached = not paren and not sep and line[a.start] in P.SIGN_CHARS
        token = line[ts:te]
        symbol = symbol_of(token, paren=paren, attached=attached)
        if symbol is None:
            continue  # an orphan figure (market cap, volume): filler, checked as such below
        name_start = _filler_end(line, cursor, ident_start)
        raw = line[name_start:ident_start].rstrip(" \t|-–—")
        name_end = name_start + len(raw)
        # A label (``Prices: BTC $62,000``) is not the coin's name. Otherwise the last character is
        # none of the stripped ones, so stripping the name both ways only strips its start.
        name = "" if raw.endswith(":") else raw.lstrip(" \t|:-–—")
        if not _name_ok_here(line, name, paren):
            return ()
        end = a.end
        if pct is None:
            n = 0
            while n <= pct_ordinal and (pm := P.PCT_AFTER.match(line, end)) is not None:
                if n == 0 or n == pct_ordinal:
                    pct = pct_after(pm)  # the first, replaced by the chosen column if there is one
                n += 1
                end = pm.end()
        cursor = end
        if _ASCII_DIGIT.search(token) is None:
            ts = te = -1
        else:
            symbol = ""
        ns = name_end - len(name)
        if _ASCII_DIGIT.search(name) is None:
            ns = name_end = -1
        else:
            name = ""
        recs.append((symbol, ts, te, paren, attached, name, ns, name_end, a.currency, a.neg,
                     *a.digits, a.suffix, *(pct or _NO_PCT)))  # fmt: skip
    if recs and _filler_end(line, cursor, len(line)) != len(line):
        return ()
    return tuple(recs)


def materialise(line: str, layout: Layout) -> list[Found | Bad] | None:
    """The records of ``line`` at the places ``layout`` gives: symbols, names, prices and percents
    read off ``line`` and range-checked. None if a symbol or name there is not acceptable, which only
    happens if the layout was made for another line and does not fit this one."""
    out: list[Found | Bad] = []
    for rec in layout:
        symbol, ts, te, paren, attached, name, ns, ne, currency, neg, ds, de, suffix, ps, pe, mult, known = (
            rec
        )
        if ts >= 0:
            checked = symbol_of(line[ts:te], paren=paren, attached=attached)
            if checked is None:
                return None
            symbol = checked
        if ns >= 0:
            name = line[ns:ne]
            if not _name_ok_here(line, name, paren):
                return None
        priced = _price(line, neg, line[ds:de] if ds >= 0 else None, suffix, currency)
        if isinstance(priced, Bad):
            out.append(priced)
            continue
        price, quantum = priced
        if ps < 0:
            out.append(Found(symbol, name, price, currency, None, False, quantum))
            continue
        pct = float(line[ps:pe].replace(",", "."))
        if mult < 0:
            pct = -pct
        if not MIN_CHANGE_PCT < pct <= MAX_CHANGE_PCT:
            out.append(Bad(RejectReason.CHANGE_OUT_OF_RANGE, f"24h change {pct}% is implausible"))
        else:
            out.append(Found(symbol, name, price, currency, pct, known, quantum))
    return out


def parse_line(line: str, pct_ordinal: int = 0) -> list[Found | Bad]:
    """All records of one line, or nothing if the line is not a ticker line (see ``layout_of``)."""
    items = materialise(line, layout_of(line, pct_ordinal))
    assert items is not None  # a line's own layout always fits it
    return items


#: ``parse_line`` results by (line, percent column), across snapshots: re-scraped pages and marquees
#: repeat whole lines. Bounded (cleared when full): at most ``_MEMO_LINES`` lines of at most
#: ``_MEMO_LINE_CHARS`` characters, ~5 MB worst case. Lines not seen before go through the layout
#: cache (``shapes``), which also pays when only the numbers changed.
_memo: dict[tuple[str, int], tuple[Found | Bad, ...]] = {}
_MEMO_LINES = 4096
_MEMO_LINE_CHARS = 1024


def parse_line_cached(line: str, pct_ordinal: int = 0) -> tuple[Found | Bad, ...]:
    """``parse_line`` through the bounded memos. The records are shared between calls: read only."""
    key = (line, pct_ordinal)
    items = _memo.get(key)
    if items is None:
        items = tuple(_parse_by_shape(line, pct_ordinal))
        if len(line) <= _MEMO_LINE_CHARS:
            if len(_memo) >= _MEMO_LINES:
                _memo.clear()
            _memo[key] = items
    return items


def _parse_by_shape(line: str, pct_ordinal: int) -> list[Found | Bad]:
    """``parse_line``, reusing the layout of an earlier line of the same shape (``shapes``)."""
    shape = shape_of(line, pct_ordinal)
    if shape is None:
        strip = _strip_layout(line, pct_ordinal)
        if strip is not None and (items := materialise(line, strip)) is not None:
            return items
        return parse_line(line, pct_ordinal)
    layout = layouts.get(shape)
    if layout is not None:
        items = materialise(line, layout)
        if items is not None:
            return items
    layout = layout_of(line, pct_ordinal)
    remember(shape, layout)
    items = materialise(line, layout)
    assert items is not None
    return items


def _layout_by_shape(line: str, pct_ordinal: int) -> Layout | None:
    """``layout_of`` through the layout cache; None if ``line`` is not cached (``shape_of``)."""
    shape = shape_of(line, pct_ordinal)
    if shape is None:
        return None
    layout = layouts.get(shape)
    if layout is None:
        layout = layout_of(line, pct_ordinal)
        remember(shape, layout)
    return layout


def _strip_layout(line: str, pct_ordinal: int) -> Layout | None:
    """``layout_of`` of a flattened strip from its items' cached layouts (see ``strips``), or None
    if ``line`` is not one whose items' layouts make its layout."""
    items = items_of(line)
    if items is None:
        return None
    out: list[Rec] = []
    for offset, item in items:
        layout = _layout_by_shape(item, pct_ordinal)
        if not layout:
            return None
        for rec in layout:
            name = rec[5] if rec[6] < 0 else item[rec[6] : rec[7]]
            if not name_ok(name, not rec[3]):  # it might be accepted for the whole line's sake
                return None
        out.extend(shifted(layout, offset))
    return tuple(out)


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
