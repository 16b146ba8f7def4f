"""Where ``patterns.HIT`` matches in a text (a currency sign, or a fiat code), found with ``bytes.find``.

``HIT.search`` steps through prose in the regex engine at ~60 instructions a character (one call of
its character-class test per position), about a tenth of a page's parse. ``HIT`` matches exactly at
a sign, or where three capitals spell a fiat code, so the text is recast once per scan as one byte
per character: ``A`` for every capital, ``$`` for every sign, and ``find`` (memchr speed) jumps from
one candidate to the next; each candidate is then checked on the text itself.

The byte of a character is the low byte of its UTF-16 code unit (the text itself for ASCII). Every
capital and every sign lands on its marker byte, so no match is missed; other characters may land
there too (``Ł`` is U+0141, ``․`` U+2024), and the check on the text drops them. Texts that are
neither ASCII nor one UTF-16 unit per character (emoji, lone surrogates) keep ``HIT.search``.
"""

from __future__ import annotations

from collections.abc import Callable

from tickerstream.parse import patterns as P
from tickerstream.parse.vocab import FIAT_CODES

#: Capitals -> ``A``; ``$`` and the low bytes of the other signs -> ``$``; every other byte as is,
#: so a ``$`` or ``A`` after the translation is a candidate, never a miss.
_MARKERS = bytes.maketrans(
    bytes(range(ord("A"), ord("Z") + 1)) + bytes(ord(s) & 0xFF for s in sorted(P.SIGN_CHARS)),
    b"A" * 26 + b"$" * len(P.SIGN_CHARS),
)
assert all(len(c) == 3 and c.isascii() and c.isupper() for c in FIAT_CODES)  # what ``AAA`` finds

_NONE = 1 << 62
#: ``next_hit(pos)``: where the first ``HIT`` match at or after ``pos`` starts, -1 if none.
NextHit = Callable[[int], int]


def hit_finder(text: str) -> NextHit:
    """``next_hit`` for ``text``, to be called with non-decreasing positions (it keeps the next
    candidate of each kind between calls)."""
    if text.isascii():
        lows = text.encode("ascii")
    else:
        try:
            units = text.encode("utf-16-le")
        except UnicodeEncodeError:  # a lone surrogate
            return _by_regex(text)
        if len(units) != 2 * len(text):  # characters outside the BMP: two units each
            return _by_regex(text)
        lows = units[::2]
    marked = lows.translate(_MARKERS)
    find = marked.find
    signs = P.SIGN_CHARS
    sign = caps = -1  # the next candidate of each kind (_NONE: none left), valid while >= pos

    def next_hit(pos: int) -> int:
        nonlocal sign, caps
        at = pos
        while sign < at:
            sign = find(b"$", at)
            if sign < 0:
                sign = _NONE
            elif text[sign] not in signs:
                at = sign + 1
        # ``sign`` is the first sign at or after ``pos``: a fiat code before it comes first.
        while True:
            if caps < pos:
                caps = find(b"AAA", pos)
                if caps < 0:
                    caps = _NONE
            if caps >= sign:
                return -1 if sign == _NONE else sign
            if text[caps : caps + 3] in FIAT_CODES:
                return caps
            pos = caps + 1

    return next_hit


def _by_regex(text: str) -> NextHit:
    search = P.HIT.search

    def next_hit(pos: int) -> int:
        h = search(text, pos)
        return -1 if h is None else h.start()

    return next_hit
