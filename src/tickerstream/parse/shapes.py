"""The layout cache: a line's *shape* (its text with the digits of numbers blurred) -> its layout.

Widgets print the same rows over and over with only the numbers changing, and finding where the
records are (``records.layout_of``, 10-30 µs a line) costs ten times more than reading the numbers
back out of known places (``records.materialise``, ~2 µs). So layouts are cached by shape, and a line
of a known shape only has its values read.

**Why a shape determines the layout.** ``shape_of`` maps every ASCII digit to ``1`` except the digit
runs *kept* verbatim: those followed by ``h``/``d`` (optionally after one blank: ``24h``, ``1h``,
``7d``, ``24 h``) and those after an ``n``/``N`` (``N225``). Two lines of one shape differ only in
digit values outside kept runs, and no decision ``layout_of`` takes depends on those values:

- every regex it runs (``patterns``) names digits only through classes holding all of 0-9 (``\\d``,
  ``[A-Za-z0-9]``, ``\\w``) or none of them, so its matches and group spans are the same on both
  lines; the exceptions are ``FILLER``'s ``24\\s?[hH]|1[hH]|7[dD]`` and ``24h vol``, whose digits are
  in kept runs, and ``NUMBER``'s subscript form ``0[.,]0[₀-₉]``: lines with subscript digits are not
  cached;
- the Python tests on characters (``isdigit``, ``isalpha``, ``isupper``) treat all ASCII digits alike;
- ``symbol_of`` reads digit values only through ``NOT_SYMBOLS`` (``24H``, ``1H``, ``7D``, ``N225``:
  kept runs; a test fails if an entry is added whose digits would not be kept); ``name_ok``'s word
  lists hold no digits;
- what does read values (price and percent digits, range checks, the decimal-comma context and
  ``Ambiguous``, ``Bad`` details, the symbol and name text) is in ``materialise``, redone on the line
  itself on every hit.

A symbol or name without digits is stored in the layout (it is the same text on every line of the
shape); one with digits is read off each line and re-checked, and ``materialise`` refuses a layout
that does not fit (never seen; it would be a bug in the argument above). The property test
tests/unit/parse/test_shapes.py checks cached == uncached on generated lines of every family with
random digit substitutions.

**Bounds.** Only lines of at most ``MAX_SHAPE_CHARS`` characters are cached, with at most
``MAX_LAYOUT_RECORDS`` records (longer lines are flattened strips whose numbers never all repeat);
the cache holds at most ``MAX_LAYOUTS`` shapes and is cleared when full. An entry is ~0.9 KB for a
table row and ~3 KB in a bad case (256 characters of 3-byte UTF-8, four records with 50-character
names), under 4 KB in any case, so the cache stays under ~32 MB.
"""

from __future__ import annotations

import re

#: One record of a line as positions and flags, no values: (symbol, symbol token start, end, in
#: parentheses, glued to a currency sign, name, name start, end, currency, minus sign, price digits
#: start, end (-1 if a placeholder such as ``NaN`` stands there), magnitude suffix, percent digits
#: start, end (-1 if none), percent sign multiplier, percent sign known). A symbol or name without
#: ASCII digits is the same text on every line of the same shape, so it is stored (start -1);
#: one with digits is stored as "" and read off each line.
Rec = tuple[str, int, int, bool, bool, str, int, int, str, bool, int, int, str, int, int, int, bool]
#: All records of a line; empty if the line is not a ticker line (prose, unexplained text).
Layout = tuple[Rec, ...]

MAX_SHAPE_CHARS = 256
MAX_LAYOUT_RECORDS = 4
MAX_LAYOUTS = 8192

#: Blurring works on the UTF-8 bytes (``bytes.translate`` is several times faster than
#: ``str.translate``); ASCII digit bytes never occur inside a multi-byte character.
_BLUR = bytes.maketrans(b"0123456789", b"1111111111")
#: Digit runs kept verbatim in a shape (see the module docstring). ``(?<!\d)`` makes a match a whole
#: run, and the pattern reads digits only through ``\d``, so it finds the same runs at the same places
#: on a line and on its blurred text.
_KEPT = re.compile(r"(?<!\d)\d+(?=\s?[hHdD])|[nN]\d+")
#: Whether ``_KEPT`` finds anything (rarely), ~5x cheaper: one leading class of six letters, which the
#: regex engine skips to at C speed (``_KEPT`` tries every digit; a top-level alternation of classes
#: would try every position).
_KEPT_HINT = re.compile(r"[hHdDnN](?:(?<=\d[hHdD])|(?<=\d\s[hHdD])|(?<=[nN])(?=\d))")
_SUBSCRIPT = re.compile(r"[₀-₉]")

#: (blurred UTF-8 line, kept runs concatenated, percent column). The blurred line fixes where the
#: kept runs are and how long each is, so the concatenation restores them unambiguously.
Shape = tuple[bytes, str, int]

layouts: dict[Shape, Layout] = {}


def shape_of(line: str, pct_ordinal: int) -> Shape | None:
    """The cache key of ``line``, or None if the line is not cached (too long, subscript digits)."""
    if len(line) > MAX_SHAPE_CHARS or (not line.isascii() and _SUBSCRIPT.search(line)):
        return None
    kept = "".join(_KEPT.findall(line)) if _KEPT_HINT.search(line) else ""
    return line.encode().translate(_BLUR), kept, pct_ordinal


def remember(shape: Shape, layout: Layout) -> None:
    """Cache ``layout`` for ``shape`` within the bounds above."""
    if len(layout) <= MAX_LAYOUT_RECORDS:
        if len(layouts) >= MAX_LAYOUTS:
            layouts.clear()
        layouts[shape] = layout
