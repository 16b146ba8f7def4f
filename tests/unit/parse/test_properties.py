"""Hypothesis properties: every supported style round-trips a generated tick; no input makes the
parser raise; feeding a snapshot in arbitrary chunks gives the same result as parsing it whole.

The renderers of every style, their hypothesis strategies and the text fragments are shared with the
other parser tests (``tests.support.parse``)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.parse import FRAGMENTS, STYLES, names, pcts, prices, symbols
from tests.support.schemas import assert_valid_records
from tickerstream.model import Tick
from tickerstream.parse import SnapshotParser, parse_bytes, parse_text


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(style=st.sampled_from(sorted(STYLES)), sym=symbols, name=names, price=prices, pct=pcts)
@example(style="seed", sym="POL", name="POL (ex-MATIC)", price=Decimal("0.413496"), pct=Decimal("2.56"))
# A symbol whose tail is a fiat code after a digit is no "0 CAD" price (found by this test).
@example(style="pair", sym="AA0CAD", name="Bit", price=Decimal("0.01"), pct=Decimal("0"))
@example(style="arrows", sym="AA0CAD", name="Bit", price=Decimal("0.01"), pct=Decimal("0"))
def test_render_then_parse_round_trips(style: str, sym: str, name: str, price: Decimal, pct: Decimal) -> None:
    render, currency, shows_name, shows_sign = STYLES[style]
    text = render(sym, name, price, pct)
    result = parse_text(text, ts=7, source="rt")
    assert result.rejects == []
    expected = Tick(
        symbol=sym,
        name=name if shows_name else "",
        coin_id=f"{sym.lower()}-id" if style == "seed+slug" else None,
        price=float(price),
        currency=currency,
        change_pct=float(pct if shows_sign else abs(pct)),
        change_sign_known=shows_sign,
        ts=7,
        source="rt",
        # every style prints the Decimal's own digits: the step is its last decimal place
        price_quantum=float(f"1e{price.as_tuple().exponent}"),
    )
    assert result.ticks[:1] == [expected], text
    assert_valid_records(result.ticks, result.rejects)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = parse_text(text, ts=0)
    assert_valid_records(result.ticks, result.rejects)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = parse_bytes(data, ts=0)
    assert_valid_records(result.ticks, result.rejects)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from([*FRAGMENTS, "usd-coin\nUSDC (USDC) $ 1.00 0.01%\n", "| # | Price | 24h % |\n"]),
        max_size=30,
    ).map("".join),
    st.lists(st.integers(min_value=1, max_value=20), max_size=20),
)
def test_chunked_feed_equals_whole(text: str, cuts: list[int]) -> None:
    whole = parse_text(text, ts=3, source="c")
    parser = SnapshotParser(ts=3, source="c")
    ticks, rejects, pos = [], [], 0
    for n in cuts:
        out = parser.feed(text[pos : pos + n])
        ticks += out.ticks
        rejects += out.rejects
        pos += n
    out = parser.feed(text[pos:])
    end = parser.close()
    assert ticks + out.ticks + end.ticks == whole.ticks
    assert rejects + out.rejects + end.rejects == whole.rejects


def test_a_byte_order_mark_is_stripped_however_the_stream_is_cut() -> None:
    """Found by the property above: the BOM hid the slug line from the chunked parser."""
    text = "\ufeffusd-coin\nUSDC (USDC) $ 1.00 0.01%\n"
    assert [t.coin_id for t in parse_text(text, ts=3, source="c").ticks] == ["usd-coin"]
    for cut in range(len(text) + 1):
        parser = SnapshotParser(ts=3, source="c")
        ticks = parser.feed(text[:cut]).ticks + parser.feed(text[cut:]).ticks + parser.close().ticks
        assert [t.coin_id for t in ticks] == ["usd-coin"], cut
