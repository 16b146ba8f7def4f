"""Hypothesis properties: every supported style round-trips a generated tick; no input makes the
parser raise; feeding a snapshot in arbitrary chunks gives the same result as parsing it whole.

``validate_records`` (conftest) is a stateless function, so sharing it across examples is safe."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tickerstream.model import Tick
from tickerstream.parse import SnapshotParser, parse_bytes, parse_text
from tickerstream.parse.vocab import NOT_SYMBOLS

WORDS = [
    "Bit",
    "Coin",
    "Lido",
    "Staked",
    "Ether",
    "Wrapped",
    "Shiba",
    "Inu",
    "Token",
    "Protocol",
    "Network",
    "Chain",
    "Finance",
    "Swap",
    "Aave",
    "Polka",
    "Dot",
    "Cash",
    "Classic",
    "Pepe",
    "Sui",
    "Ondo",
    "stETH",
]

symbols = st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True).filter(lambda s: s not in NOT_SYMBOLS)
names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
prices = st.builds(
    lambda units, places: (Decimal(units) / Decimal(10) ** places).quantize(
        Decimal(1) / Decimal(10) ** places
    ),
    st.integers(min_value=1, max_value=10**11),
    st.sampled_from([2, 4, 6]),
).filter(lambda d: Decimal("0.0001") <= d <= Decimal(2_000_000))
pcts = st.integers(min_value=-9_999, max_value=99_999).map(lambda n: Decimal(n) / 100)


def dot(p: Decimal) -> str:
    return f"{p:,}"


def comma(p: Decimal) -> str:
    return f"{p:,}".replace(",", " ").replace(".", ",").replace(" ", ".")


def signed(x: Decimal) -> str:
    return f"+{x}" if x >= 0 else f"-{-x}"


STYLES = {
    # style: (render(sym, name, price, pct) -> text, currency, name shown?, sign shown?)
    "seed": (lambda s, n, p, c: f"{n} ({s}) $ {dot(p)} {abs(c)}%", "USD", True, False),
    "seed+slug": (lambda s, n, p, c: f"{s.lower()}-id\n{n} ({s}) $ {dot(p)} {abs(c)}%", "USD", True, False),
    "nospace": (lambda s, n, p, c: f"{n}({s})${dot(p)} {signed(c)}%", "USD", True, True),
    "suffix": (lambda s, n, p, c: f"{n} ({s}) {p}$ {signed(c)}%", "USD", True, True),
    "pct-first": (lambda s, n, p, c: f"{n} ({s}) {signed(c)}% ${dot(p)}", "USD", True, True),
    "colon": (lambda s, n, p, c: f"{n} ({s}): ${dot(p)} {signed(c)}%", "USD", True, True),
    "pair": (lambda s, n, p, c: f"{s}/USD {p} {signed(c)}%", "USD", False, True),
    "pipe": (lambda s, n, p, c: f"| 1 | {n} | {s} | ${dot(p)} | {signed(c)}% | $1.2B |", "USD", True, True),
    "compact": (lambda s, n, p, c: f"{s.lower()}${p}{signed(c)}%", "USD", False, True),
    "euro": (lambda s, n, p, c: f"{n} ({s}) {comma(p)} € {signed(c).replace('.', ',')}%", "EUR", True, True),
    "arrows": (
        lambda s, n, p, c: f"{n} ({s}) £{dot(p)} {'▲' if c >= 0 else '▼'} {abs(c)}%",
        "GBP",
        True,
        True,
    ),
    "flat": (
        lambda s, n, p, c: f"{n} ({s}) ${dot(p)} {signed(c)}% • Tether (USDT) $1.00 0.01%",
        "USD",
        True,
        True,
    ),
}


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(style=st.sampled_from(sorted(STYLES)), sym=symbols, name=names, price=prices, pct=pcts)
@example(style="seed", sym="POL", name="POL (ex-MATIC)", price=Decimal("0.413496"), pct=Decimal("2.56"))
def test_render_then_parse_round_trips(
    validate_records, style: str, sym: str, name: str, price: Decimal, pct: Decimal
) -> None:
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
    )
    assert result.ticks[:1] == [expected], text
    validate_records(result.ticks, result.rejects)


FRAGMENTS = [
    "Bitcoin",
    " (BTC)",
    "(",
    ")",
    " $ ",
    "$",
    "€",
    "USD",
    "/",
    "1,234.56",
    "0,5",
    "0.0₄12",
    " 0.48%",
    "-",
    "−",
    "+",
    "▲",
    "▼",
    "%",
    "\n",
    "\r\n",
    " | ",
    "\t",
    "bitcoin\n",
    "k",
    "NaN",
    "12",
    "..",
    ",",
    "Market Cap",
    ":",
    " ",
    "USDe",
    "x" * 50,
    "9" * 20,
    "\x00",
    "\ufeff",
    "ß",
    "🔺",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)))
def test_arbitrary_text_never_raises(validate_records, text: str) -> None:
    result = parse_text(text, ts=0)
    validate_records(result.ticks, result.rejects)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(validate_records, data: bytes) -> None:
    result = parse_bytes(data, ts=0)
    validate_records(result.ticks, result.rejects)


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
