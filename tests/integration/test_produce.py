"""ticker-produce and TickProducer on the real broker: exactly the parser's ticks, where Kafka puts them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.paths import DATA
from tickerstream.kafka.partitioner import partition_for
from tickerstream.model import Reject, RejectReason, Tick
from tickerstream.parse import parse_bytes
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer
from tickerstream.sources.files import iter_snapshots, parse_iso_ts

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tests.support.processes import ChildProcesses

pytestmark = pytest.mark.timeout(120)

SEED = DATA / "seed_page.txt"
SEED_TS = "2025-01-20T12:00:00Z"
BIN = Path(sys.executable).parent
BAD_LINES = b"bitcoin\nBitcoin (BTC) $ NaN 0.48%\nFoo (FOO) $ 0 1.0%\n"


async def read_all(bootstrap: str, topic: str, partitions: int = 6, timeout_s: float = 20.0) -> list[Any]:
    """Every record of ``topic`` (with ``partitions``) from the beginning to the end offsets seen now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            assert time.monotonic() < deadline, "timed out reading the topic back"
            batches = await consumer.getmany(*parts, timeout_ms=500)
            for records in batches.values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


def sigterm_once_acked(cmd: list[str], child_processes: ChildProcesses) -> str:
    """Start ``ticker-produce`` (with ``--progress-interval``), send SIGTERM as soon as its progress
    shows acknowledged ticks, check that it exits 0, and return the rest of its stderr."""
    proc = child_processes.add(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until ticks are flowing, then stop it mid-way
        if '"produce.progress"' in line and '"ticks_acked": 0,' not in line:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, rest
    return rest


def produce_cli(bootstrap: str, ticks: str, rejects: str, *args: str) -> list[str]:
    return [
        str(BIN / "ticker-produce"),
        "--bootstrap-servers",
        bootstrap,
        "--ticks-topic",
        ticks,
        "--rejects-topic",
        rejects,
        "--log-format",
        "json",
        "--metrics-port",
        "0",  # tests run side by side: never the fixed default port
        *args,
    ]


def run_cli(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kw)


def as_tick(value: bytes) -> Tick:
    obj = orjson.loads(value)
    obj.pop("v")
    return Tick(**obj)


async def test_seed_page_through_ticker_produce(
    kafka_bootstrap: str, kafka_topics: TopicFactory, validate_record: Callable[[str, Any], None]
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    started_ms = int(time.time() * 1000)
    proc = run_cli(produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--ts", SEED_TS, str(SEED)))
    assert proc.returncode == 0, proc.stderr
    ts = parse_iso_ts(SEED_TS)
    expected = parse_bytes(SEED.read_bytes(), ts=ts, source=str(SEED)).ticks
    assert len(expected) == 50
    assert f"ticker-produce: 50 ticks, 0 rejects from 1 snapshot(s) to {ticks_topic}" in proc.stderr

    records = await read_all(kafka_bootstrap, ticks_topic)
    assert len(records) == len(expected)
    by_partition: dict[int, list[Tick]] = defaultdict(list)
    for r in records:
        validate_record("tick", orjson.loads(r.value))
        tick = as_tick(r.value)
        assert r.key == tick.symbol.encode()
        assert r.partition == partition_for(r.key, 6)
        assert tick.ts == ts
        # Our topics keep records by when they were written (LogAppendTime), not by event time.
        assert r.timestamp_type == 1 and started_ms <= r.timestamp <= int(time.time() * 1000)
        by_partition[r.partition].append(tick)
    assert sorted(map(repr, (as_tick(r.value) for r in records))) == sorted(map(repr, expected))
    # Page order is kept within each partition (hence per symbol).
    for partition, got in by_partition.items():
        assert got == [t for t in expected if partition_for(t.symbol.encode(), 6) == partition]
    assert await read_all(kafka_bootstrap, rejects_topic, 1) == []


async def test_rejects_go_to_the_dead_letter_topic(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    page = tmp_path / "snap-2025-01-20T00-00-00Z.txt"
    page.write_bytes(SEED.read_bytes().rstrip() + b"\n" + BAD_LINES + b"\xff\xfe broken $ 5 line\n")
    archive = tmp_path / "archive.jsonl"
    cmd = produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--archive", str(archive), str(page))
    proc = run_cli(cmd)
    assert proc.returncode == 0, proc.stderr
    expected = parse_bytes(page.read_bytes(), ts=parse_iso_ts("2025-01-20T00:00:00Z"), source=str(page))
    assert len(expected.rejects) == 3
    assert f"{len(expected.ticks)} ticks, 3 rejects (invalid_price=2, invalid_utf8=1)" in proc.stderr

    rejects = await read_all(kafka_bootstrap, rejects_topic, 1)
    for r in rejects:
        validate_record("reject", orjson.loads(r.value))
        assert r.key == str(page).encode()
        assert r.timestamp_type == 1  # LogAppendTime, see docs/kafka.md
    assert [r.value for r in rejects] == [x.to_json() for x in expected.rejects]
    # The archive holds the produced ticks, in the replay format (the topic's JSON, one per line).
    ticks = await read_all(kafka_bootstrap, ticks_topic)
    lines = archive.read_bytes().splitlines()
    assert lines == [t.to_json() for t in expected.ticks]
    assert sorted(lines) == sorted(r.value for r in ticks)


def test_wrong_partition_count_is_a_one_line_usage_error(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    base = produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--ts", SEED_TS)
    assert run_cli([*base, str(SEED)]).returncode == 0
    proc = run_cli([*base, "--partitions", "3", str(SEED)])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("ticker-produce: error: topic ")
        and "6 partitions" in lines[0]
    )


def _write_pages(root: Path, pages: int, symbols: int) -> int:
    """Widget pages in the seed layout, each with ``symbols`` distinct ticks; returns the tick count."""
    root.mkdir()
    for p in range(pages):
        rows = [
            f"coin-{s}\nCoin {s} (C{s}) $ {1000 + p + s / 1000:.3f} {s % 7}.25%\n" for s in range(symbols)
        ]
        (root / f"snap-2025-01-20T{p // 3600:02d}-{p // 60 % 60:02d}-{p % 60:02d}Z.txt").write_text(
            "".join(rows)
        )
    return pages * symbols


async def test_sigterm_flushes_everything_accepted(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    total = _write_pages(tmp_path / "pages", pages=400, symbols=2000)
    archive = tmp_path / "archive.jsonl"
    cmd = produce_cli(
        kafka_bootstrap, ticks_topic, rejects_topic, "--archive", str(archive), "--progress-interval", "0.2",
        str(tmp_path / "pages"),
    )  # fmt: skip
    rest = sigterm_once_acked(cmd, child_processes)
    m = re.search(
        r"ticker-produce: (\d+) ticks, 0 rejects from (\d+) snapshot\(s\) .*\(stopped by signal\)", rest
    )
    assert m, rest
    reported = int(m.group(1))
    assert 0 < reported < total
    records = await read_all(kafka_bootstrap, ticks_topic)
    assert len(records) == reported
    assert len({(r.key, r.value) for r in records}) == reported  # no duplicates
    assert sorted(archive.read_bytes().splitlines()) == sorted(r.value for r in records)


async def test_follow_reads_appended_lines_and_new_files(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    # Created up front, so that reading the topic back never races the command's topic creation.
    ticks_topic = await kafka_topics.create("ticks", partitions=6)
    rejects_topic = await kafka_topics.create("rejects", partitions=1)
    growing = tmp_path / "live.txt"
    growing.write_bytes(b"bitcoin\nBitcoin (BTC) $ 100,000.00 0.48%\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cmd = produce_cli(
        kafka_bootstrap,
        ticks_topic,
        rejects_topic,
        "--follow",
        "--poll-interval",
        "0.1",
        str(growing),
        str(inbox),
    )
    proc = child_processes.add(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    try:
        await _wait_for(kafka_bootstrap, ticks_topic, 1)
        t_before = int(time.time() * 1000)
        with growing.open("ab") as fh:  # a slug, then its record split across two writes
            fh.write(b"ethereum\nEthereum (ETH) $ 3,2")
            fh.flush()
            await asyncio.sleep(0.4)
            fh.write(b"59.53 2.32%\n")
        staged = inbox / ".snap-2025-01-20T00-00-00Z.txt"
        staged.write_bytes(SEED.read_bytes())
        os.replace(staged, inbox / "snap-2025-01-20T00-00-00Z.txt")
        records = await _wait_for(kafka_bootstrap, ticks_topic, 52)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    ticks = [as_tick(r.value) for r in records]
    live = sorted((t for t in ticks if t.source == str(growing)), key=lambda t: t.ts)  # two partitions
    assert [(t.symbol, t.price, t.coin_id) for t in live] == [
        ("BTC", 100_000.0, "bitcoin"),
        ("ETH", 3259.53, "ethereum"),
    ]
    assert live[1].ts >= t_before  # followed lines are timed when read
    page = [t for t in ticks if t.source != str(growing)]
    expected = parse_bytes(SEED.read_bytes(), ts=parse_iso_ts("2025-01-20T00:00:00Z"), source="x").ticks
    assert sorted((t.symbol, t.price, t.ts) for t in page) == sorted(
        (t.symbol, t.price, t.ts) for t in expected
    )
    assert "52 ticks" in err


async def _wait_for(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_all(bootstrap, topic)
        if len(records) >= count or time.monotonic() > deadline:
            assert len(records) == count, f"expected {count} records, got {len(records)}"
            return records
        await asyncio.sleep(0.2)


async def test_tick_producer_batches_keep_per_symbol_order_under_back_pressure(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    ticks_topic = await kafka_topics.create("ticks", partitions=3)
    rejects_topic = await kafka_topics.create("rejects", partitions=1)
    config = ProducerConfig(
        bootstrap_servers=kafka_bootstrap,
        ticks_topic=ticks_topic,
        rejects_topic=rejects_topic,
        compression="gzip",
        batch_bytes=4096,  # many small batches ...
        max_in_flight=1,  # ... and at most one awaiting its ack
        linger_ms=5,
    )
    now = int(time.time() * 1000)
    ticks = [
        Tick(f"S{i % 17}", "Coin", None, 1.0 + i, "USD", None, False, now - 10_000 + i, "t")
        for i in range(5000)
    ]
    async with TickProducer(config) as producer:
        for i in range(0, len(ticks), 333):
            await producer.send_ticks(ticks[i : i + 333])
            assert len(producer._in_flight) <= 1
        await producer.send_rejects([Reject("raw", RejectReason.INVALID_PRICE, "src", "why")], ts=now)
        # A trickle: one tick, no flush; linger sends it.
        await producer.send_ticks([Tick("LATE", "Late", None, 2.0, "USD", 1.0, True, now, "t")])
        await asyncio.sleep(0.5)
        assert producer.stats.ticks_acked == len(ticks) + 1
    stats = producer.stats
    assert stats.ticks_sent == stats.ticks_acked == len(ticks) + 1
    assert stats.rejects_acked == 1 and stats.rejects_by_reason == {"invalid_price": 1}
    assert stats.batches_acked > 20 and stats.delivery_errors == 0
    records = await read_all(kafka_bootstrap, ticks_topic, 3)
    per_symbol: dict[str, list[float]] = defaultdict(list)
    for r in records:
        tick = as_tick(r.value)
        assert r.partition == partition_for(tick.symbol.encode(), 3)
        per_symbol[tick.symbol].append(tick.price)
    for symbol, prices in per_symbol.items():
        assert prices == sorted(prices), f"{symbol} reordered"
    assert sum(map(len, per_symbol.values())) == len(ticks) + 1
    rejects = await read_all(kafka_bootstrap, rejects_topic, 1)
    assert [orjson.loads(r.value)["reason"] for r in rejects] == ["invalid_price"]


async def test_future_event_times_do_not_make_the_broker_refuse_a_batch(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    ticks_topic = await kafka_topics.create("ticks", partitions=1)
    rejects_topic = await kafka_topics.create("rejects", partitions=1)
    config = ProducerConfig(
        bootstrap_servers=kafka_bootstrap, ticks_topic=ticks_topic, rejects_topic=rejects_topic
    )
    future = int(time.time() * 1000) + 48 * 3600 * 1000  # Kafka 4 refuses CreateTime > 1 h ahead
    async with TickProducer(config) as producer:
        await producer.send_ticks([Tick("BTC", "Bitcoin", None, 1.0, "USD", None, False, future, "t")])
    assert producer.stats.future_ts_clamped == 1
    (record,) = await read_all(kafka_bootstrap, ticks_topic, 1)
    assert as_tick(record.value).ts == future and record.timestamp < future


@pytest.mark.parametrize("workers", ["0", "2"])
async def test_directory_in_process_or_in_workers_gives_the_parsers_ticks_in_order(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, workers: str
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    pages = tmp_path / "pages"
    _write_pages(pages, pages=40, symbols=300)
    (pages / "sub").mkdir()
    (pages / "sub" / "bad.txt").write_bytes(BAD_LINES)
    cmd = produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--parse-workers", workers, str(pages))
    proc = run_cli(cmd)
    assert proc.returncode == 0, proc.stderr
    expected: list[Tick] = []
    expected_rejects: list[Reject] = []
    for snap in iter_snapshots([str(pages)]):
        result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
        expected += result.ticks
        expected_rejects += result.rejects
    assert len(expected) == 12_000 and len(expected_rejects) == 2
    records = await read_all(kafka_bootstrap, ticks_topic)
    for partition in range(6):
        got = [as_tick(r.value) for r in records if r.partition == partition]
        assert got == [t for t in expected if partition_for(t.symbol.encode(), 6) == partition]
    rejects = await read_all(kafka_bootstrap, rejects_topic, 1)
    assert [r.value for r in rejects] == [x.to_json() for x in expected_rejects]
    assert "12000 ticks, 2 rejects (invalid_price=2) from 41 snapshot(s)" in proc.stderr
