from __future__ import annotations

import math

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from tickerstream.kafka.codec import MAX_TICK_BYTES, decode_tick_lines, decode_tick_values
from tickerstream.model import RejectReason, Tick

GOOD = [
    Tick("BTC", "Bitcoin", "bitcoin", 104442.98, "USD", 0.48, False, 1_000, "a"),
    Tick("USDC", "USDC", None, 0.9987, "USD", None, False, 1_000, "a"),
    Tick("ETH", "Ethereum", "ethereum", 3259.53, "USD", -2.3, True, 2_000, "b"),
]


def values(ticks: list[Tick]) -> list[bytes]:
    return [t.to_json() for t in ticks]


def test_good_batch_decodes_to_columns() -> None:
    decoded = decode_tick_values(values(GOOD))
    assert decoded.bad == []
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"]
    assert decoded.batch.ts.tolist() == [1_000, 1_000, 2_000]
    assert decoded.batch.price.tolist() == [104442.98, 0.9987, 3259.53]
    assert decoded.rows.tolist() == [0, 1, 2]


def test_poison_messages_get_reasons_and_good_ones_survive() -> None:
    good = values(GOOD)
    nan_price = GOOD[0].to_json().replace(b"104442.98", b"NaN")  # not JSON for orjson
    neg_price = orjson.dumps(GOOD[0].to_dict() | {"price": -5})
    wrong_schema = orjson.dumps({"v": 1, "symbol": "BTC"})
    bool_price = orjson.dumps(GOOD[0].to_dict() | {"price": True})
    huge = b'{"v":1,"pad":"' + b"x" * 1_000_000 + b'"}'
    batch = [
        good[0],
        b"not json",
        nan_price,
        good[1],
        neg_price,
        wrong_schema,
        b"[1,2]",
        huge,
        bool_price,
        good[2],
    ]
    decoded = decode_tick_values(batch)
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"]
    assert decoded.rows.tolist() == [0, 3, 9]
    reasons = {bad.index: bad.reason for bad in decoded.bad}
    assert reasons == {
        1: RejectReason.NOT_JSON,
        2: RejectReason.NOT_JSON,
        4: RejectReason.INVALID_TICK,
        5: RejectReason.INVALID_TICK,
        6: RejectReason.NOT_JSON,
        7: RejectReason.MESSAGE_TOO_LARGE,
        8: RejectReason.INVALID_TICK,
    }
    assert all(bad.detail for bad in decoded.bad)


def test_a_value_holding_two_objects_does_not_shift_the_batch() -> None:
    two = GOOD[0].to_json() + b"," + GOOD[1].to_json()
    decoded = decode_tick_values([two, GOOD[2].to_json()])
    assert decoded.batch.symbols == ["ETH"]
    assert [b.index for b in decoded.bad] == [0]


def test_values_are_joined_as_lines_without_shifting_or_dropping_any() -> None:
    # The fast path decodes the values joined by newlines: a value with a newline of its own, a
    # blank one or two objects on two lines must neither shift nor hide a record.
    pretty = orjson.dumps(GOOD[0].to_dict(), option=orjson.OPT_INDENT_2)
    two_lines = GOOD[0].to_json() + b"\n" + GOOD[1].to_json()
    batch = [pretty, GOOD[1].to_json(), b"", b"  \n ", two_lines, GOOD[2].to_json()]
    decoded = decode_tick_values(batch)
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"]
    assert decoded.rows.tolist() == [0, 1, 5]
    assert [(b.index, b.reason) for b in decoded.bad] == [
        (2, RejectReason.NOT_JSON),
        (3, RejectReason.NOT_JSON),
        (4, RejectReason.NOT_JSON),
    ]


@given(st.lists(st.sampled_from([*values(GOOD), b"", b"\n", b"{}", b"{\n}", b"[]", b"\n" + values(GOOD)[1]])))
def test_a_batch_decodes_as_its_values_one_by_one(batch: list[bytes]) -> None:
    together = decode_tick_values(batch)
    alone = [decode_tick_values([v]) for v in batch]
    assert together.batch.symbols == [s for d in alone for s in d.batch.symbols]
    assert together.rows.tolist() == [i for i, d in enumerate(alone) if len(d.batch)]
    assert [(b.index, b.reason) for b in together.bad] == [
        (i, b.reason) for i, d in enumerate(alone) for b in d.bad
    ]


