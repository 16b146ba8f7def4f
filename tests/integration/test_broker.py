"""aiokafka against the real broker: the client features tickerstream relies on.

These tests are the evidence for the Kafka version decision in docs/kafka.md: idempotent produce with
acks=all, compression, consumer groups with rebalancing, committed offsets, offsets_for_times, and
transactions (consume-transform-produce with send_offsets_to_transaction, abort, read_committed).
Every wait is a bounded loop; the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka import codec as aiokafka_codec

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.timeout(60)

# Fast group protocol for tests: rebalances are noticed on the next heartbeat.
FAST_GROUP = {"heartbeat_interval_ms": 200, "session_timeout_ms": 6000, "max_poll_interval_ms": 30000}

CODECS: dict[str, Callable[[], bool]] = {
    "gzip": aiokafka_codec.has_gzip,
    "snappy": aiokafka_codec.has_snappy,
    "lz4": aiokafka_codec.has_lz4,
    "zstd": aiokafka_codec.has_zstd,
}


async def read_to_end(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], timeout_s: float = 15.0
) -> list[ConsumerRecord]:
    """Everything from the current positions up to the end offsets as of now (the LSO for read_committed)."""
    end = await consumer.end_offsets(tps)
    records: list[ConsumerRecord] = []
    async with asyncio.timeout(timeout_s):
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(*tps, timeout_ms=200)).values():
                records.extend(batch)
    return records


async def wait_until(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_idempotent_produce_acks_all_keeps_per_key_order(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    topic = await kafka_topics.create("ticks", partitions=3)
    symbols = ["BTC", "ETH", "SOL", "USDT", "WBTC"]
    async with AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    ) as producer:
        futures = [
            await producer.send(topic, key=sym.encode(), value=f"{sym}:{i}".encode())
            for i in range(50)
            for sym in symbols
        ]
        metas = await asyncio.gather(*futures)
    # Same key, same partition: the murmur2 partitioner is deterministic.
    partition_of = {}
    for meta, (i, sym) in zip(metas, [(i, s) for i in range(50) for s in symbols], strict=True):
        assert partition_of.setdefault(sym, meta.partition) == meta.partition, (sym, i)

    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    async with consumer:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records = await read_to_end(consumer, tps)
    assert len(records) == 250  # idempotence: no duplicates from retries
    for sym in symbols:
        seen = [int(r.value.decode().split(":")[1]) for r in records if r.key == sym.encode()]
        assert seen == list(range(50)), sym


@pytest.mark.parametrize("codec", sorted(CODECS))
async def test_compression_round_trip(kafka_bootstrap: str, kafka_topics: TopicFactory, codec: str) -> None:
    # cramjam is a runtime dependency (ticker-produce writes zstd), so every codec must be available.
    assert CODECS[codec](), f"aiokafka cannot use {codec}: is cramjam installed?"
    topic = await kafka_topics.create(codec)
    payload = b'{"symbol":"BTC","price":104442.98,"currency":"USD"}' * 20
    async with AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, compression_type=codec, linger_ms=5
    ) as producer:
        futures = [await producer.send(topic, value=payload + str(i).encode()) for i in range(200)]
        await asyncio.gather(*futures)
    tp = TopicPartition(topic, 0)
    async with AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        records = await read_to_end(consumer, [tp])
    assert [r.value for r in records] == [payload + str(i).encode() for i in range(200)]


async def test_consumer_group_rebalances_between_two_members(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    topic = await kafka_topics.create("in", partitions=4)
    group = kafka_topics.prefix + "group"
    all_tps = {TopicPartition(topic, p) for p in range(4)}

    def member() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            **FAST_GROUP,
        )

    first, second = member(), member()
    await first.start()
    try:
        await wait_until(lambda: first.assignment() == all_tps, what="first member to own all 4 partitions")
        await second.start()
        try:
            await wait_until(
                lambda: (
                    len(first.assignment()) == 2
                    and len(second.assignment()) == 2
                    and first.assignment() | second.assignment() == all_tps
                ),
                what="the partitions to be split 2/2",
            )
            async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all") as producer:
                for p in range(4):
                    for i in range(10):
                        await producer.send(topic, value=f"{p}:{i}".encode(), partition=p)
                await producer.flush()
            got: list[bytes] = []
            async with asyncio.timeout(15):
                while len(got) < 40:
                    for consumer in (first, second):
                        for batch in (await consumer.getmany(timeout_ms=100)).values():
                            got.extend(r.value for r in batch)
            assert sorted(got) == sorted(f"{p}:{i}".encode() for p in range(4) for i in range(10))
        finally:
            await second.stop()  # leaves the group: the first member gets everything back
        await wait_until(
            lambda: first.assignment() == all_tps, what="first member to own all partitions again"
        )
    finally:
        await first.stop()


async def test_committed_offsets_survive_a_restart(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    topic = await kafka_topics.create("in")
    tp = TopicPartition(topic, 0)
    group = kafka_topics.prefix + "group"
    async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all") as producer:
        for i in range(20):
            await producer.send(topic, value=str(i).encode())
        await producer.flush()

    kwargs = dict(
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **FAST_GROUP,
    )
    async with AIOKafkaConsumer(topic, **kwargs) as consumer:
        assert await consumer.committed(tp) is None
        await consumer.commit({tp: 10})
        assert await consumer.committed(tp) == 10
    async with AIOKafkaConsumer(topic, **kwargs) as consumer:
        first = await asyncio.wait_for(consumer.getone(), timeout=15)
        assert (first.offset, first.value) == (10, b"10")


async def test_offsets_for_times_finds_the_first_record_at_or_after(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    topic = await kafka_topics.create("in")
    tp = TopicPartition(topic, 0)
    base = 1_700_000_000_000  # event time in ms, as in ticks; deliberately far from now
    async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all") as producer:
        for i in range(10):
            await producer.send(topic, value=str(i).encode(), timestamp_ms=base + i * 1000)
        await producer.flush()
    async with AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False) as consumer:
        found = await consumer.offsets_for_times({tp: base + 2500})
        assert (found[tp].offset, found[tp].timestamp) == (3, base + 3000)
        assert (await consumer.offsets_for_times({tp: base + 60_000}))[tp] is None
        assert await consumer.beginning_offsets([tp]) == {tp: 0}
        assert await consumer.end_offsets([tp]) == {tp: 10}
        consumer.assign([tp])
        consumer.seek(tp, found[tp].offset)
        record = await asyncio.wait_for(consumer.getone(), timeout=15)
        assert (record.value, record.timestamp) == (b"3", base + 3000)


async def test_transactions_commit_abort_and_read_committed(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    source = await kafka_topics.create("in")
    sink = await kafka_topics.create("out", partitions=2)
    group = kafka_topics.prefix + "group"
    source_tp = TopicPartition(source, 0)
    sink_tps = [TopicPartition(sink, p) for p in range(2)]

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=kafka_topics.prefix + "tx"
    )
    async with producer:
        # consume-transform-produce: output and input offsets commit atomically.
        async with producer.transaction():
            for i in range(4):
                await producer.send(sink, key=b"k%d" % i, value=b"committed-1")
            await producer.send_offsets_to_transaction({source_tp: 5}, group)
        await producer.begin_transaction()
        for i in range(4):
            await producer.send(sink, key=b"k%d" % i, value=b"aborted")
        await producer.send_offsets_to_transaction({source_tp: 99}, group)
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(sink, key=b"k0", value=b"committed-2")
            await producer.send_offsets_to_transaction({source_tp: 7}, group)

    async with AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, isolation_level="read_committed", enable_auto_commit=False
    ) as consumer:
        consumer.assign(sink_tps)
        await consumer.seek_to_beginning(*sink_tps)
        committed_view = [r.value for r in await read_to_end(consumer, sink_tps)]
    assert sorted(committed_view) == [b"committed-1"] * 4 + [b"committed-2"]

    async with AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, isolation_level="read_uncommitted", enable_auto_commit=False
    ) as consumer:
        consumer.assign(sink_tps)
        await consumer.seek_to_beginning(*sink_tps)
        uncommitted_view = [r.value for r in await read_to_end(consumer, sink_tps)]
    assert sorted(uncommitted_view) == [b"aborted"] * 4 + [b"committed-1"] * 4 + [b"committed-2"]

    async with AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    ) as consumer:
        assert await consumer.committed(source_tp) == 7  # the aborted transaction's offset 99 never landed
