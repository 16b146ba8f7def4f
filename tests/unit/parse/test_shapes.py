"""The layout cache (``parse.shapes``): a line parsed with the layout of an earlier line of the same
shape gives exactly what parsing it from scratch gives (same records, rejects and order), on lines of
every family with random digit substitutions; shapes that read particular digits keep them; the cache
stays bounded."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from tests.support.parse import (
    FRAGMENTS,
    STYLES,
    assert_same,
    general_path_only,
    names,
    pcts,
    prices,
    symbols,
)
from tickerstream.parse import parse_text, records, shapes
from tickerstream.parse.records import Bad, Found, layout_of, parse_line
from tickerstream.parse.shapes import shape_of
from tickerstream.parse.vocab import NOT_SYMBOLS


@contextmanager
def empty_caches() -> Iterator[None]:
    """Fresh layout cache and line memo, restored afterwards."""
    saved = dict(shapes.layouts), dict(records._memo)
    shapes.layouts.clear()
    records._memo.clear()
    try:
        yield
    finally:
        shapes.layouts.clear()
        shapes.layouts.update(saved[0])
        records._memo.clear()
        records._memo.update(saved[1])


def exact(items: Sequence[Found | Bad]) -> list[tuple[object, ...]]:
    """Records with floats compared by their repr (so -0.0 != 0.0), reasons and details included."""

    def v(x: object) -> object:
        return repr(x) if isinstance(x, float) and (x == 0 or not math.isfinite(x)) else x

    return [(type(i).__name__, *(v(getattr(i, f)) for f in i.__slots__)) for i in items]


def cached_after(first: str, line: str, ordinal: int) -> list[Found | Bad]:
    """Parse ``first`` through the caches, then ``line`` (a hit if their shapes are equal)."""
    records.parse_line_cached(first, ordinal)
    return list(records.parse_line_cached(line, ordinal))


#: Lines the renderers don't make: table rows with 1h/24h/7d columns (several percent columns),
#: labels whose digits the grammar reads, rank numbers, suffixes, rejects, prose quoting prices.
EXTRA = [
    "| 1 | Wrapped Bitcoin | WBTC | $107,477.63 | -1.6% | +5.20% | -18.9% | $752.4B |",
    "1 Bitcoin BTC $62,700.12 1.2% $1.2T 2 Ethereum ETH $3,000 -0.5% $400B",
    "BTC $62,000 24h +1.2% 7d -3.4% 1h 0.2%",
    "BTC $62,000 (24 h) +1.2%",
    "Bitcoin (BTC) $ 104,442.98 0.48% 24h Vol $52B",
    "Nikkei (N225) ¥38,000 +0.3%",
    "Foo (X-12) $ 3.50 1.25%",
    "USDT0 (USDT0) $ 1.00 0.01%",
    "1INCH $0.35 -2.1%",
    "btc$62.7k-0.9%eth$1.8k-0.7%",
    "Bitcoin (BTC) ₩140.5M +0.3%",
    "Bitcoin (BTC) € 1,234 -1,2%",
    "Bitcoin (BTC) € 1.234 +1.2%",
    "Bitcoin (BTC) $ 0.00 0.5%",
    "Bitcoin (BTC) $ 99,999,999,999 0.5%",
    "Bitcoin (BTC) $ 1.00 5000%",
    "Bitcoin (BTC) $ 1,23,4 0.5%",
    "Bitcoin (BTC) -$5.00 0.5%",
    "Bitcoin (BTC) 101868.45$ +0.5%",
    "BTC 62,700 USD +1.2%",
    "ETH/EUR 1.700,50 -0,3%",
    "Tether (USDT) 0,9998 € −0,01%",
    "Bitcoin hit $100,000 on Monday, its highest level in weeks.",
    "The fund raised $120 million from investors last year.",
    "Market Cap: $2.1T",
    "3 $1.00 Tether USDT",
    "Prices: BTC $62,000 +1.2% ETH $3,000 -0.5%",
    "PEPE $0.0₄1234 +5.1%",
]


@st.composite
def rendered(draw: st.DrawFn) -> str:
    render = STYLES[draw(st.sampled_from(sorted(STYLES)))][0]
    text: str = render(draw(symbols), draw(names), draw(prices), draw(pcts))
    return text.rsplit("\n", 1)[-1]  # the record line (without the slug line of "seed+slug")


lines = st.one_of(
    rendered(),
    st.sampled_from(EXTRA),
    st.lists(st.sampled_from(FRAGMENTS), max_size=20).map(lambda f: "".join(f).replace("\n", " ")),
)


@st.composite
def digit_substitution(draw: st.DrawFn, line: str) -> str:
    """``line`` with some of its ASCII digits replaced by random digits (zeros included)."""
    chars = list(line)
    for i, c in enumerate(chars):
        if "0" <= c <= "9" and draw(st.booleans()):
            chars[i] = draw(st.sampled_from("0123456789"))
    return "".join(chars)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), lines, st.integers(min_value=0, max_value=2))
@example(None, EXTRA[0], 1).via("table row, 24 h column")  # type: ignore[arg-type]
def test_cached_parse_equals_uncached(data: st.DataObject, first: str, ordinal: int) -> None:
    if data is None:  # the explicit example: a digit changed in every number
        second = first.replace("4", "9").replace("1", "0")
    else:
        second = data.draw(digit_substitution(first))
    with empty_caches():
        got = cached_after(first, second, ordinal)
    assert exact(got) == exact(parse_line(second, ordinal))
    s1, s2 = shape_of(first, ordinal), shape_of(second, ordinal)
    event("same shape (a cache hit)" if s1 is not None and s1 == s2 else "other shape or not cached")
    if s1 is not None and s1 == s2:
        # The lemma itself (see shapes' docstring): one shape, one layout.
        assert layout_of(first, ordinal) == layout_of(second, ordinal)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(STYLES)), symbols, names, prices, pcts, prices, pcts)
def test_rows_with_new_numbers_hit_and_read_their_own_numbers(
    style: str, sym: str, name: str, p1: Decimal, c1: Decimal, p2: Decimal, c2: Decimal
) -> None:
    render = STYLES[style][0]
    first, second = (render(sym, name, p, c).rsplit("\n", 1)[-1] for p, c in ((p1, c1), (p2, c2)))
    with empty_caches():
        got = cached_after(first, second, 0)
    assert exact(got) == exact(parse_line(second, 0))


def test_a_row_of_a_known_shape_is_not_laid_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = "| 1 | Wrapped Bitcoin | WBTC | $107,477.63 | -1.6% | +5.20% | -18.9% | $752.4B |"
    second = "| 7 | Wrapped Bitcoin | WBTC | $108,012.07 | -0.3% | +1.07% | -11.2% | $640.9B |"
    with empty_caches():
        records.parse_line_cached(first, 1)

        def fail(line: str, ordinal: int = 0) -> None:
            raise AssertionError("layout_of called on a cache hit")

        monkeypatch.setattr(records, "layout_of", fail)
        got = records.parse_line_cached(second, 1)
    assert [(f.symbol, f.price, f.change_pct) for f in got if isinstance(f, Found)] == [
        ("WBTC", 108012.07, 1.07)
    ]


# -- shapes keep the digits the grammar reads --------------------------------------------------------


@pytest.mark.parametrize("token", sorted(s for s in NOT_SYMBOLS if re.search(r"\d", s)))
def test_not_symbols_with_digits_keep_their_digits(token: str) -> None:
    """``symbol_of`` reads these digits (NOT_SYMBOLS): a token that differs only in them must not share
    a shape (if this fails after a vocab change, extend ``shapes._KEPT``)."""
    other = re.sub(r"\d", lambda m: "1" if m.group() != "1" else "2", token)
    for t, o in ((token, other), (token.lower(), other.lower())):
        for line in (f"Foo ({t}) $ 1.00 0.5%", f"{t} $1.00 +0.5%", f"{t}/USD 1.00"):
            assert shape_of(line, 0) != shape_of(line.replace(t, o), 0), line


@pytest.mark.parametrize(
    "label", ["24h", "24H", "24 h", "1h", "1H", "7d", "7D", "(24h)", "24h Vol", "24\u00a0h"]
)
def test_filler_labels_keep_their_digits(label: str) -> None:
    line = f"BTC $62,000 {label} +1.2%"
    other = re.sub(r"\d", "3", label)
    assert shape_of(line, 0) != shape_of(line.replace(label, other), 0)


def test_prices_percents_and_ranks_are_blurred() -> None:
    a = shape_of("| 1 | Bitcoin | BTC | $62,700.12 | +0.1% | +1.2% | $1.2T |", 1)
    b = shape_of("| 9 | Bitcoin | BTC | $98,100.55 | +7.3% | +4.0% | $3.8T |", 1)
    assert a is not None and a == b


def test_subscript_and_long_lines_are_not_cached() -> None:
    assert shape_of("PEPE $0.0₄1234 +5.1%", 0) is None
    assert shape_of("x" * (shapes.MAX_SHAPE_CHARS + 1), 0) is None
    assert shape_of("x" * shapes.MAX_SHAPE_CHARS, 0) is not None


# -- bounds ------------------------------------------------------------------------------------------


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shapes, "MAX_LAYOUTS", 5)
    with empty_caches():
        for i in range(40):
            line = f"Coin{'x' * i} (C{'X' * i}) $ 1.00 0.5%"  # a new shape each time
            assert list(records.parse_line_cached(line)) == parse_line(line)
            assert len(shapes.layouts) <= 5
        many = " ".join(f"C{'X' * (i + 1)} $1.00 +1.0%" for i in range(shapes.MAX_LAYOUT_RECORDS + 1))
        assert len(parse_line(many)) == shapes.MAX_LAYOUT_RECORDS + 1
        shapes.layouts.clear()
        records.parse_line_cached(many)
        assert shapes.layouts == {}  # too many records to be worth caching


# -- whole pages ---------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.lists(lines, min_size=1, max_size=12))
def test_pages_parsed_warm_equal_the_general_path(data: st.DataObject, page_lines: list[str]) -> None:
    """A page, then the same page with new numbers (warm caches), equals the general path alone."""
    page = "\n".join(page_lines) + "\n"
    again = data.draw(digit_substitution(page))
    assume(again != page or len(page_lines) > 1)
    with empty_caches():
        parse_text(page, ts=1, source="t")
        warm = parse_text(again, ts=1, source="t")
    with general_path_only():
        cold = parse_text(again, ts=1, source="t")
    assert_same(warm, cold)
