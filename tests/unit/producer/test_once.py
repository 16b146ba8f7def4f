"""``produce_once``: what ticker-produce refuses before it sends anything."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.paths import DATA
from tickerstream.errors import SourceError
from tickerstream.producer.once import produce_once
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

if TYPE_CHECKING:
    from tests.unit.producer.conftest import FakeClient


async def test_a_parquet_input_is_refused_before_anything_is_sent(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "ticks.parquet").write_bytes(b"PAR1")
    paths = [str(DATA / "seed_page.txt"), str(tmp_path / "inbox")]  # the page comes first
    async with TickProducer(ProducerConfig()) as producer:
        with pytest.raises(SourceError, match=r"ticks\.parquet: ticker-produce reads pages and JSON Lines"):
            await produce_once(producer, paths, 1_737_374_400_000, asyncio.Event(), "0")
    assert producer.stats.ticks_sent == 0 and fake_client.delivered == []