def test_empty_batch() -> None:
    decoded = decode_tick_values([])
    assert len(decoded.batch) == 0 and decoded.bad == []


def test_size_cap_is_applied_per_record() -> None:
    padded = orjson.dumps(GOOD[0].to_dict() | {"source": "s" * MAX_TICK_BYTES})
    decoded = decode_tick_values([padded, GOOD[1].to_json()])
    assert decoded.batch.symbols == ["USDC"]
    assert decoded.bad[0].reason is RejectReason.MESSAGE_TOO_LARGE


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_arbitrary_bytes_never_raise(blobs: list[bytes]) -> None:
    decoded = decode_tick_values(blobs)
    assert len(decoded.batch) + len(decoded.bad) == len(blobs)


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ABCDEFXYZ0123", min_size=1, max_size=6),
            st.floats(min_value=1e-9, max_value=1e7, allow_nan=False),
            st.integers(min_value=0, max_value=2**53),
        ),
        max_size=30,
    )
)
def test_decoded_columns_equal_the_ticks(rows: list[tuple[str, float, int]]) -> None:
    ticks = [Tick(s, s, None, p, "USD", None, False, ts, "-") for s, p, ts in rows]
    decoded = decode_tick_values(values(ticks))
    assert decoded.bad == []
    assert decoded.batch.symbols == [t.symbol for t in ticks]
    assert np.array_equal(decoded.batch.ts, np.array([t.ts for t in ticks], dtype=np.int64))
    assert all(math.isclose(a, t.price) for a, t in zip(decoded.batch.price.tolist(), ticks, strict=True))


def test_json_lines_fast_path_and_every_reason_to_leave_it() -> None:
    good = b"\n".join(values(GOOD)) + b"\n"
    decoded, lines = decode_tick_lines(good)
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"] and decoded.bad == [] and lines == []
    # CRLF line ends are whitespace to JSON: still the fast path.
    assert decode_tick_lines(good.replace(b"\n", b"\r\n"))[0].batch.symbols == ["BTC", "USDC", "ETH"]
    # Blank lines, two objects on one line, and a bad line: per-line path, each bad line named.
    two = GOOD[0].to_json() + GOOD[1].to_json()
    messy = b"\n".join([GOOD[0].to_json(), b"", two, b"   ", b"oops", GOOD[2].to_json()]) + b"\n"
    decoded, lines = decode_tick_lines(messy)
    assert decoded.batch.symbols == ["BTC", "ETH"]
    assert [(lines[b.index], b.reason) for b in decoded.bad] == [
        (two, RejectReason.NOT_JSON),
        (b"oops", RejectReason.NOT_JSON),
    ]
    assert decode_tick_lines(b"")[0].batch.symbols == []


@given(st.lists(st.sampled_from([*values(GOOD), b"", b"x", b"{}", b'{"v":1}']), max_size=12))
def test_json_lines_agree_with_the_per_value_decoder(rows: list[bytes]) -> None:
    decoded, _lines = decode_tick_lines(b"\n".join(rows) + b"\n")
    by_value = decode_tick_values([r for r in rows if r.strip()])
    assert decoded.batch.symbols == by_value.batch.symbols
    assert [b.reason for b in decoded.bad] == [b.reason for b in by_value.bad]


# ---- records that used to crash the decoder or slip through it (issue #9 items 1 and 4) ----

NOT_UTF8 = GOOD[0].to_json().replace(b"Bitcoin", b"Bit\xffcoin")


