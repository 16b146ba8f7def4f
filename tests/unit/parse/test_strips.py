"""Flattened strips laid out item by item (``parse.strips``): whenever the item-wise layout is used,
it is the layout ``layout_of`` gives the whole line, and parsing through it gives what parsing from
scratch gives. Items of every family (digit substitutions, extra lines, fragment soup), joined by the
strip separator, some with what makes the item-wise layout step aside."""

from __future__ import annotations

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests.unit.parse.test_shapes import EXTRA, digit_substitution, empty_caches, exact, rendered
from tickerstream.parse import records
from tickerstream.parse.records import layout_of, parse_line
from tickerstream.parse.strips import SEP, items_of

#: Items the renderers don't make: a name the plain rule refuses (a seed row's latitude), a fiat
#: code or a market-statistics word first, a bare symbol first, trailing columns, arrows, prose.
ODD_ITEMS = [
    "cat in a dogs world (MEW) $ 0.004 1.5%",
    "USD Coin (USDC) $1.00 +0.01%",
    "Market Cap $2.1T",
    "BTC $62,000 +1.2%",
    "Bitcoin (BTC) $62,000 +1.2% $1.2T",
    "Bitcoin (BTC) $62,000 ▲ 1.2%",
    "Bitcoin (BTC) $62,000 +1.2% ▲",
    "Bitcoin (BTC) 62,000 USD",
    "Bitcoin (BTC) 1,23 €",
    "Bitcoin (BTC) $NaN",
    "mkt cap $3T",
    "the fund raised $120 million",
    "Vol 24h",
    "Bitcoin (BTC) $62,000 24",
    "Bitcoin (BTC) $62,000 1h",
    "k $5",
    "bK 1,2 €",
]
FRAGMENTS_OF_ITEMS = [
    "Bitcoin",
    " (BTC)",
    " $",
    "$",
    "62,000",
    " +1.2%",
    "%",
    " ",
    "USD",
    "-",
    "▲",
    "(",
    "k",
    "|",
]

items = st.one_of(
    rendered().filter(lambda s: "\n" not in s),
    st.sampled_from(EXTRA),
    st.sampled_from(ODD_ITEMS),
    st.lists(st.sampled_from(FRAGMENTS_OF_ITEMS), min_size=1, max_size=8).map("".join),
)


@st.composite
def strips(draw: st.DrawFn) -> str:
    parts = draw(st.lists(items, min_size=2, max_size=5))
    return draw(digit_substitution(SEP.join(parts)))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strips(), st.integers(min_value=0, max_value=2))
@example("Zorka Token (ZORK) $255.68 +1.66% • Paqu Token (PAQU) $0.063979 -1.09%", 0)
@example("cat in a dogs world (MEW) $ 0.004 1.5% • Bitcoin (BTC) $ 62,000.00 1.2%", 0)
def test_item_wise_layout_is_the_line_layout(line: str, ordinal: int) -> None:
    with empty_caches():
        got = records._strip_layout(line, ordinal)
        event("laid out item by item" if got is not None else "laid out whole")
        if got is not None:
            assert got == layout_of(line, ordinal)
        assert exact(records._parse_by_shape(line, ordinal)) == exact(parse_line(line, ordinal))


def test_items_of_refuses_non_strips() -> None:
    assert items_of("Bitcoin (BTC) $1.00 +1%") is None
    assert items_of("Bitcoin (BTC) $1.00 • (ETH) $2.00") is None  # an item starts with "("
    assert items_of("A $1 •  B $2") is None  # an item starts with a blank
    assert items_of(f"A $1{SEP}B $2") == [(0, "A $1"), (7, "B $2")]
