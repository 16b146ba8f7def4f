"""Poison in the ticks topic: dead letters with a reason, and the good ticks around them processed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest

from tests.support.processor import (
    by_id,
    expected_events,
    fast_config,
    process_to_end,
    read_all,
    scripted_ticks,
    tick_records,
)
from tickerstream.kafka.partitioner import partition_for

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(90)

NAN_TICK = (
    b'{"v":1,"symbol":"BTC","name":"Bitcoin","coin_id":"bitcoin","price":NaN,"currency":"USD",'
    b'"change_pct":null,"change_sign_known":false,"ts":1737331200000,"source":"x"}'
)
POISON: list[tuple[str, bytes, str]] = [
    ("BTC", b"not json at all", "not_json"),
    ("BTC", b'{"v":1,"symbol":"BTC","price":"104,442.98"}', "invalid_tick"),
    ("USDC", NAN_TICK.replace(b"BTC", b"USDC"), "not_json"),  # NaN is not JSON
    ("BTC", b'{"v":1,"pad":"' + b"x" * 1_000_000 + b'"}', "message_too_large"),
    ("WBTC", b'{"v":2,"symbol":"WBTC"}', "invalid_tick"),
    ("ETH", b"[1,2,3]", "not_json"),
]


async def test_poison_messages_go_to_the_dead_letter_topic(
    kafka_bootstrap: str, kafka_topics: TopicFactory, processor_kafka: KafkaSettings, validate_record: object
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks(days=1.0)
    records = tick_records(ticks)
    # Poison goes between good ticks of the same partitions, spread over the stream.
    step = len(records) // (len(POISON) + 1)
    mixed: list[tuple[bytes | None, bytes]] = []
    for i, (key, value, _) in enumerate(POISON):
        mixed += records[i * step : (i + 1) * step]
        mixed.append((key.encode(), value))
    mixed += records[len(POISON) * step :]

    config = fast_config(kafka_topics.prefix)
    proc = await process_to_end(kafka, config, kafka_bootstrap, mixed)

    rejects = [orjson.loads(v) for v in await read_all(kafka_bootstrap, [kafka.topics.rejects])]
    assert sorted(r["reason"] for r in rejects) == sorted(reason for _, _, reason in POISON)
    for r in rejects:
        validate_record("reject", r)  # type: ignore[operator]
        topic, _partition, offset = r["source"].rsplit("/", 2)
        assert topic == kafka.topics.ticks and int(offset) >= 0
        assert len(r["raw"]) <= 512 and r["detail"]
    big = next(r for r in rejects if r["reason"] == "message_too_large")
    assert big["raw"].startswith('{"v":1,"pad":"xxx') and big["raw"].endswith("…")
    assert int(big["source"].rsplit("/", 2)[1]) == partition_for(b"BTC", kafka.ticks_partitions)
    got = await read_all(kafka_bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality])
    assert by_id(got) == by_id(expected_events(ticks))
    assert proc.stats.ticks == len(ticks) and proc.stats.rejects == len(POISON)
