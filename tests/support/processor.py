"""Shared helpers of the ticker-process integration tests: scripted ticks, plain clients, expectations,
and ``processor_kafka``, the one fixture that gives a test its processor topics.

Everything here talks to the real broker with plain aiokafka clients (no code under test), so the tests
check the processor from the outside: ticks in with a plain producer, events out with a plain consumer,
committed offsets from the group coordinator. The one exception, ``process_to_end``, runs a processor
over some records until its group has committed them all.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.kafka import TopicFactory
from tickerstream.engine import Engine, EngineConfig, TickBatch
from tickerstream.kafka.admin import partition_count
from tickerstream.kafka.settings import KafkaSettings, TopicNames
from tickerstream.model import Tick
from tickerstream.processor.processor import (
    Processor,
    ProcessorConfig,
    checkpoint_topic_for,
    refprices_topic_for,
)
from tickerstream.sources.sample import SampleSpec, _asset_map, generate, snapshot_ticks

PARTITIONS = 4


def scripted_ticks(days: float = 2.0, seed: int = 7) -> list[Tick]:
    """Sample snapshots (a crash and a USDC depeg) plus a scripted WBTC/stETH wobble against their
    references, so moves, USD pegs and referenced pegs (the cross-partition join) all produce events."""
    spec = SampleSpec(seed=seed, days=days, interval_s=1200.0, crash_at=0.2, depeg_at=0.45)
    assets = _asset_map(spec)
    ticks: list[Tick] = []
    snaps = list(generate(spec))
    for k, snap in enumerate(snaps):
        phase = k / len(snaps)
        for t in snapshot_ticks(snap, assets, "it"):
            if t.symbol == "WBTC" and 0.30 <= phase < 0.40:
                t = replace(t, price=round(t.price * 0.965, 2))  # ~350 bps under BTC: critical
            if t.symbol == "STETH" and 0.60 <= phase < 0.66:
                t = replace(t, price=round(t.price * 0.97, 2))  # ~300 bps: past stETH's own levels
            ticks.append(t)
    return ticks


def settings(bootstrap: str, prefix: str, partitions: int = PARTITIONS) -> KafkaSettings:
    names = TopicNames(
        ticks=prefix + "ticks",
        moves=prefix + "moves",
        pegs=prefix + "pegs",
        quality=prefix + "quality",
        rejects=prefix + "rejects",
        refprices=prefix + "refprices",
    )
    return KafkaSettings(bootstrap_servers=bootstrap, topics=names, ticks_partitions=partitions)


def topic_names(kafka: KafkaSettings, group: str | None = None) -> list[str]:
    """Every topic a test's processors use; ``group`` defaults to ``fast_config``'s (prefix + "group")."""
    t = kafka.topics
    group = group or t.ticks.removesuffix("ticks") + "group"
    return [
        t.ticks,
        t.moves,
        t.pegs,
        t.quality,
        t.rejects,
        refprices_topic_for(t.refprices, group),
        checkpoint_topic_for(t.ticks, group),
    ]


@pytest.fixture
def processor_kafka(kafka_bootstrap: str, kafka_topics: TopicFactory) -> KafkaSettings:
    """``settings`` on this test's topics, every topic its processors use (``topic_names`` for
    ``fast_config``'s group) registered with ``kafka_topics``, so they are deleted after the test
    whoever creates them."""
    kafka = settings(kafka_bootstrap, kafka_topics.prefix)
    for name in topic_names(kafka):
        kafka_topics.name(name.removeprefix(kafka_topics.prefix))
    return kafka


def fast_config(prefix: str, **kw: object) -> ProcessorConfig:
    base: dict[str, object] = {
        "group": prefix + "group",
        "commit_interval_ms": 200,
        "checkpoint_interval_ms": 400,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 300,
        "poll_timeout_ms": 50,
        "max_records": 500,  # many small steps: exercises the merge and the gate
        "transactional_id_prefix": prefix.rstrip("."),
    }
    base.update(kw)
    return ProcessorConfig(**base)  # type: ignore[arg-type]


def expected_events(ticks: Sequence[Tick], config: EngineConfig | None = None) -> list[bytes]:
    """Events of the engine run directly over the ticks (the replay), as JSON; no held tick remains."""
    engine = Engine(config)
    out = [e.to_json() for e in engine.process(TickBatch.from_ticks(list(ticks)))]
    assert engine.stats.held == 0, "test data must not end with pegged ticks waiting for a reference"
    return out


async def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> None:
    async with AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, max_request_size=4 * 1024 * 1024
    ) as producer:
        futures = [await producer.send(topic, key=k, value=v) for k, v in records]
        await asyncio.gather(*futures)


def tick_records(ticks: Iterable[Tick]) -> list[tuple[bytes | None, bytes]]:
    return [(t.symbol.encode(), t.to_json()) for t in ticks]


async def read_all(
    bootstrap: str, topics: Sequence[str], *, committed_only: bool = False, timeout_s: float = 20.0
) -> list[bytes]:
    """Every value of ``topics`` up to their current end (the LSO with ``committed_only``)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed" if committed_only else "read_uncommitted",
    )
    out: list[bytes] = []
    tps = [TopicPartition(t, p) for t in topics for p in range(await partition_count(bootstrap, t) or 0)]
    async with consumer:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        async with asyncio.timeout(timeout_s):
            while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
                for records in (await consumer.getmany(*tps, timeout_ms=200)).values():
                    out.extend(r.value for r in records)
    return out


