"""A tick stamped hours ahead of the clock, on a real broker: a dead letter, and the depeg behind it reported.

USDC at $1.00 every 10 minutes, one capture stamped 8 hours ahead (local time read as UTC), then two hours
at $0.90 up to now. With the old day-long allowance that tick went through and every later USDC tick was
dropped as late: no peg event at all."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.support.processor import (
    fast_config,
    process_to_end,
    read_all,
    tick_records,
)
from tickerstream.model import Tick

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(90)

MIN = 60_000
HOUR = 60 * MIN


def usdc(ts: int, price: float) -> Tick:
    return Tick("USDC", "USD Coin", "usd-coin", price, "USD", None, False, ts, "page", 1e-4)


async def test_a_tick_from_the_future_is_a_dead_letter_and_the_depeg_behind_it_is_reported(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings, validate_record: object
) -> None:
    kafka = processor_kafka
    start = (int(time.time() * 1000) - 4 * HOUR) // MIN * MIN
    calm = [usdc(start + i * 10 * MIN, 1.0) for i in range(12)]
    bogus = usdc(start + 12 * 10 * MIN + 8 * HOUR, 1.0)  # captured 2 h ago, stamped 6 h from now
    depeg = [usdc(start + i * 10 * MIN, 0.90) for i in range(12, 24)]  # the last one 10 min ago
    ticks = [*calm, bogus, *depeg]

    config = fast_config(kafka_topics.prefix)  # the default clock-skew allowance
    proc = await process_to_end(kafka, config, kafka_bootstrap, tick_records(ticks))

    rejects = [orjson.loads(v) for v in await read_all(kafka_bootstrap, [kafka.topics.rejects])]
    assert [r["reason"] for r in rejects] == ["invalid_tick"]
    validate_record("reject", rejects[0])  # type: ignore[operator]
    assert orjson.loads(rejects[0]["raw"])["ts"] == bogus.ts
    assert rejects[0]["source"] == f"{kafka.topics.ticks}/{rejects[0]['source'].rsplit('/', 2)[1]}/12"
    detail = rejects[0]["detail"]
    # Our ticks topic stamps LogAppendTime: the tick is judged against when it reached Kafka.
    assert " ahead of the time Kafka appended it " in detail and "fix the clock or the time zone" in detail

    pegs = [orjson.loads(v) for v in await read_all(kafka_bootstrap, [kafka.topics.pegs])]
    critical = [p for p in pegs if p["symbol"] == "USDC" and p["state"] == "critical"]
    assert critical, pegs
    assert critical[0]["ts"] - depeg[0].ts <= 30 * MIN  # minutes after the first $0.90 page
    assert proc.engine.stats.late == 0 and proc.stats.rejects == 1
    assert proc.engine.peg_status("USDC") == ("critical", pytest.approx(-1000.0, abs=1.0))
