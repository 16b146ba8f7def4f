"""Pages made to be slow: one line repeated, signs every other character, long runs of brackets.

A 1.6 MB page of lines like ``$1$1$1…`` (under the line cap) took 17 s: the general path looked at
every currency sign in Python, and for each searched 40 characters back for a number written before
it. Now the search starts where such a number can start (``anchors.num_before_floor``) and, on a
line with many signs, only signs with a symbol within reach are looked at (``anchors.symbol_reach``).
These tests count the work (calls of ``anchor_at``) rather than time it, and check that both
short cuts give exactly what the full loop gives. Figures: docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.parse import STYLES, names, pcts, prices, symbols
from tickerstream.model import RejectReason
from tickerstream.parse import MAX_LINE_CHARS, SnapshotParser, parse_text, records
from tickerstream.parse import patterns as P
from tickerstream.parse.anchors import NUM_BEFORE_REACH, Anchor, anchor_at, num_before_floor, symbol_reach

SEED = "Bitcoin (BTC) $ 67,000.12 1.23%"
#: Units that, repeated up to the line cap, make lines with a currency marker every few characters and
#: no symbol anywhere: the general path finds nothing on them, after looking at every marker.
SYMBOL_FREE = ["$1", "$1 ", "$", "$-", "12$34%5,", "1,234.56$ ", "1% $", "1,5 € ", "€", "USD 1 ", "($"]


def dense_page(unit: str, lines: int, width: int = MAX_LINE_CHARS - 16) -> str:
    """``lines`` lines of ``unit`` repeated up to ``width``, each a little different (its last digit),
    so neither the line memo nor the layout cache can answer for them."""
    line = unit * (width // len(unit))
    return "".join(f"{line}{i % 10}\n" for i in range(lines))


@contextmanager
def counted_anchors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count the currency markers the general path looks at in Python (``anchor_at`` calls)."""
    calls = [0]

    def counting(line: str, mk: object, cursor: int) -> Anchor | None:
        calls[0] += 1
        return anchor_at(line, mk, cursor)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "anchor_at", counting)
    yield calls


