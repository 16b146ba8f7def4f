"""Shortcuts on the scanning path keep the exact results of the longer way: ``HIT`` finds the lines
stepping through ``MARK`` found, ``read_number``'s fast path reads what its general rules read, a
marquee's later laps (read once) give what the general path gives, and the slug look-back's
first-character shortcut finds what the full look-back found."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.parse import FRAGMENTS, assert_same, both_ways
from tickerstream.parse import SnapshotParser, widget
from tickerstream.parse import patterns as P
from tickerstream.parse.hits import hit_finder
from tickerstream.parse.numbers import Ambiguous, quantum_of_decimals, read_number, shown_quantum
from tickerstream.parse.slugs import as_slug
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


#: Characters whose UTF-16 low byte is a marker's (``Ł`` U+0141 -> ``A``, ``․`` U+2024 -> ``$``, ``Ƭ``
#: U+01AC shares ``€``'s), emoji (two UTF-16 units), a lone surrogate (no UTF-16 at all), Latin-1.
_ODD = ["Ł", "․", "Ƭ", "Ř", "🔺", "\ud800", "é", "¥", "₩", "₫"]
hit_texts = st.one_of(
    texts,
    st.lists(
        st.sampled_from(["USD", "EUR", "XUSD", "WBTC", "ABC", "$", "€", "a", " ", "\n", *_ODD]), max_size=16
    ).map("".join),
    st.text(max_size=30),
)


@given(hit_texts, st.lists(st.integers(0, 4), max_size=20))
@example("a․b ŁŁŁ USD", [])  # candidates that the check on the text must drop
@example("€ XUSD ƬŘ\n$", [2, 3])
@example("🔺 USD $", [])  # a text that keeps ``HIT.search``
@settings(max_examples=300)
def test_hit_finder_equals_hit_search(text: str, jumps: list[int]) -> None:
    """``hit_finder`` gives ``HIT.search``'s start from any non-decreasing sequence of positions."""
    next_hit = hit_finder(text)
    pos = 0
    for jump in [*jumps, *([1] * (len(text) + 1))]:
        if pos > len(text):
            break
        h = P.HIT.search(text, pos)
        assert next_hit(pos) == (-1 if h is None else h.start())
        pos += jump


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


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("107,477.63", 107477.63),
        ("1,234,567", 1234567.0),
        ("1,234,567.5", 1234567.5),
        ("107.477,63", 107477.63),
        ("1.234.567", 1234567.0),
        ("0,9998", 0.9998),
        ("1,2345", 1.2345),
        ("0,123", 0.123),
    ],
)
def test_read_number_grouped_and_comma_forms(raw: str, value: float) -> None:
    assert read_number(raw, False) == value
    assert read_number(raw, True) == value


@pytest.mark.parametrize("raw", ["12,34,567", "1,23.5", "1.2345.678", "1234,567.8"])
def test_read_number_bad_grouping_is_still_an_error(raw: str) -> None:
    with pytest.raises(ValueError):
        read_number(raw)


def test_read_number_one_comma_three_digits_is_still_ambiguous_on_comma_pages() -> None:
    assert read_number("1,234", False) == 1234.0
    with pytest.raises(Ambiguous):
        read_number("1,234", True)


def test_read_number_still_strips_grouping_spaces_and_reads_subscripts() -> None:
    assert read_number("1'234.5") == 1234.5
    assert read_number("1\u00a0234,5", True) == 1234.5
    assert read_number("0.0₄12") == 0.000012


# -- marquee laps --------------------------------------------------------------------------------------

ROW_LINES = [
    "bitcoin\nBitcoin (BTC) $ 104,442.98 0.48%",
    "ethereum\nEthereum (ETH) $ 3,259.53 2.32%",
    "Tether (USDT) $ 1.00 0.01%",
    "wrapped-bitcoin\nWrapped Bitcoin (WBTC) $ 104,314.95 0.51%",
    "usd-coin\nUSDC (USDC) $ 1.00 0.01%",
    "dai\nDai (DAI) $ 0 0.01%",  # a reject: the block goes row by row
]
OTHER_LINES = ["Some prose.", "", "Ethereum (ETH) $3,179.87 +1.55%", "x" * 80]


@given(
    st.lists(st.sampled_from(ROW_LINES), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=4),
    st.lists(st.sampled_from(ROW_LINES + OTHER_LINES), max_size=4),
    st.lists(st.sampled_from(OTHER_LINES), max_size=2),
)
def test_marquee_laps_equal_general_path(lap: list[str], laps: int, tail: list[str], head: list[str]) -> None:
    text = "\n".join([*head, *(lap * laps), *tail]) + "\n"
    fast, slow = both_ways(text)
    assert_same(fast, slow)


