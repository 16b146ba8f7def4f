"""Peg monitoring through Kafka equals the replay when the reference goes missing: the reference-outage
scenarios of docs/pegs.md (BTC missing for hours while WBTC is off its peg, in warn, or a sparse BTC
crashing) through one ``Processor`` on the real broker. WBTC and BTC are keyed by symbol, so the
judgement crosses partitions through the group's reference topic and the gate; ``unknown``, its
reminders and the episodes that end in it must come out byte for byte as in the replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest

from tests.support.processor import (
    by_id,
    expected_events,
    fast_config,
    multiset,
    process_to_end,
    read_all,
    tick_records,
)
from tests.unit.engine.peg_scenarios import SCENARIOS
from tickerstream.model import Tick

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(180)

OUTAGES = [s for s in SCENARIOS if s.symbol == "WBTC"]


def as_ticks(rows: list[tuple[str, int, float]]) -> list[Tick]:
    return [Tick(sym, sym, None, price, "USD", None, False, ts, "scenario") for sym, ts, price in rows]


async def test_reference_outages_give_the_replays_peg_events(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    kafka = processor_kafka
    # the three outages one after the other, a day apart, as one stream
    rows: list[tuple[str, int, float]] = []
    for k, s in enumerate(OUTAGES):
        rows += [(sym, ts + k * 86_400_000, p) for sym, ts, p in s.ticks]
    end = max(ts for _, ts, _ in rows) + 60_000  # a closing page: no WBTC tick left waiting for BTC
    rows += [("BTC", end, 95_000.0), ("WBTC", end, 94_950.0)]
    ticks = as_ticks(rows)
    expected = expected_events(ticks)
    states = {orjson.loads(e)["state"] for e in expected if orjson.loads(e)["type"] == "peg"}
    assert {"unknown", "warn", "critical", "ok"} <= states, "the outages must reach every state"

    config = fast_config(kafka_topics.prefix)
    await process_to_end(kafka, config, kafka_bootstrap, tick_records(ticks))

    got = await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    assert by_id(got) == by_id(expected)
    assert multiset(got) == multiset(expected)
