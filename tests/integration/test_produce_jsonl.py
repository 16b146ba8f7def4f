"""ticker-produce on JSON Lines of ticks (a recording, or another tool's feed): sent as they are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from tests.integration.test_produce import SEED, SEED_TS, produce_cli, read_all, run_cli
from tickerstream.parse import parse_bytes
from tickerstream.sources.files import parse_iso_ts

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.kafka import TopicFactory


async def test_jsonl_ticks_are_produced_byte_for_byte_and_bad_lines_become_rejects(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path
) -> None:
    ticks = parse_bytes(SEED.read_bytes(), ts=parse_iso_ts(SEED_TS), source="seed").ticks
    lines = [t.to_json() for t in ticks]
    bad = b'{"v":1,"symbol":"BTC","price":"not a number"}'
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"\n".join([*lines[:10], bad, *lines[10:]]) + b"\n")
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")

    proc = run_cli(produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, str(recording)))

    assert proc.returncode == 0, proc.stderr
    assert f"ticker-produce: {len(ticks)} ticks, 1 rejects (invalid_tick=1)" in proc.stderr
    records = await read_all(kafka_bootstrap, ticks_topic)
    assert sorted(r.value for r in records) == sorted(lines)  # the recording's bytes, not re-encoded
    assert all(r.key == orjson.loads(r.value)["symbol"].encode() for r in records)
    (reject,) = await read_all(kafka_bootstrap, rejects_topic, partitions=1)
    body = orjson.loads(reject.value)
    assert body["reason"] == "invalid_tick" and body["raw"] == bad.decode()
    assert body["source"] == str(recording)
