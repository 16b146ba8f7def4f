"""``--tick-version 1`` or ``2``: every tick record the producer writes is a frozen record of that
version, on every input path (pages in this process or in workers, JSON Lines, followed text) and in
the archive; a tick whose symbol the coin registry mapped, which such a record cannot say, is a
reject instead. The default, v3, writes every tick with its ``symbol_source``."""

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
#: A row that shows a name and no symbol: its tick's symbol comes from the coin registry (v3 only).
NAME_ROW = b"Ethereum 3,199.99 1.1%\n"
TS = 1_737_374_400_000


def _page(tmp_path: Path) -> Path:
    page = tmp_path / "page.txt"
    page.write_bytes(SEED.read_bytes() + b"\n" + NAME_ROW)
    return page


def _inputs(tmp_path: Path, kind: str) -> list[str]:
    """One input of ``kind``: the seed page plus a name-only row, or its ticks as v3 JSON Lines."""
    page = _page(tmp_path)
    if kind == "page":
        return [str(page)]
    ticks = parse_bytes(page.read_bytes(), ts=TS, source="seed").ticks
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"".join(t.to_json() + b"\n" for t in ticks))
    return [str(recording)]


async def _produce(
    version: int, run: Callable[[TickProducer], Any]
) -> tuple[list[bytes], list[bytes], list[dict[str, Any]]]:
    """What ``run`` made the producer write: (values delivered to the ticks topic, archive lines,
    rejects delivered)."""
    from tests.unit.producer.conftest import FakeClient

    archive = io.BytesIO()
    async with TickProducer(ProducerConfig(tick_version=version), archive=archive) as producer:
        await run(producer)
    cfg = producer.config
    delivered = [v for topic, _, v in FakeClient.delivered if topic == cfg.ticks_topic]
    rejects = [orjson.loads(v) for topic, _, v in FakeClient.delivered if topic == cfg.rejects_topic]
    return delivered, archive.getvalue().splitlines(), rejects


def _check_older(
    version: int,
    delivered: list[bytes],
    archived: list[bytes],
    rejects: list[dict[str, Any]],
    validate_record: Callable[[str, Any], None],
) -> None:
    """The seed page's 50 ticks as frozen records of ``version``; the registry-mapped one a reject."""
    assert len(delivered) == 50 and sorted(archived) == sorted(delivered)
    for value in delivered:
        validate_record(f"tick.v{version}", orjson.loads(value))
    (reject,) = rejects
    assert reject["reason"] == "unmapped_name" and orjson.loads(reject["raw"])["symbol_source"] == "registry"


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    ("kind", "workers"), [("page", "0"), ("page", "1"), ("jsonl", "0")], ids=["pages", "workers", "jsonl"]
)
async def test_every_input_path_writes_records_of_the_older_version(
    fake_client: type[FakeClient],
    tmp_path: Path,
    validate_record: Callable[[str, Any], None],
    kind: str,
    workers: str,
    version: int,
) -> None:
    paths = _inputs(tmp_path, kind)

    async def run(producer: TickProducer) -> None:
        await produce_once(producer, paths, TS, asyncio.Event(), workers)

    _check_older(version, *await _produce(version, run), validate_record)


@pytest.mark.parametrize("version", [1, 2])
async def test_followed_text_writes_records_of_the_older_version(
    fake_client: type[FakeClient], tmp_path: Path, validate_record: Callable[[str, Any], None], version: int
) -> None:
    async def run(producer: TickProducer) -> None:
        await send_text(producer, _page(tmp_path).read_bytes(), "live.txt", 100)

    _check_older(version, *await _produce(version, run), validate_record)


async def test_the_default_is_v3_with_every_tick(
    fake_client: type[FakeClient], tmp_path: Path, validate_record: Callable[[str, Any], None]
) -> None:
    async def run(producer: TickProducer) -> None:
        await produce_once(producer, [str(_page(tmp_path))], TS, asyncio.Event(), "0")

    delivered, _, rejects = await _produce(ProducerConfig().tick_version, run)
    records = [orjson.loads(v) for v in delivered]
    assert len(records) == 51 and rejects == []
    assert {r["v"] for r in records} == {3}
    assert [r["symbol"] for r in records if r["symbol_source"] == "registry"] == ["ETH"]
    for record in records:
        validate_record("tick", record)
