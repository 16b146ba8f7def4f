"""The fast path: the seed widget's rows (slug line + ``Name (SYM) $ price pct%``), a block at a time.

Most ticks on real pages come from this one layout, printed exactly the same way row after row, so a
block of it is read with one ``findall`` and turned into ticks with as little per-row Python as
possible: column-wise ``map``s for the numbers and the identity look-ups, then one flat loop for the
dedupe and the ``Tick`` stores.

``ROWS`` is deliberately looser than the row grammar (``ROW``) in the identity part (one character
class up to ``) $``), because that is where the strict grammar backtracks; the identity text it
captures is checked against the strict grammar once per distinct identity (``judge``, cached), so what
is emitted is exactly what the strict grammar and the general path would emit. Numbers keep the strict
grammar. Anything the fast path is not sure about (a row needing judgement, a value out of range) makes
``emit_rows`` refuse the whole block, and the caller takes it row by row instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import itemgetter

from tickerstream.model import Tick
from tickerstream.parse import patterns as P
from tickerstream.parse.numbers import quantum_of_decimals
from tickerstream.parse.records import MAX_CHANGE_PCT, name_ok, symbol_of
from tickerstream.parse.slugs import as_slug, slug_belongs
from tickerstream.parse.ticks import UNFROZEN, make_tick
from tickerstream.parse.vocab import MAX_PRICE_USD, MIN_PRICE

_NAME, _PRICE, _PCT = P.ROW_NAME, P.ROW_PRICE, P.ROW_PCT
#: The seed widget's row (``patterns.ROW``): groups name, symbol, price, percent.
ROW = P.ROW

#: One line at a time from a line start: a row (with the slug line above it, if any) as
#: (identity, price, percent), identity = the text from the slug up to ``$`` (``"bitcoin\nBitcoin
#: (BTC) "``); any other line as ``_OTHER``, which ends the block, so it also takes the rest of the
#: window: ``(?s:.*)`` costs nothing in the regex engine (it jumps to the end), and ``findall`` stops
#: there instead of matching every line up to the next blank line only for them to be dropped.
#: Possessive quantifiers: no backtracking over a long non-row line.
ROWS = re.compile(
    rf"^(?:((?:[a-z0-9][a-z0-9-]*+\n)?[A-Za-z][^\n$]*+)(?<=\) )\$ ({_PRICE}) ({_PCT})%\n|[^\n]*\n(?s:.*))",
    re.M,
)
_OTHER = ("", "", "")
#: Characters a row adds to its three groups: ``"$ "``, ``" "``, ``"%\n"``.
_ROW_PUNCT = 5
#: The identity part of ``ROW`` (after an optional slug line), for ``judge``.
_IDENT = re.compile(rf"(?:([a-z0-9][a-z0-9-]*)\n)?({_NAME}) \(([A-Za-z0-9]{{1,15}})\) ")
#: ``findall`` at most this many characters at a time.
_WINDOW = 32_768
#: How far from a block's start ``_first_lap`` looks for the start of a repeated lap.
_LAP_SEARCH = 8_192

Row = tuple[str, str, str]
Ident = tuple[str, str, str | None]

#: identity text -> (symbol, name, coin id), or False if the row needs the general path's judgement.
#: Widgets repeat the same few hundred rows, so this nearly always hits. Bounded: at most
#: ``_JUDGED_MAX`` entries of at most ``_JUDGED_KEY_CHARS`` characters (~10 MB worst case).
_judged: dict[str, Ident | bool] = {}
_JUDGED_MAX = 16_384
_JUDGED_KEY_CHARS = 256

#: percent text -> float: ``float()`` costs ~170 ns here and a widget's percents take few distinct
#: values (two decimals, mostly under 10 %). At most ``_PCT_MAX`` keys of at most 9 characters.
_pct_values: dict[str, float] = {}
_PCT_MAX = 65_536

#: The step a price shows, by its count of digits after the dot (0: none, step 1); ``ROW_PRICE``
#: allows at most 12.
_QUANTA = tuple(quantum_of_decimals(d) for d in range(13))
_after_dot = itemgetter(2)  # of str.partition(".")


def ident_of(slug: str, name: str, sym: str) -> str:
    """The identity text of a row matched by ``ROW`` (with ``slug`` above it, or "")."""
    return f"{slug}\n{name} ({sym}) " if slug else f"{name} ({sym}) "


def judge(ident: str) -> Ident | bool:
    """(symbol, name, coin id) of a row's identity text, or False if the fast path must not take it."""
    got = _judged.get(ident)
    if got is not None:
        return got
    row: Ident | bool = False
    m = _IDENT.fullmatch(ident)
    if m is not None:
        slug, name, sym = m.groups()
        symbol = symbol_of(sym, paren=True)
        clean = name.rstrip()
        if symbol is not None and name_ok(clean, False, seed_row=True):
            if not slug:
                row = (symbol, clean, None)
            elif as_slug(slug) == slug:
                row = (symbol, clean, slug if slug_belongs(slug, symbol, clean, adjacent=True) else None)
    if len(ident) <= _JUDGED_KEY_CHARS:
        if len(_judged) >= _JUDGED_MAX:
            _judged.clear()
        _judged[ident] = row
    return row


