"""``ticker-produce --tick-version 1`` on the real broker: a consumer validating the frozen v1 schema
(``additionalProperties: false``) reads every record of the topic, and the archive holds the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from tests.integration.test_produce import SEED, SEED_TS, _write_pages, produce_cli, read_all, run_cli
from tickerstream.parse import parse_bytes
from tickerstream.sources.files import parse_iso_ts

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.timeout(120)


def _v2_recording(path: Path) -> int:
    """The seed page's ticks as v2 JSON Lines (with ``price_quantum``); returns how many."""
    ticks = parse_bytes(SEED.read_bytes(), ts=parse_iso_ts(SEED_TS), source="seed").ticks
    assert any(t.price_quantum is not None for t in ticks)
    path.write_bytes(b"".join(t.to_json() + b"\n" for t in ticks))
    return len(ticks)


@pytest.mark.parametrize("mode", ["files", "follow"])
async def test_tick_version_1_writes_only_frozen_v1_records(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
    mode: str,
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    archive = tmp_path / "archive.jsonl"
    base = produce_cli(
        kafka_bootstrap, ticks_topic, rejects_topic, "--tick-version", "1", "--archive", str(archive)
    )
    if mode == "files":  # pages parsed in worker processes, then a v2 recording
        expected = _write_pages(tmp_path / "pages", pages=20, symbols=100)
        expected += _v2_recording(tmp_path / "recorded.jsonl")
        args = ["--parse-workers", "2", str(tmp_path / "pages"), str(tmp_path / "recorded.jsonl")]
        proc = run_cli([*base, *args])
    else:  # a stream on stdin, followed until it ends
        expected = 50
        proc = run_cli([*base, "--follow", "-"], input=SEED.read_text())
    assert proc.returncode == 0, proc.stderr
    assert f"ticker-produce: {expected} ticks" in proc.stderr

    records = await read_all(kafka_bootstrap, ticks_topic)
    assert len(records) == expected
    for record in records:
        validate_record("tick.v1", orjson.loads(record.value))
    assert sorted(archive.read_bytes().splitlines()) == sorted(r.value for r in records)
