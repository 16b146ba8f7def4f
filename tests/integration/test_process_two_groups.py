"""Consumer groups over the same ticks, one after the other: each has its own state (checkpoints and
reference prices), so each one's events equal the replay, cross-partition pegs included, whatever
another group (or an earlier run) left in a shared reference topic."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.support.processor import (
    by_id,
    expected_events,
    fast_config,
    produce,
    read_all,
    scripted_ticks,
    tick_records,
    wait_all_committed,
)
from tickerstream.kafka.admin import REFPRICES_TOPIC_CONFIGS, TopicSpec, ensure_topics, topic_specs_for
from tickerstream.processor.processor import Processor
from tickerstream.processor.refprices import encode_ref

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(60)


async def _run_to_end(bootstrap: str, proc: Processor, group: str, ticks_topic: str) -> None:
    async with proc:
        task = asyncio.create_task(proc.run())
        await wait_all_committed(bootstrap, group, ticks_topic, tasks=[task])
        proc.request_stop()
        await asyncio.wait_for(task, 10)


async def test_groups_in_sequence_do_not_read_each_others_reference_prices(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings
) -> None:
    prefix = kafka_topics.prefix
    kafka = processor_kafka
    ticks = scripted_ticks(days=1.0)
    expected = by_id(expected_events(ticks))
    assert any(orjson.loads(v)["symbol"] in {"WBTC", "STETH"} for v in expected.values())
    await ensure_topics(kafka_bootstrap, topic_specs_for(kafka))
    await produce(kafka_bootstrap, kafka.topics.ticks, tick_records(ticks))

    # What another group (or an earlier run) leaves in a shared, compacted reference topic: its latest
    # point and progress per reference. A group reading it would take those first, then refuse its own
    # older points (and open its gate early): its WBTC/stETH pegs would differ from the replay.
    shared = kafka_topics.name("refprices")
    await ensure_topics(kafka_bootstrap, [TopicSpec(shared, 1, configs=REFPRICES_TOPIC_CONFIGS)])
    last = {t.symbol: t for t in ticks if t.symbol in {"BTC", "ETH"}}
    await produce(
        kafka_bootstrap,
        shared,
        [(s.encode(), encode_ref(s, t.ts, t.price, t.ts + 1)) for s, t in last.items()],
    )

    for name in ("production", "staging"):  # the same ticks, one group after the other
        topics = replace(
            kafka.topics, moves=kafka_topics.name(f"moves-{name}"), pegs=kafka_topics.name(f"pegs-{name}")
        )
        config = fast_config(prefix, group=f"{prefix}{name}", transactional_id_prefix=f"{prefix}{name}")
        kafka_topics.name(f"ticks.{config.group}.checkpoints")
        kafka_topics.name(f"refprices.{config.group}")
        k = replace(kafka, topics=topics)
        proc = Processor(k, config=config)
        await _run_to_end(kafka_bootstrap, proc, config.group, k.topics.ticks)
        got = by_id(await read_all(kafka_bootstrap, [topics.moves, topics.pegs, topics.quality]))
        assert got == expected, f"group {name}: events differ from the replay"
        assert proc.stats.gate_timeouts == 0