async def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    count = await partition_count(bootstrap, topic)
    assert count, f"topic {topic} does not exist"
    tps = [TopicPartition(topic, p) for p in range(count)]
    async with AIOKafkaConsumer(bootstrap_servers=bootstrap) as consumer:
        return dict(await consumer.end_offsets(tps))


async def wait_all_committed(
    bootstrap: str,
    group: str,
    topic: str,
    timeout_s: float = 60.0,
    tasks: Sequence[asyncio.Task[None]] = (),
) -> None:
    """Until the group's committed offsets reach the end of every partition of ``topic``
    (fails at once if one of ``tasks``, the processors, died)."""
    end = await end_offsets(bootstrap, topic)
    deadline = time.monotonic() + timeout_s
    while True:
        for task in tasks:
            if task.done():
                task.result()  # raises what killed it
                raise AssertionError("a processor stopped before the group committed everything")
        got = await committed_offsets(bootstrap, group)
        behind = {tp: (got.get(tp), e) for tp, e in end.items() if got.get(tp, -1) < e}
        if not behind:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} did not commit to the end within {timeout_s} s: {behind}")
        await asyncio.sleep(0.2)


async def process_to_end(
    kafka: KafkaSettings,
    config: ProcessorConfig,
    bootstrap: str,
    records: Iterable[tuple[bytes | None, bytes]],
) -> Processor:
    """One processor: produce ``records`` to the ticks topic, run until the group committed them all,
    stop it cleanly; the stopped processor, for its stats."""
    proc = Processor(kafka, config=config)
    async with proc:
        task = asyncio.create_task(proc.run())
        await produce(bootstrap, kafka.topics.ticks, records)
        await wait_all_committed(bootstrap, config.group, kafka.topics.ticks, tasks=[task])
        proc.request_stop()
        await asyncio.wait_for(task, 10)
    return proc


async def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


def by_id(values: Iterable[bytes]) -> dict[str, bytes]:
    return {orjson.loads(v)["id"]: v for v in values}


def multiset(values: Iterable[bytes]) -> Counter[bytes]:
    return Counter(values)


def cli_args(kafka: KafkaSettings, config: ProcessorConfig) -> list[str]:
    """``ticker-process`` arguments for the same topics and processor settings as ``config``."""
    t = kafka.topics
    args = ["--bootstrap-servers", kafka.bootstrap_servers, "--group", config.group]
    args += ["--metrics-port", "0"]  # tests run side by side: never the fixed default port
    if config.exactly_once:
        args.append("--exactly-once")
    sets = {
        "kafka.topics.ticks": t.ticks,
        "kafka.topics.moves": t.moves,
        "kafka.topics.pegs": t.pegs,
        "kafka.topics.quality": t.quality,
        "kafka.topics.rejects": t.rejects,
        "kafka.topics.refprices": t.refprices,
        "kafka.ticks_partitions": kafka.ticks_partitions,
    }
    for name in (
        "commit_interval_ms",
        "checkpoint_interval_ms",
        "session_timeout_ms",
        "heartbeat_interval_ms",
        "poll_timeout_ms",
        "max_records",
        "transactional_id_prefix",
    ):
        sets[f"process.{name}"] = getattr(config, name)
    for key, value in sets.items():
        text = orjson.dumps(value).decode()  # strings quoted, so dots and dashes stay one string
        args += ["--set", f"{key}={text}"]
    return args
