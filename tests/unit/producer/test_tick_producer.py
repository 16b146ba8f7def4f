"""The producer's fast tick encoder must give exactly the contract's bytes (``Tick.to_json``)."""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.support.strategies import any_tick
from tickerstream.model import Tick
from tickerstream.producer.encoding import _tick_json_via_dataclass, encode_tick
from tickerstream.producer.tick_producer import ProducerConfig, default_codec

ticks = any_tick


def test_the_fast_encoder_is_in_use() -> None:
    assert encode_tick is _tick_json_via_dataclass


@given(ticks)
def test_encoded_tick_is_byte_identical_to_to_json(tick: Tick) -> None:
    assert encode_tick(tick) == tick.to_json()


def test_default_codec_is_zstd_with_cramjam() -> None:
    pytest.importorskip("cramjam")  # a declared dependency; absent only in a broken install
    assert default_codec() == "zstd"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"compression": "brotli"},
        {"batch_bytes": 10},
        {"linger_ms": -1},
        {"max_in_flight": 0},
        {"tick_version": 4},
    ],
)
def test_config_refuses_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ProducerConfig(**kwargs)  # type: ignore[arg-type]
