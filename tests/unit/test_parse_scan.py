"""Shortcuts on the scanning path keep the exact results of the longer way: ``HIT`` finds the lines
stepping through ``MARK`` found, and ``read_number``'s fast path reads what its general rules read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_parse_properties import FRAGMENTS

from tickerstream.parse import patterns as P
from tickerstream.parse.numbers import Ambiguous, read_number
from tickerstream.parse.vocab import FIAT_CODES


def hits_by_stepping_mark(text: str) -> list[int]:
    """Where the scanner used to stop: a sign, or three capitals that are a fiat code (a non-fiat
    three-capital match was skipped by one character)."""
    out, pos = [], 0
    while (h := P.MARK.search(text, pos)) is not None:
        if not (h.end() - h.start() == 3 and h.group() not in FIAT_CODES):
            out.append(h.start())
        pos = h.start() + 1
    return out


def hits(text: str) -> list[int]:
    out, pos = [], 0
    while (h := P.HIT.search(text, pos)) is not None:
        out.append(h.start())
        pos = h.start() + 1
    return out


texts = st.one_of(
    st.text(alphabet="ABCDEURSGPXYZ$€£ abc\n|", max_size=40),
    st.lists(st.sampled_from([*FRAGMENTS, "XUSD", "USDT", "EURUSD", "AUSD$", "WBTC", "C$"]), max_size=12).map(
        "".join
    ),
)


@given(texts)
def test_hit_stops_where_stepping_through_mark_stopped(text: str) -> None:
    assert hits(text) == hits_by_stepping_mark(text)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("104442", 104442.0), ("0.413496", 0.413496), ("3.08", 3.08), (".5", 0.5), ("0.123", 0.123), ("7", 7.0)],
)
def test_read_number_plain_forms(raw: str, value: float) -> None:
    for comma_page in (False, True):
        assert read_number(raw, comma_page) == value
        assert read_number(raw, lambda c=comma_page: c) == value  # type: ignore[misc]


@pytest.mark.parametrize("raw", ["1.234", "00.123", "01.234", "1234.567", "999.999"])
def test_read_number_three_decimals_after_a_nonzero_integer_stay_ambiguous_on_comma_pages(raw: str) -> None:
    assert read_number(raw, False) == float(raw)
    with pytest.raises(Ambiguous):
        read_number(raw, True)
    with pytest.raises(Ambiguous):
        read_number(raw, lambda: True)


def test_read_number_still_strips_grouping_spaces_and_reads_subscripts() -> None:
    assert read_number("1'234.5") == 1234.5
    assert read_number("1\u00a0234,5", True) == 1234.5
    assert read_number("0.0₄12") == 0.000012
