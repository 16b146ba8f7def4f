"""ticker-produce on the real broker: a capture named in local time is not sent as ticks but recorded as
rejects that say which file and what to fix."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from tests.integration.test_produce import SEED, produce_cli, read_all, run_cli

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.timeout(120)


def name_stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H-%M-%S")


async def test_a_capture_named_in_local_time_becomes_rejects_not_ticks(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    now = int(time.time() * 1000)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = inbox / f"a-{name_stamp(now - 60_000)}Z.txt"
    local = inbox / f"b-{name_stamp(now + 8 * 3_600_000)}.txt"  # local time in UTC+8, no offset
    good.write_bytes(SEED.read_bytes())
    local.write_bytes(SEED.read_bytes())
    proc = run_cli(produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, str(inbox)))
    assert proc.returncode == 0, proc.stderr
    assert "50 ticks, 50 rejects (invalid_tick=50) from 2 snapshot(s)" in proc.stderr, proc.stderr
    assert '"produce.snapshot_from_future"' in proc.stderr and str(local) in proc.stderr

    ticks = [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, ticks_topic)]
    assert len(ticks) == 50 and {t["ts"] for t in ticks} == {(now - 60_000) // 1000 * 1000}
    rejects = [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, rejects_topic, 1)]
    assert len(rejects) == 50 and {r["source"] for r in rejects} == {str(local)}
    for r in rejects:
        validate_record("reject", r)
        assert r["reason"] == "invalid_tick"
        assert "by the timestamp in its file name" in r["detail"] and " is 8 h 0 min ahead" in r["detail"]
        assert orjson.loads(r["raw"])["ts"] == (now + 8 * 3_600_000) // 1000 * 1000
