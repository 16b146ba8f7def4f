"""``--tick-version 1``: every tick record the producer writes is a frozen v1 record, on every input
path (pages in this process or in workers, JSON Lines, followed text) and in the archive."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from tests.support.paths import DATA
from tickerstream.parse import parse_bytes
from tickerstream.producer.follow import send_text
from tickerstream.producer.once import produce_once
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

if TYPE_CHECKING:
    from tests.unit.producer.conftest import FakeClient

SEED = DATA / "seed_page.txt"


def _inputs(tmp_path: Path, kind: str) -> list[str]:
    """One input of ``kind``: a page file, or a recording of the page's ticks as v2 JSON Lines."""
    if kind == "page":
        return [str(SEED)]
    ticks = parse_bytes(SEED.read_bytes(), ts=1_737_374_400_000, source="seed").ticks
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"".join(t.to_json() + b"\n" for t in ticks))
    return [str(recording)]


async def _produce(version: int, run: Callable[[TickProducer], Any]) -> tuple[list[bytes], list[bytes]]:
    """What ``run`` made the producer write: (values delivered to the ticks topic, archive lines)."""
    from tests.unit.producer.conftest import FakeClient

    archive = io.BytesIO()
    async with TickProducer(ProducerConfig(tick_version=version), archive=archive) as producer:
        await run(producer)
    ticks_topic = producer.config.ticks_topic
    delivered = [v for topic, _, v in FakeClient.delivered if topic == ticks_topic]
    return delivered, archive.getvalue().splitlines()


@pytest.mark.parametrize(
    ("kind", "workers"), [("page", "0"), ("page", "1"), ("jsonl", "0")], ids=["pages", "workers", "jsonl"]
)
async def test_every_input_path_writes_v1_records(
    fake_client: type[FakeClient],
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
    kind: str,
    workers: str,
) -> None:
    paths = _inputs(tmp_path, kind)

    async def run(producer: TickProducer) -> None:
        await produce_once(producer, paths, 1_737_374_400_000, asyncio.Event(), workers)

    delivered, archived = await _produce(1, run)
    assert len(delivered) == 50 and sorted(archived) == sorted(delivered)
    for value in delivered:
        validate_record("tick.v1", orjson.loads(value))


async def test_followed_text_writes_v1_records(
    fake_client: type[FakeClient], validate_record: Callable[[str, Any], None]
) -> None:
    async def run(producer: TickProducer) -> None:
        await send_text(producer, SEED.read_bytes(), "live.txt", 100)

    delivered, archived = await _produce(1, run)
    assert len(delivered) == 50 and sorted(archived) == sorted(delivered)
    for value in delivered:
        validate_record("tick.v1", orjson.loads(value))


async def test_the_default_stays_v2(fake_client: type[FakeClient]) -> None:
    async def run(producer: TickProducer) -> None:
        await produce_once(producer, [str(SEED)], 1_737_374_400_000, asyncio.Event(), "0")

    delivered, _ = await _produce(2, run)
    assert len(delivered) == 50
    assert {orjson.loads(v)["v"] for v in delivered} == {2}