def test_invalid_utf8_is_a_bad_record_not_an_exception() -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) here: it used to kill the processor."""
    for batch in ([NOT_UTF8], [*values(GOOD), NOT_UTF8], [NOT_UTF8, *values(GOOD)]):
        decoded = decode_tick_values(batch)
        where = batch.index(NOT_UTF8)
        assert [(b.index, b.reason) for b in decoded.bad] == [(where, RejectReason.INVALID_UTF8)]
        assert len(decoded.batch) == len(batch) - 1


def test_invalid_utf8_line_in_json_lines() -> None:
    chunk = b"\n".join([*values(GOOD), NOT_UTF8]) + b"\n"
    decoded, lines = decode_tick_lines(chunk)
    assert [(b.index, b.reason) for b in decoded.bad] == [(3, RejectReason.INVALID_UTF8)]
    assert lines[3] == NOT_UTF8
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"]


def test_invalid_utf8_in_a_key_the_decoder_skips_is_still_refused() -> None:
    """Found by the poison fuzzer: msgspec skips unknown keys without checking them, so a record with
    ``"price_qu\x80ntum"`` passed both fast paths although it is not JSON text (RFC 8259: UTF-8)."""
    bad_key = GOOD[0].to_json().replace(b'"price_quantum"', b'"price_qu\x80ntum"')
    decoded = decode_tick_values([*values(GOOD), bad_key])
    assert [(b.index, b.reason) for b in decoded.bad] == [(3, RejectReason.INVALID_UTF8)]
    decoded, _ = decode_tick_lines(b"\n".join([bad_key, *values(GOOD)]) + b"\n")
    assert [(b.index, b.reason) for b in decoded.bad] == [(0, RejectReason.INVALID_UTF8)]
    assert decoded.batch.symbols == ["BTC", "USDC", "ETH"]


def _priced(price: str, currency: str = "USD") -> bytes:
    return GOOD[0].to_json().replace(b"104442.98", price.encode()).replace(b'"USD"', f'"{currency}"'.encode())


def test_implausible_prices_get_the_parsers_reason() -> None:
    batch = [*values(GOOD), _priced("1e200"), _priced("1e-300"), _priced("2e7"), _priced("5e9", "KRW")]
    decoded = decode_tick_values(batch)
    assert [(b.index, b.reason) for b in decoded.bad] == [
        (3, RejectReason.PRICE_OUT_OF_RANGE),
        (4, RejectReason.PRICE_OUT_OF_RANGE),
        (5, RejectReason.PRICE_OUT_OF_RANGE),
    ]
    # 5e9 KRW (~2.5e6 USD) is within the parser's KRW cap: kept.
    assert decoded.rows.tolist() == [0, 1, 2, 6]
    assert decoded.batch.price.tolist()[-1] == 5e9


def test_implausible_prices_in_json_lines_name_their_lines() -> None:
    chunk = b"\n".join([*values(GOOD), _priced("1e200")]) + b"\n"
    decoded, lines = decode_tick_lines(chunk)
    assert [(b.index, b.reason) for b in decoded.bad] == [(3, RejectReason.PRICE_OUT_OF_RANGE)]
    assert lines[3] == _priced("1e200")
    assert len(decoded.batch) == 3


def test_v1_and_v2_ticks_decode_with_quantum_and_currency_columns() -> None:
    """Readers accept both versions: a v2 tick carries its quantum, a v1 tick's is unknown (NaN);
    both paths (one typed decode, and record by record after a bad one) give the same columns."""
    v2 = Tick("SHIB", "Shiba Inu", None, 0.000019, "USD", 1.35, False, 1_000, "a", 1e-6)
    v1 = Tick("BTC", "Bitcoin", None, 92_000.0, "EUR", None, False, 1_000, "a", 0.01).to_json(version=1)
    for batch_values in ([v2.to_json(), v1], [v2.to_json(), v1, b"not json"]):
        decoded = decode_tick_values(batch_values)
        q = decoded.batch.quantum.tolist()
        assert q[0] == 1e-6 and math.isnan(q[1])
        assert decoded.batch.currency == ["USD", "EUR"]


def test_v3_ticks_decode_and_a_bad_symbol_source_is_refused_by_both_paths() -> None:
    """v3 adds ``symbol_source``, which the engine does not use: a valid one decodes like any tick,
    an invalid one is ``invalid_tick`` whether the batch takes the typed decode or goes record by
    record (the two paths must agree)."""
    mapped = Tick("ETH", "Ethereum", None, 3200.1, "USD", 1.1, False, 1_000, "a", 0.01, "registry").to_json()
    bad = mapped.replace(b'"registry"', b'"guess"')
    decoded = decode_tick_values([mapped, mapped.replace(b'"ETH"', b'"SOL"')])
    assert decoded.batch.symbols == ["ETH", "SOL"] and not decoded.bad
    for batch_values in ([mapped, bad], [mapped, bad, b"not json"]):
        decoded = decode_tick_values(batch_values)
        assert decoded.batch.symbols == ["ETH"]
        assert (decoded.bad[0].index, decoded.bad[0].reason) == (1, RejectReason.INVALID_TICK)
