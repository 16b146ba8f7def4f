"""Which partition a keyed record goes to: Kafka's default partitioner, computed by us.

The producer builds one record batch per partition itself (``create_batch``/``send_batch``) instead of
handing records to ``send()`` one by one, so it must pick partitions exactly as every other Kafka client
would for the same key: ``toPositive(murmur2(key)) % numPartitions``, with murmur2 as in the Java client's
``Utils.murmur2`` (seed ``0x9747b28c``). Consumers, Kafka Streams apps and our own processors then agree
on where a symbol lives, and a symbol's ticks stay in order on one partition.

murmur2 in pure Python costs microseconds per key; symbols are few and repeat, so
:class:`KeyRouter` caches the (key bytes, partition) pair per symbol.
"""

from __future__ import annotations

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of ``data`` as an unsigned 32-bit int (Java's ``Utils.murmur2`` bit for bit).

    Java returns a signed int; the bits are the same, and :func:`partition_for` masks the sign the same
    way Java's ``Utils.toPositive`` does, so the partitions agree.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    end4 = length & ~3
    for i in range(0, end4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[end4 + 2] << 16
    if rest >= 2:
        h ^= data[end4 + 1] << 8
    if rest >= 1:
        h ^= data[end4]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` among ``partitions`` (0..n-1)."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class KeyRouter:
    """Symbol -> (UTF-8 key bytes, partition), memoised; one per (topic, partition count)."""

    #: Forget everything past this many distinct keys: a bound against unbounded garbage input.
    MAX_ENTRIES = 100_000

    def __init__(self, partitions: int) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}")
        self.partitions = partitions
        self._cache: dict[str, tuple[bytes, int]] = {}

    def route(self, symbol: str) -> tuple[bytes, int]:
        hit = self._cache.get(symbol)
        if hit is None:
            key = symbol.encode("utf-8")
            hit = (key, partition_for(key, self.partitions))
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[symbol] = hit
        return hit
