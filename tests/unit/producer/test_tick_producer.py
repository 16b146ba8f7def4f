"""The producer's fast tick encoder must give exactly the contract's bytes (``Tick.to_json``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickerstream.model import Tick
from tickerstream.producer.encoding import _tick_json_via_dataclass, encode_tick
from tickerstream.producer.tick_producer import ProducerConfig, default_codec

ticks = st.builds(
    Tick,
    symbol=st.text(min_size=1, max_size=12),
    name=st.text(max_size=40),
    coin_id=st.none() | st.text(max_size=30),
    price=st.floats(min_value=1e-12, max_value=1e9, allow_nan=False),
    currency=st.sampled_from(["USD", "EUR"]),
    change_pct=st.none() | st.floats(min_value=-100, max_value=5000, allow_nan=False),
    change_sign_known=st.booleans(),
    ts=st.integers(min_value=0, max_value=2**53),
    source=st.text(max_size=60),
)


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
        {"tick_version": 3},
    ],
)
def test_config_refuses_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ProducerConfig(**kwargs)  # type: ignore[arg-type]
