"""``ticker-produce --tick-version 1`` or ``2`` on the real broker: a consumer validating that frozen
schema (``additionalProperties: false``) reads every record of the topic, and the archive holds the
same; a tick whose symbol the coin registry mapped, which such a record cannot say, is a reject."""

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


#: A row with a name and no symbol: its tick (ETH, from the coin registry) exists only in v3.
NAME_ROW = "Ethereum 3,199.99 1.1%\n"


def _v3_recording(path: Path) -> int:
    """The seed page's ticks and one registry-mapped tick as v3 JSON Lines (with ``price_quantum``
    and ``symbol_source``); returns how many page ticks."""
    page = SEED.read_text() + "\n" + NAME_ROW
    ticks = parse_bytes(page.encode(), ts=parse_iso_ts(SEED_TS), source="seed").ticks
    assert any(t.price_quantum is not None for t in ticks)
    assert [t.symbol for t in ticks if t.symbol_source == "registry"] == ["ETH"]
    path.write_bytes(b"".join(t.to_json() + b"\n" for t in ticks))
    return len(ticks) - 1


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("mode", ["files", "follow"])
async def test_an_older_tick_version_writes_only_its_frozen_records(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
    mode: str,
    version: int,
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    archive = tmp_path / "archive.jsonl"
    base = produce_cli(
        kafka_bootstrap, ticks_topic, rejects_topic, "--tick-version", str(version), "--archive", str(archive)
    )
    if mode == "files":  # pages parsed in worker processes, then a v3 recording
        expected = _write_pages(tmp_path / "pages", pages=20, symbols=100)
        expected += _v3_recording(tmp_path / "recorded.jsonl")
        args = ["--parse-workers", "2", str(tmp_path / "pages"), str(tmp_path / "recorded.jsonl")]
        proc = run_cli([*base, *args])
    else:  # a stream on stdin, followed until it ends
        expected = 50
        proc = run_cli([*base, "--follow", "-"], input=SEED.read_text() + "\n" + NAME_ROW)
    assert proc.returncode == 0, proc.stderr
    assert f"ticker-produce: {expected} ticks" in proc.stderr

    records = await read_all(kafka_bootstrap, ticks_topic)
    assert len(records) == expected
    for record in records:
        validate_record(f"tick.v{version}", orjson.loads(record.value))
    assert sorted(archive.read_bytes().splitlines()) == sorted(r.value for r in records)
    (reject,) = [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, rejects_topic, partitions=1)]
    assert reject["reason"] == "unmapped_name" and orjson.loads(reject["raw"])["symbol"] == "ETH"
