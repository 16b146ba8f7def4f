"""Snapshots stamped ahead of the clock (``producer.clock``): their ticks become rejects that say why.

A capture named in local time (UTC+8) without an offset is read as UTC, 8 hours ahead; sent, its ticks
would make the processor's engine drop every later tick of their series as late for 8 hours."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.paths import DATA
from tickerstream.model import Tick, tick_from_dict
from tickerstream.producer.clock import snapshot_detail
from tickerstream.producer.once import produce_once
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer
from tickerstream.producer.workers import parse_files

if TYPE_CHECKING:
    from tests.unit.producer.conftest import FakeClient

MIN = 60_000
HOUR = 60 * MIN
PAGE = (DATA / "seed_page.txt").read_bytes()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def stamp(ms: int) -> str:
    """A file-name stamp without an offset, as a scraper writes its local time."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H-%M-%S")


def topics(client: type[FakeClient]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    ticks = [json.loads(v) for t, _, v in client.delivered if t == "ticker.ticks"]
    rejects = [json.loads(v) for t, _, v in client.delivered if t == "ticker.rejects"]
    return ticks, rejects


async def produce(paths: list[str], ts: int | None = None, **config: int) -> TickProducer:
    async with TickProducer(ProducerConfig(**config)) as producer:  # type: ignore[arg-type]
        await produce_once(producer, paths, ts, asyncio.Event(), "0")
    return producer


async def test_a_capture_named_in_local_time_becomes_rejects(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    now = now_ms()
    good = tmp_path / f"page_{stamp(now - MIN)}.txt"
    ahead = tmp_path / f"page_{stamp(now + 8 * HOUR)}.txt"  # 8 h ahead: local time in UTC+8
    good.write_bytes(PAGE)
    ahead.write_bytes(PAGE)
    producer = await produce([str(good), str(ahead)])
    ticks, rejects = topics(fake_client)
    assert ticks and {t["ts"] for t in ticks} == {(now - MIN) // 1000 * 1000}
    refused = [r for r in rejects if r["source"] == str(ahead)]
    assert len(refused) == len(ticks) and producer.stats.future_snapshots == 1
    assert {r["reason"] for r in refused} == {"invalid_tick"}
    detail = str(refused[0]["detail"])
    assert "by the timestamp in its file name (read as UTC unless the name carries an offset)" in detail
    assert " is 8 h 0 min ahead of this machine's clock" in detail and "with their offset" in detail
    # Nothing lost: each reject holds the tick record, ready to send again once its time is fixed.
    raw = tick_from_dict(json.loads(str(refused[0]["raw"])))
    assert raw.ts == (now + 8 * HOUR) // 1000 * 1000 and raw.source == str(ahead)


async def test_a_modification_time_ahead_of_the_clock_says_so(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(PAGE)
    ahead_s = time.time() + 2 * 3600
    os.utime(page, (ahead_s, ahead_s))
    await produce([str(page)])
    ticks, rejects = topics(fake_client)
    assert ticks == [] and rejects
    assert "by its modification time is 2 h 0 min ahead" in str(rejects[0]["detail"])


async def test_a_ts_option_in_the_future_is_refused(fake_client: type[FakeClient], tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(PAGE)
    await produce([str(page)], ts=now_ms() + HOUR)
    ticks, rejects = topics(fake_client)
    assert ticks == [] and "by --ts is 60 min ahead" in str(rejects[0]["detail"])


async def test_clock_skew_inside_the_allowance_is_sent_and_zero_turns_the_check_off(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    now = now_ms()
    skewed = tmp_path / f"page_{stamp(now + 2 * MIN)}Z.txt"
    skewed.write_bytes(PAGE)
    await produce([str(skewed)])
    ticks, _ = topics(fake_client)
    assert ticks
    ahead = tmp_path / f"page_{stamp(now + 8 * HOUR)}Z.txt"
    ahead.write_bytes(PAGE)
    producer = await produce([str(ahead)], max_future_ms=0)
    ticks, _ = topics(fake_client)
    assert ticks and producer.stats.future_snapshots == 0


def test_parse_workers_refuse_the_same_snapshots(tmp_path: Path) -> None:
    now = now_ms()
    ahead = tmp_path / f"page_{stamp(now + 8 * HOUR)}.txt"
    ahead.write_bytes(PAGE)
    encoded = parse_files([str(ahead)], None, 3)
    assert encoded.values == [] and len(encoded.future) == 1
    source, detail, n = encoded.future[0]
    assert source == str(ahead) and "8 h 0 min ahead" in detail
    assert n == sum(len(r) for _, r in encoded.rejects) > 0


async def test_a_recorded_tick_from_the_future_becomes_a_reject(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    now = now_ms()
    rec = tmp_path / "ticks.jsonl"
    lines = [
        Tick("USDC", "USD Coin", "usd-coin", 1.0, "USD", None, False, t, "r").to_json()
        for t in (now, now + 8 * HOUR)
    ]
    rec.write_bytes(b"\n".join(lines) + b"\n")
    await produce([str(rec)])
    ticks, rejects = topics(fake_client)
    assert [t["ts"] for t in ticks] == [now]
    assert [r["reason"] for r in rejects] == ["invalid_tick"]
    assert "8 h 0 min ahead of this machine's clock" in str(rejects[0]["detail"])


@pytest.mark.parametrize("name", ["capture.txt", "inbox/2024-05-01_page.txt"])
def test_the_detail_without_a_matching_name_stamp_blames_the_modification_time(name: str) -> None:
    t0 = 1_737_331_200_000
    detail = snapshot_detail(name, t0 + 8 * HOUR, t0, 5 * MIN)
    assert detail.startswith(
        "snapshot stamped 2025-01-20T08:00:00Z by its modification time is 8 h 0 min ahead"
    )
    assert "allowed clock skew of 5 min" in detail
