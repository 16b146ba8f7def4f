"""Where the records of a line sit: price anchors, the identifier before them, percents, as *spans*.

The general path's structural decisions live here (which currency marker marks a price, where the
digits are, which token is the symbol, which percent belongs to the record); reading the values out of
those spans is ``records.materialise``. Keeping positions apart from values is what lets a layout be
reused for another line of the same shape (see ``shapes``): nothing here looks at what a digit *is*,
only at whether it is one, except the few places ``shapes`` keeps digits verbatim for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tickerstream.parse import patterns as P
from tickerstream.parse.vocab import FIAT_CODES, SIGN_TO_ISO

#: A percent as spans: (digits start, digits end, sign multiplier +1/-1, sign known).
PctSpan = tuple[int, int, int, bool]

_SUFFIX_LETTERS = frozenset("kKmMbBtT")
#: How far back from a suffix currency ``NUM_BEFORE`` may start (sign, digits, separators, suffix).
NUM_BEFORE_REACH = 40
#: Every character ``NUM_BEFORE`` can match (minus signs, blanks, digits of any script, subscript
#: digits, group and decimal separators, magnitude suffixes), matched on *reversed* text: how many of
#: them end right before a currency sign, so the search starts where a number can start.
_NUM_CHARS_REV = re.compile(r"[\d₀-₉.,'’\u00a0\u202fkKmMbBtT \t\-−]*")


def number_ends_at(line: str, pos: int, floor: int) -> bool:
    """Cheap test before NUM_BEFORE: does a number (or a K/M/B suffix) end at ``pos`` (one blank allowed)?"""
    if pos > floor and line[pos - 1] in " \t":
        pos -= 1
    if pos <= floor:
        return False
    c = line[pos - 1]
    return c.isdigit() or (c in _SUFFIX_LETTERS and pos - 1 > floor and line[pos - 2].isdigit())


def num_before_floor(line: str, cursor: int, cstart: int) -> int:
    """Where ``NUM_BEFORE`` needs to start searching for a number that ends at ``cstart``.

    ``search`` tries every start position up to ``cstart``, each a full attempt of the number grammar
    (~0.3 µs). Over the whole ``NUM_BEFORE_REACH`` that was ~12 µs per currency sign, most of the parse
    time of a line dense with signs (``$1$1$1…`` ran at 0.09 MB/s, 17 s for 1.6 MB). A match consists
    only of characters of ``_NUM_CHARS_REV``, so it cannot start before the run of them that ends at
    ``cstart``; the look-behinds still see the text before the new start (``search`` does not slice),
    so the match is the same, and the attempts are bounded by that run instead of the reach."""
    lo = max(cursor, cstart - NUM_BEFORE_REACH)
    run = _NUM_CHARS_REV.match(line[lo:cstart][::-1])
    assert run is not None  # ``*``: matches the empty string at least
    return cstart - run.end()


@dataclass(slots=True)
class Anchor:
    """A price: its extent, currency, minus sign, digits span (-1, -1 for a ``NaN``-like placeholder),
    magnitude suffix, and for ``SYM/USD`` pairs the span of the base symbol (-1, -1 otherwise)."""

    start: int
    end: int
    currency: str
    neg: bool
    digits: tuple[int, int]
    suffix: str
    pair_base: tuple[int, int]


def _anchor(
    start: int, end: int, currency: str, neg: bool, m: re.Match[str], base: tuple[int, int]
) -> Anchor:
    return Anchor(start, end, currency, neg, m.span("n"), m.group("s") or "", base)


_NO_BASE = (-1, -1)
#: The last letters of ``DOLLAR_PREFIXES``: unless one is right before a ``$``, no prefix can match.
_PREFIX_ENDS = frozenset(p[-1] for p in P.DOLLAR_PREFIXES)


def anchor_at(line: str, mk: re.Match[str], cursor: int) -> Anchor | None:
    """The price marked by the currency marker ``mk``, or None if it marks no price."""
    ms, me = mk.span()
    first = line[ms]
    if "A" <= first <= "Z":
        code = mk.group()
        if code not in FIAT_CODES or (ms and line[ms - 1].isalpha()) or line[me : me + 1].isalpha():
            return None
        if ms and line[ms - 1].isdigit() and _ends_an_identifier(line, ms):
            return None  # "AA0CAD" is a symbol, not 0 CAD
        if ms > cursor and line[ms - 1] in "/- \t":
            pb = P.PAIR_BASE.search(line, max(cursor, ms - 14), ms)
            if pb is not None:
                am = P.AFTER_PAIR.match(line, me)
                if am is None:
                    return None
                return _anchor(pb.start(), am.end(), code, bool(am.group("neg")), am, pb.span("b"))
        currency, cstart = code, ms
    else:
        cstart = ms
        if first == "$" and ms > cursor and line[ms - 1] in _PREFIX_ENDS:
            for prefix in P.DOLLAR_PREFIXES:
                ps = ms - len(prefix)
                if ps >= cursor and line.startswith(prefix, ps) and not (ps and line[ps - 1].isalpha()):
                    cstart = ps
                    break
        currency = SIGN_TO_ISO[line[cstart:me]]
    am = P.AFTER_CUR.match(line, me)
    bm = None
    if number_ends_at(line, cstart, cursor):
        bm = P.NUM_BEFORE.search(line, num_before_floor(line, cursor, cstart), cstart)
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
        if cstart > cursor and line[cstart - 1] in "-−" and (cstart == 1 or line[cstart - 2] in " \t|("):
            return _anchor(cstart - 1, am.end(), currency, True, am, _NO_BASE)  # "-$5.00"
        return _anchor(cstart, am.end(), currency, bool(am.group("neg")), am, _NO_BASE)
    if bm is not None:
        return _anchor(bm.start(), me, currency, bool(bm.group("neg")), bm, _NO_BASE)
    return None


def _ends_an_identifier(line: str, at: int) -> bool:
    """Is the code at ``at``, right after a digit, the tail of a word that starts with a letter
    (``AA0CAD``, ``L3USD``)? Then it is part of a symbol; after a number (``12.5CAD``) it is money."""
    j = at - 1
    while j > 0 and line[j - 1].isascii() and line[j - 1].isalnum():
        j -= 1
    return line[j].isalpha()


def _sign(sign: str | None, arrow: str | None) -> tuple[int, bool]:
    """(multiplier, sign known) of a percent: the explicit sign wins, arrows count as signs."""
    if sign:
        return (1 if sign == "+" else -1), True
    if arrow:
        return (1 if arrow in P.UP_ARROWS else -1), True
    return 1, False


def pct_after(m: re.Match[str]) -> PctSpan:
    """The spans of a ``PCT_AFTER`` match."""
    mult, known = _sign(m.group("rs"), m.group("ra") or m.group("rb"))
    return (*m.span("rn"), mult, known)


#: How far before a currency marker the symbol of its record can lie: the anchor starts at most 42
#: characters before the marker (``NUM_BEFORE_REACH``, a minus, a two-letter ``US$`` prefix) and
#: ``ident_before`` reads 96 characters back from the anchor; a pair's base is within 14.
SYMBOL_REACH = 140


def _case_blind(code: str) -> str:
    # Spelled out rather than ``(?i:...)``: Unicode case folding would also match ``ſ`` or ``K``.
    return "".join(f"[{c.upper()}{c.lower()}]" for c in code)


#: A maximal run of the characters a symbol token is made of (``[A-Za-z0-9.\-]``) that holds a letter
#: and is not a fiat code: only such a run can hold a symbol ``symbol_of`` accepts (it wants a letter
#: and refuses every fiat code in any case; a token inside a run that is exactly a three-letter code is
#: the whole run). The look-behind makes only run starts try, so ``finditer`` is linear.
_SYMBOL_RUN = re.compile(
    r"(?<![A-Za-z0-9.\-])(?!(?:"
    + "|".join(_case_blind(c) for c in sorted(FIAT_CODES))
    + r")(?![A-Za-z0-9.\-]))[0-9.\-]*[A-Za-z][A-Za-z0-9.\-]*"
)


def symbol_reach(line: str) -> list[tuple[int, int]]:
    """The stretches of ``line`` (sorted, disjoint, end exclusive) where a currency marker may start
    and still have a symbol before it: a marker outside them yields no record, whatever follows.

    A marker at ``ms`` can only get a symbol from a run that starts before ``ms`` and ends after
    ``ms - SYMBOL_REACH``. On a line dense with signs but without symbols (``$1$1$1…``, ``12$34%5,``,
    ``USD 1 USD 1``) every marker would otherwise cost an ``anchor_at`` and an ``ident_before`` in
    Python (~5 µs) only to be dropped; ``layout_of`` skips from stretch to stretch instead."""
    out: list[tuple[int, int]] = []
    for m in _SYMBOL_RUN.finditer(line):
        lo, hi = m.start() + 1, m.end() + SYMBOL_REACH
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


#: (ident start, symbol token span, in parentheses, separator, percent-before-price or None)
Ident = tuple[int, tuple[int, int], bool, str, PctSpan | None]


def ident_before(line: str, lo: int, start: int) -> Ident | None:
    """The identifier ending at ``start`` (and a percent between it and the price), read backwards.

    ``IDENT_REV`` runs on the reversed text, so a group span (a, b) of it is (start - b, start - a)
    in ``line``."""
    window = line[max(lo, start - 96) : start][::-1]
    m = P.IDENT_REV.match(window)
    if m is None:
        return None
    paren = m.group("ps") is not None
    a, b = m.span("ps" if paren else "bs")
    pct: PctSpan | None = None
    if m.group("qn") is not None:
        qa, qb = m.span("qn")
        pct = (start - qb, start - qa, *_sign(m.group("qs"), m.group("qa") or m.group("qb")))
    return start - m.end(), (start - b, start - a), paren, m.group("sep"), pct
