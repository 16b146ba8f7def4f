"""Tick records of every schema version, byte for byte the model's (``producer.encoding``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given

from tests.support.paths import DATA
from tests.support.strategies import any_tick
from tickerstream.model import RejectReason, Tick
from tickerstream.parse import parse_bytes
from tickerstream.producer.encoding import (
    _slow,
    decode_values,
    encode_tick,
    encode_tick_v1,
    encode_tick_v2,
    page_symbols_only,
    tick_encoder,
)

ticks = any_tick


def _seed_ticks() -> list[Tick]:
    page = DATA / "seed_page.txt"
    return parse_bytes(page.read_bytes(), ts=1_737_374_400_000, source=str(page)).ticks


def test_the_fast_encoders_are_in_use() -> None:
    # ``_pick`` falls back to ``_slow`` (a lambda named "<lambda>") when a shortcut is not exact.
    slow_name = _slow(1).__qualname__
    for encoder in (encode_tick, encode_tick_v2, encode_tick_v1):
        assert encoder.__qualname__ != slow_name


@given(ticks)
def test_v1_encoding_is_byte_identical_to_to_json_version_1(tick: Tick) -> None:
    assert encode_tick_v1(tick) == tick.to_json(version=1)


@given(ticks)
def test_v2_encoding_is_byte_identical_to_to_json_version_2(tick: Tick) -> None:
    assert encode_tick_v2(tick) == tick.to_json(version=2)


@given(ticks)
def test_v3_encoding_is_byte_identical_to_to_json(tick: Tick) -> None:
    assert encode_tick(tick) == tick.to_json() == tick.to_json(version=3)


def test_v1_records_of_parsed_ticks_are_valid_frozen_v1(validate_record: Callable[[str, Any], None]) -> None:
    parsed = _seed_ticks()
    assert any(t.price_quantum is not None for t in parsed)  # so there is a field to leave out
    for tick in parsed:
        validate_record("tick.v1", orjson.loads(encode_tick_v1(tick)))


def test_v2_records_of_parsed_ticks_are_valid_frozen_v2(validate_record: Callable[[str, Any], None]) -> None:
    parsed = _seed_ticks() + parse_bytes(b"Bitcoin 49,485.50 3.39%\n", ts=0, source="s").ticks
    assert any(t.symbol_source == "registry" for t in parsed)  # so there is a field to leave out
    for tick in parsed:
        validate_record("tick.v2", orjson.loads(encode_tick_v2(tick)))
        validate_record("tick", orjson.loads(encode_tick_v2(tick)))


def test_encoder_by_version() -> None:
    assert tick_encoder(3) is encode_tick and tick_encoder(2) is encode_tick_v2
    assert tick_encoder(1) is encode_tick_v1
    with pytest.raises(ValueError, match="tick version"):
        tick_encoder(4)


def test_older_versions_carry_only_the_pages_symbols(validate_record: Callable[[str, Any], None]) -> None:
    page = b"Bitcoin (BTC) $ 104,442.98 0.48%\nEthereum 3,200.10 1.1%\n"
    ticks = parse_bytes(page, ts=5, source="news").ticks
    assert [t.symbol_source for t in ticks] == ["page", "registry"]
    assert page_symbols_only(ticks, 3) == (ticks, [])
    for version in (1, 2):
        kept, (reject,) = page_symbols_only(ticks, version)
        assert kept == ticks[:1]
        assert reject.reason is RejectReason.UNMAPPED_NAME and reject.source == "news"
        assert orjson.loads(reject.raw) == ticks[1].to_dict()  # the v3 record: nothing lost
        assert "--tick-version 3" in (reject.detail or "")
        validate_record("reject", reject.to_dict())


def test_recordings_decode_to_the_ticks_they_hold() -> None:
    tick = _seed_ticks()[0]
    v2_with_extra = orjson.dumps({**tick.to_dict(version=2), "scraper": "x"})
    assert decode_values([tick.to_json(version=1), v2_with_extra, tick.to_json()]) == [
        Tick(*[getattr(tick, f) for f in Tick.__slots__][:-2]),
        tick,
        tick,
    ]
