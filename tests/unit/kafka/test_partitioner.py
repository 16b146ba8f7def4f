"""The producer's partitioner must place keys exactly where Kafka's Java client and aiokafka would."""

from __future__ import annotations

import ctypes

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from tickerstream.kafka.partitioner import KeyRouter, murmur2, partition_for

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (Java's signed int results).
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}

# Partitions among 1000 as computed by the Java client's default partitioner (the vectors that
# kafka-python and aiokafka test against).
JAVA_PARTITIONS_OF_1000 = {
    b"": 681,
    b"a": 524,
    b"ab": 434,
    b"abc": 107,
    b"123456789": 566,
    b"\x00 ": 742,
}


@pytest.mark.parametrize(("key", "expected"), sorted(JAVA_MURMUR2.items()))
def test_murmur2_matches_java(key: bytes, expected: int) -> None:
    assert ctypes.c_int32(murmur2(key)).value == expected


@pytest.mark.parametrize(("key", "expected"), sorted(JAVA_PARTITIONS_OF_1000.items()))
def test_partition_matches_java_default_partitioner(key: bytes, expected: int) -> None:
    assert partition_for(key, 1000) == expected


@given(key=st.binary(max_size=64), partitions=st.integers(min_value=1, max_value=512))
def test_partition_matches_aiokafka(key: bytes, partitions: int) -> None:
    assert murmur2(key) == aiokafka_murmur2(key)
    all_partitions = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, all_partitions, all_partitions)


def test_router_routes_symbols_as_utf8_keys() -> None:
    router = KeyRouter(6)
    for symbol in ("BTC", "ETH", "USDC", "USDE", "ÆTH", "POL"):
        key, partition = router.route(symbol)
        assert key == symbol.encode("utf-8")
        assert partition == partition_for(key, 6)
        assert router.route(symbol) == (key, partition)  # cached, same answer


def test_router_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KeyRouter, "MAX_ENTRIES", 10)
    router = KeyRouter(3)
    for i in range(25):
        assert router.route(f"S{i}")[1] == partition_for(f"S{i}".encode(), 3)
    assert len(router._cache) <= 10


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError):
        partition_for(b"x", 0)
    with pytest.raises(ValueError):
        KeyRouter(0)