def scan_rows(text: str, pos: int, rows_re: re.Pattern[str] = ROWS) -> tuple[list[Row], int]:
    """The rows in the unbroken run of row (and slug) lines starting at line start ``pos``, and where
    the run ends. Nothing is judged here. (``rows_re`` is ``ROWS``, or a stand-in that disables.)

    Rows of a marquee's later laps are left out of the list (see ``_first_lap``): they are exact
    copies of rows before them, whose ticks the dedupe drops anyway. The run's end is unchanged."""
    rows: list[Row] = []
    n = len(text)
    lap = _first_lap(text, pos, rows_re)
    if lap is not None:
        rows, pos = lap
    while True:
        # No need to look for the blank line that ends a block first: ``ROWS`` stops at the first line
        # that is not a row (a blank one included) by taking the rest of the window with it.
        final = pos + _WINDOW >= n
        found = rows_re.findall(text, pos, pos + _WINDOW)
        try:
            del found[found.index(_OTHER) :]
            final = True
        except ValueError:
            pass
        if not found:
            return rows, pos
        pos += _length(found)
        rows += found
        if final:
            return rows, pos


def _length(found: list[Row]) -> int:
    """How many characters of text the rows ``found`` cover (one C-level join, no Python loop)."""
    return len("".join(map("".join, found))) + _ROW_PUNCT * len(found)


def _first_lap(text: str, pos: int, rows_re: re.Pattern[str]) -> tuple[list[Row], int] | None:
    """If the text from ``pos`` is a run of rows followed by exact copies of itself (a marquee widget
    loops its list), the rows of the first copy and where the copies end; else None.

    The copies are the same characters at line starts, so ``rows_re`` reads the same rows in them; the
    first copy is checked to be rows from end to end (no other line, nothing left over)."""
    end = text.find("%\n", pos, pos + 512)  # the end of the first row (a slug line has no "%")
    if end < 0:
        return None
    limit = min(len(text), pos + _WINDOW)
    # A second lap starts where the first ends: look for it only so far (a lap of ~150 rows), so a
    # block followed by a long text without blank lines is not searched to the window's end.
    again = text.find(text[pos : end + 2], end + 2, min(limit, pos + _LAP_SEARCH))
    if again < 0 or text[again - 1] != "\n":
        return None
    size = again - pos
    copy = text[pos:again]
    stop = again
    while stop + size <= limit and text.startswith(copy, stop):
        stop += size
    if stop == again:
        return None
    found = rows_re.findall(text, pos, again)
    if not found or _OTHER in found or _length(found) != size:
        return None
    return found, stop


def emit_rows(
    rows: Sequence[Row],
    seen: set[tuple[str, str, float]],
    append: Callable[[Tick], None],
    ts: int,
    source: str,
) -> bool:
    """Append the ticks of ``rows`` (identity, price, percent) not yet in ``seen``; emit nothing and
    return False if any row needs the general path."""
    idents, prices, pcts = zip(*rows, strict=True)
    judged = list(map(_judged.get, idents))
    if not all(judged):
        judged = list(map(judge, idents))
        if not all(judged):
            return False
    # The price grammar allows commas only as thousands separators: drop them once for the block.
    price_f = list(map(float, " ".join(prices).replace(",", "").split(" ")))
    # The step each price's digits show (digits after the dot), in C-level maps: a comprehension
    # calling ``quantum_of_decimals`` per row cost a tenth of this function.
    fractions = map(_after_dot, map(str.partition, prices, repeat(".")))
    quanta = list(map(_QUANTA.__getitem__, map(len, fractions)))
    try:
        pct_f = list(map(_pct_values.__getitem__, pcts))
    except KeyError:
        pct_f = list(map(float, pcts))
        if len(_pct_values) >= _PCT_MAX:
            _pct_values.clear()
        _pct_values.update(zip(pcts, pct_f, strict=True))
    if min(price_f) < MIN_PRICE or max(price_f) > MAX_PRICE_USD or max(pct_f) > MAX_CHANGE_PCT:
        return False  # the general path makes the reject
    add = seen.add
    unfrozen = UNFROZEN
    if unfrozen is None:
        for (symbol, name, coin_id), price, pct, q in zip(judged, price_f, pct_f, quanta, strict=True):  # type: ignore[misc]
            key = (symbol, "USD", price)
            if key not in seen:
                add(key)
                append(make_tick(symbol, name, coin_id, price, "USD", pct, False, ts, source, q))
        return True
    new = object.__new__
    tick_cls = Tick
    for (symbol, name, coin_id), price, pct, q in zip(judged, price_f, pct_f, quanta, strict=True):  # type: ignore[misc]
        key = (symbol, "USD", price)
        if key in seen:
            continue  # a marquee's second lap, or a row repeated on the page
        add(key)
        # make_tick's body, inlined: the call would cost as much as the stores (see ticks.py).
        t = new(unfrozen)
        t.symbol = symbol
        t.name = name
        t.coin_id = coin_id
        t.price = price
        t.currency = "USD"
        t.change_pct = pct
        t.change_sign_known = False
        t.ts = ts
        t.source = source
        t.price_quantum = q
        t.symbol_source = "page"  # SYMBOL_FROM_PAGE, as a constant: a global's load costs more
        t.__class__ = tick_cls  # type: ignore[assignment]
        append(t)  # type: ignore[arg-type]
    return True