@contextmanager
def full_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The general path as it was: every marker of a line looked at, whatever its reach."""
    with monkeypatch.context() as mp:
        mp.setattr(records, "_FEW_MARKS", 10**9)
        yield


def parsed(text: str) -> tuple[list[bytes], list[tuple[str, str, str]]]:
    result = parse_text(text, ts=1737331200000, source="t")
    return [t.to_json() for t in result.ticks], [(r.reason.value, r.raw, r.detail) for r in result.rejects]


@pytest.mark.parametrize("unit", SYMBOL_FREE)
def test_a_page_of_signs_without_symbols_costs_a_bounded_number_of_looks_per_line(
    monkeypatch: pytest.MonkeyPatch, unit: str
) -> None:
    page = dense_page(unit, lines=25)  # 200 KB: 1-4 s before, at 0.1-0.5 MB/s
    markers = len(P.MARK.findall(page))
    with counted_anchors(monkeypatch) as calls:
        ticks, rejects = parsed(page)
    assert (ticks, rejects) == ([], [])
    # Before: one look per marker (800 to 4,000 a line). Now the first few, then the line is done.
    assert markers > 25 * 800
    assert calls[0] <= 25 * (records._FEW_MARKS + 1)


@pytest.mark.parametrize("unit", [*SYMBOL_FREE, "AB $1 ", "A (B) $1 ", "B$B$", "BTC/USD 1 ", "USD1 "])
def test_skipping_markers_out_of_reach_changes_nothing(monkeypatch: pytest.MonkeyPatch, unit: str) -> None:
    page = dense_page(unit, lines=3)
    with full_loop(monkeypatch):
        want = parsed(page)
    assert parsed(page) == want


@pytest.mark.parametrize("unit", ["$1", "1$", "12$34%5,", "1,234.56$ ", "1 $", "-1.5k€ "])
def test_a_number_before_a_sign_is_searched_for_only_where_it_can_start(unit: str) -> None:
    line = unit * 200
    for cs in (i for i, c in enumerate(line) if c in "$€"):
        floor = num_before_floor(line, 0, cs)
        assert cs - floor <= len(unit) + 1  # not the whole reach: a run of number characters
        old = P.NUM_BEFORE.search(line, max(0, cs - NUM_BEFORE_REACH), cs)
        new = P.NUM_BEFORE.search(line, floor, cs)
        assert (old and (old.span(), old.groupdict())) == (new and (new.span(), new.groupdict()))


def test_one_repeated_line_without_newlines_is_one_reported_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    """1.6 MB of the seed line with no newline: over the line cap, so not scanned, and reported (not
    silently dropped); the same when the text arrives in chunks, as a followed file's does."""
    for unit in (SEED, SEED + " ", "$1%", "9" * 7 + "$%"):
        text = unit * (1_600_000 // len(unit))
        with counted_anchors(monkeypatch) as calls:
            result = parse_text(text, ts=1, source="t")
        assert calls[0] == 0
        assert result.ticks == []
        assert [r.reason for r in result.rejects] == [RejectReason.LINE_TOO_LONG]
        parser = SnapshotParser(ts=1, source="t")
        chunked = [r for i in range(0, len(text), 65_536) for r in parser.feed(text[i : i + 65_536]).rejects]
        chunked += parser.close().rejects
        assert [r.reason for r in chunked] == [RejectReason.LINE_TOO_LONG]


def test_brackets_and_percents_without_signs_are_skipped_at_scan_speed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No currency marker, no price: such lines never reach the general path, long or not."""
    for unit in ("(", "()", "1%", ")("):
        page = dense_page(unit, lines=25) + unit * 1_600_000
        with counted_anchors(monkeypatch) as calls:
            assert parsed(page) == ([], [])
        assert calls[0] == 0


# --- the skip is exact: lines of many records with symbol-free noise between them ------------------

#: Styles that can follow each other on one line (the seed row needs the line to itself).
_INLINE = ["nospace", "suffix", "pct-first", "colon", "pair", "compact", "arrows", "pipe", "flat"]
#: Noise between records: orphan figures and sign soup a ticker line may hold (filler), and, rarely,
#: what makes a line prose (codes inside runs of capitals, brackets, a sign without a number).
_FILLER = ["$1.2T", "$1$1$1$1", "$1" * 100, "USD 5", "24h", "1,234.56$", "|"]
_BREAKING = ["12$34%5,", "XUSD", "USDX", "(", ")", "€", "$"]


def _record(style: str, sym: str, name: str, price: Decimal, pct: Decimal) -> str:
    render: Callable[[str, str, Decimal, Decimal], str] = STYLES[style][0]
    return render(sym, name, price, pct)


records_and_noise = st.tuples(
    st.lists(
        st.one_of(
            st.builds(_record, st.sampled_from(_INLINE), symbols, names, prices, pcts),
            st.lists(st.sampled_from(_FILLER), min_size=1, max_size=12).map(" ".join),
        ),
        min_size=10,
        max_size=60,
    ),
    # One in eight lines gets a piece that makes it prose; the others should stay ticker lines.
    st.tuples(st.integers(min_value=0, max_value=60), st.sampled_from(_BREAKING + [""] * 42)),
).map(lambda parts: " • ".join(_insert(parts[0], parts[1])))


def _insert(items: list[str], extra: tuple[int, str]) -> list[str]:
    at, noise = extra
    return [*items[:at], noise, *items[at:]] if noise else items


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records_and_noise, st.integers(min_value=0, max_value=2))
def test_layout_with_reach_equals_the_full_loop(line: str, ordinal: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(records, "_FEW_MARKS", 10**9)
        want = records.layout_of(line, ordinal)
    got = records.layout_of(line, ordinal)
    event("records found" if got else "not a ticker line")
    event("many markers" if len(P.MARK.findall(line)) > records._FEW_MARKS else "few markers")
    reach = symbol_reach(line)
    if any(not any(a <= m.start() < b for a, b in reach) for m in P.MARK.finditer(line)):
        event("markers out of reach")
    assert got == want