@given(
    st.lists(st.sampled_from(ROW_LINES[:5]), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=4),
    st.lists(st.sampled_from(ROW_LINES + OTHER_LINES), max_size=4),
)
def test_first_lap_only_drops_exact_copies(lap: list[str], laps: int, tail: list[str]) -> None:
    text = "\n".join(lap * laps + tail) + "\n"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(widget, "_first_lap", lambda *a: None)
        all_rows, end = widget.scan_rows(text, 0)
    rows, end_laps = widget.scan_rows(text, 0)
    assert end_laps == end
    assert list(dict.fromkeys(rows)) == list(dict.fromkeys(all_rows))  # same rows, first seen order
    assert all(r in rows for r in all_rows)


def test_repeat_found_mid_line_is_not_a_lap() -> None:
    # "bitcoin\nBitcoin (BTC) ..." also occurs inside "wrapped-bitcoin\nBitcoin (BTC) ..."
    text = "bitcoin\nBitcoin (BTC) $ 1.00 0.5%\nwrapped-bitcoin\nBitcoin (BTC) $ 1.00 0.5%\n"
    assert widget._first_lap(text, 0, widget.ROWS) is None
    fast, slow = both_ways(text)
    assert_same(fast, slow)


def test_two_laps_are_read_once() -> None:
    lap = "\n".join(ROW_LINES[:5]) + "\n"
    rows, end = widget.scan_rows(lap * 2 + "Footer\n", 0)
    assert len(rows) == 5 and end == 2 * len(lap)


# -- slug look-back ----------------------------------------------------------------------------------


def slug_before_reference(text: str, ls: int) -> tuple[str | None, bool]:
    """``SnapshotParser._slug_before`` as it was before its first-character shortcut (one chunk)."""
    end, blanks = ls - 1, 0
    while blanks <= 3:
        if end < 0:
            return None, False
        start = text.rfind("\n", 0, end) + 1
        prev = text[start:end]
        if prev and not prev.isspace():
            return as_slug(prev), blanks == 0
        blanks += 1
        end = start - 1
    return None, False


above = st.sampled_from(
    [
        "bitcoin",
        "  usd-coin ",
        "1inch",
        "avalanche-2\r",
        "Bitcoin",
        "-x",
        "",
        " ",
        "\t",
        "ß-coin",
        "42",
        "a b",
    ]
)


@given(st.lists(above, max_size=6))
def test_slug_look_back_equals_reference(lines: list[str]) -> None:
    text = "\n".join([*lines, "Bitcoin (BTC) $ 1.00 0.5%"]) + "\n"
    ls = text.rfind("Bitcoin (BTC)")
    parser = SnapshotParser(ts=1, source="t")
    assert parser._slug_before(text, ls) == slug_before_reference(text, ls)


def shown_quantum_by_generator(raw: str, value: float) -> float | None:
    """``shown_quantum`` as it counted digits before (a generator over the characters)."""
    if not raw.isascii():
        return None
    if value >= 1:
        raw = raw.lstrip("0,.' ")
        decimals = sum(c.isdigit() for c in raw) - len(str(int(value)))
    else:
        cut = max(raw.rfind("."), raw.rfind(","))
        decimals = sum(c.isdigit() for c in raw[cut + 1 :]) if cut >= 0 else 0
    return None if decimals < 0 else float(f"1e-{decimals}")


price_digits = st.one_of(
    st.text(alphabet="0123456789,.' ", min_size=1, max_size=24),
    st.text(alphabet="0123456789,.'a₀₅٣", min_size=1, max_size=12),
    st.from_regex(P.NUMBER, fullmatch=True),
)


@given(price_digits)
@example("0,001.00")
@example("000,000.0001")
@example("1" + "0" * 25)
def test_shown_quantum_counts_digits_as_before(raw: str) -> None:
    try:
        value = read_number(raw)
    except ValueError:
        value = 1.5  # the count does not depend on the value having come from these digits
    if value == value and value not in (float("inf"), float("-inf")):
        assert shown_quantum(raw, value) == shown_quantum_by_generator(raw, value)
    for other in (0.5, 3.0, 12345.0):
        assert shown_quantum(raw, other) == shown_quantum_by_generator(raw, other)


def test_quantum_of_decimals_is_the_float_literal() -> None:
    for d in range(60):
        q = quantum_of_decimals(d)
        assert type(q) is float and q == float(f"1e-{d}")
    with pytest.raises(ValueError):
        quantum_of_decimals(-1)
