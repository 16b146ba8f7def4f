"""ticker-replay --from-topic: ticks recorded in a time range replay like the same ticks from a file."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from aiokafka import AIOKafkaProducer

from tickerstream.engine import EngineConfig
from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.kafka.settings import KafkaSettings, TopicNames
from tickerstream.kafka.topic_reader import read_time_range
from tickerstream.model import Tick
from tickerstream.replay.inputs import ReadStats, open_recorded
from tickerstream.replay.runner import run_replay
from tickerstream.sources.sample import SampleSpec, generate, load_assets, snapshot_ticks

SPEC = SampleSpec(days=2.0, interval_s=1800.0, depeg_at=0.2)


def sample_ticks() -> list[Tick]:
    assets = {a.symbol: a for a in load_assets()}
    return [t for snap in generate(SPEC) for t in snapshot_ticks(snap, assets, "sample")]


async def ticks_topic(bootstrap: str, kafka_topics, partitions: int) -> str:  # type: ignore[no-untyped-def]
    """A ticks topic created by our own topic management (LogAppendTime, like production)."""
    names = TopicNames(
        **{f: kafka_topics.name(f) for f in ("ticks", "moves", "pegs", "quality", "rejects", "refprices")}
    )
    await ensure_topics(
        bootstrap, topic_specs_for(KafkaSettings(bootstrap, names, ticks_partitions=partitions))
    )
    return names.ticks


async def produce(bootstrap: str, topic: str, ticks: list[Tick], poison_at: int | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = []
        for i, t in enumerate(ticks):
            if i == poison_at:
                futures.append(await producer.send(topic, b"not a tick", key=b"BTC"))
            futures.append(await producer.send(topic, t.to_json(), key=t.symbol.encode(), timestamp_ms=t.ts))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_recorded_range_replays_like_the_same_ticks_from_a_file(
    kafka_bootstrap, kafka_topics, tmp_path: Path
):
    topic = await ticks_topic(kafka_bootstrap, kafka_topics, partitions=3)
    ticks = sample_ticks()
    before = now_ms()
    await produce(kafka_bootstrap, topic, ticks[:1000])  # recorded before the range ...
    await asyncio.sleep(0.05)
    start = now_ms()
    await produce(kafka_bootstrap, topic, ticks[1000:], poison_at=500)  # ... and inside it
    end = now_ms() + 1
    assert start > before

    found = await read_time_range(kafka_bootstrap, topic, start, end)
    assert len(found.batch) == len(ticks) - 1000
    assert [r.reason.value for r in found.rejects] == ["not_json"]
    assert found.rejects[0].source.startswith(f"{topic}/")
    assert (await read_time_range(kafka_bootstrap, topic, before, end)).batch.ts.size == len(ticks)

    from_topic = io.BytesIO()
    run_replay(iter([found.batch]), EngineConfig(), from_topic)
    file = tmp_path / "range.jsonl"
    file.write_bytes(b"".join(t.to_json() + b"\n" for t in ticks[1000:]))
    from_file = io.BytesIO()
    run_replay(open_recorded([str(file)], ReadStats()), EngineConfig(), from_file)
    assert from_topic.getvalue() == from_file.getvalue()
    assert b'"type":"peg"' in from_topic.getvalue()  # the scripted depeg (or its end) is in range


async def test_cli_from_topic(kafka_bootstrap, kafka_topics, tmp_path: Path):
    topic = await ticks_topic(kafka_bootstrap, kafka_topics, partitions=2)
    start = datetime.now(UTC).isoformat()
    ticks = sample_ticks()
    await produce(kafka_bootstrap, topic, ticks, poison_at=10)
    out = tmp_path / "events.jsonl"
    proc = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "tickerstream.cli.replay",
            "--from-topic",
            topic,
            "--bootstrap-servers",
            kafka_bootstrap,
            "--start",
            start,
            "--out",
            str(out),
            "--summary",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{len(ticks):,} ticks" in proc.stderr and "1 rejects (not_json=1)" in proc.stderr
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert events and {e["type"] for e in events} == {"move", "peg"}


def test_cli_from_missing_topic_is_a_usage_error(kafka_bootstrap):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tickerstream.cli.replay",
            "--from-topic",
            "no.such.topic.here",
            "--bootstrap-servers",
            kafka_bootstrap,
            "--start",
            "2025-01-20T00:00:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


async def test_cli_from_topic_save_parquet_keeps_the_range_for_later(
    kafka_bootstrap, kafka_topics, tmp_path: Path
):
    topic = await ticks_topic(kafka_bootstrap, kafka_topics, partitions=3)
    start = datetime.now(UTC).isoformat()
    ticks = sample_ticks()
    await produce(kafka_bootstrap, topic, ticks, poison_at=10)
    saved, live, later = tmp_path / "range.parquet", tmp_path / "live.jsonl", tmp_path / "later.jsonl"
    replay = [sys.executable, "-m", "tickerstream.cli.replay"]
    proc = await asyncio.to_thread(
        subprocess.run,
        [*replay, "--from-topic", topic, "--bootstrap-servers", kafka_bootstrap, "--start", start,
         "--save", str(saved), "--out", str(live)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"saved {len(ticks):,} ticks to {saved}" in proc.stderr and "1 rejects (not_json=1)" in proc.stderr
    # The file holds every tick of the range (the poison record is a reject, not a row) ...
    table = pq.read_table(saved)
    assert table.num_rows == len(ticks)
    rows = zip(
        table.column("symbol").to_pylist(), table.column("ts").cast(pa.int64()).to_pylist(), strict=True
    )
    assert sorted(rows) == sorted((t.symbol, t.ts) for t in ticks)
    # ... and replaying it later gives the events of the replay from the topic, byte for byte.
    proc = await asyncio.to_thread(
        subprocess.run, [*replay, str(saved), "--out", str(later)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert later.read_bytes() == live.read_bytes() and b'"type":"peg"' in live.read_bytes()
