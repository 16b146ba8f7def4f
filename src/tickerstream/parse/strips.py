"""The layout of a flattened strip from the layouts of its items.

A flattened strip prints its records on one line, ``A (X) $1.00 +1% • B (Y) $2.00 -2% • …``. The line
never repeats as a whole (every price has its own length), so the shape cache cannot help and
``records.layout_of`` took ~60 µs a strip; its items, though, are short lines of recurring shapes. So
a line of items joined by ``SEP`` is laid out item by item, through the shape cache, and the items'
layouts are shifted to where the items sit on the line.

**Why that is the line's layout.** If every item starts with an ASCII letter, every item's layout is
not empty, and every name in them passes the plain name rule (``name_ok``), ``layout_of`` on the line
finds, item after item, exactly the records it finds on each item alone, at the same offsets:

- *Markers*: no currency marker (a sign, or three capitals) holds a blank or ``•``, so none spans
  a separator and the marker scan enters every item as it enters a line.
- *Reads before an item* are bounded below by the cursor (the end of the previous record, before
  the separator) and see the separator's blank where the item alone sees the start of the text.
  Every test that looks there asks for a letter, a digit, a number character, a minus or ``/``
  (``anchor_at``'s fiat-code, pair and ``US$`` tests, ``number_ends_at``, ``NUM_BEFORE``'s and
  ``PAIR_BASE``'s look-behinds, ``_CUR_SIGN``'s ``(?<![A-Za-z])``), so a blank gives the answer the
  start of the text gives. A run of number characters read back from a price (``num_before_floor``)
  may take the blank too, but no number starts on it. The identifier read back from a price
  (``IDENT_REV``) ends at a letter, digit or ``(`` of the item; a bare symbol at the item's start is
  followed (in reversed text) by the blank, which ends it as the end of the text does.
- *Reads past an item's end* see `` • `` where the item alone sees its end. The look-aheads that
  can reach there (``NUMBER``'s, ``SUFFIX``'s, ``_BAD``'s, ``FILLER``'s tokens, ``PCT_AFTER``'s
  optional closing bracket and arrow after ``\\s?``) refuse a blank before ``•`` as they refuse the
  end, and no percent, number or code continues over ``•``.
- *Names*: the name of an item's first record starts where ``FILLER`` stops after the previous
  record. Nothing follows ``FILLER``'s star, so it never backtracks: it takes, left to right, the
  first token that matches. Its separator token (``[\\s|•…]+``) takes `` • `` and stops at the item's
  letter; no other token can hold ``•``; so from there it tokenises the item as on the item alone.
  Before the separator it tokenises the rest of the previous item as the final check of that item's
  layout did, which reached the item's end (the layout is not empty).
- ``_name_ok_here`` consults the whole line (``SEED_ROW``) only for a name the plain rule refuses:
  such a line is laid out whole.

A separator is exactly `` • `` (the form strips print); other joins are laid out whole. Proof by test:
tests/unit/parse/test_strips.py (hypothesis: items of every family, with digit substitutions and
fragments, joined; item-wise == ``layout_of`` whenever the conditions hold).
"""

from __future__ import annotations

from tickerstream.parse.shapes import Layout, Rec

SEP = " • "


def items_of(line: str) -> list[tuple[int, str]] | None:
    """(offset, text) of the items of a strip line, or None if ``line`` is not one (no separator, an
    item that does not start with an ASCII letter)."""
    if SEP not in line:
        return None
    out: list[tuple[int, str]] = []
    at = 0
    for item in line.split(SEP):
        if not item or not ("a" <= item[0] <= "z" or "A" <= item[0] <= "Z"):
            return None
        out.append((at, item))
        at += len(item) + len(SEP)
    return out


def shifted(layout: Layout, offset: int) -> tuple[Rec, ...]:
    """``layout``'s records with their spans moved right by ``offset`` (-1, no span, stays)."""
    if offset == 0:
        return layout
    return tuple(
        (sym, ts if ts < 0 else ts + offset, te if te < 0 else te + offset, paren, attached,
         name, ns if ns < 0 else ns + offset, ne if ne < 0 else ne + offset, currency, neg,
         ds if ds < 0 else ds + offset, de if de < 0 else de + offset, suffix,
         ps if ps < 0 else ps + offset, pe if pe < 0 else pe + offset, mult, known)
        for sym, ts, te, paren, attached, name, ns, ne, currency, neg, ds, de, suffix, ps, pe, mult, known
        in layout
    )  # fmt: skip
