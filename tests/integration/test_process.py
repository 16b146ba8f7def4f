"""ticker-process end to end against the real broker: scripted ticks in, the replay's events out.

Ticks go in with a plain producer (key = symbol), events come back with a plain consumer; the expected
events are those of the engine run directly over the same ticks (what ``ticker-replay`` does), compared
as JSON, by id and by count.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.support.processor import (
    by_id,
    cli_args,
    expected_events,
    fast_config,
    multiset,
    process_to_end,
    read_all,
    scripted_ticks,
    tick_records,
)
from tickerstream.kafka.partitioner import KeyRouter

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tests.support.processes import ChildProcesses
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
async def test_events_equal_the_replay_of_the_same_ticks(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    processor_kafka: KafkaSettings,
    exactly_once: bool,
    validate_record: object,
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks()
    expected = expected_events(ticks)
    kinds = {orjson.loads(e)["type"] for e in expected}
    pegged = {orjson.loads(e)["symbol"] for e in expected if orjson.loads(e)["type"] == "peg"}
    assert kinds == {"move", "peg"}
    assert {"USDC", "WBTC", "STETH"} <= pegged, "the script must exercise both joins"

    config = fast_config(kafka_topics.prefix, exactly_once=exactly_once)
    proc = await process_to_end(kafka, config, kafka_bootstrap, tick_records(ticks))

    got = await read_all(
        kafka_bootstrap,
        [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality],
        committed_only=exactly_once,
    )
    assert by_id(got) == by_id(expected)
    assert multiset(got) == multiset(expected)  # a run without faults has no duplicates either
    for value in got:
        obj = orjson.loads(value)
        validate_record(obj["type"], obj)  # type: ignore[operator]
    assert proc.stats.ticks == len(ticks) and proc.stats.rejects == 0
    assert proc.stats.gate_timeouts == 0


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
async def test_a_successor_judges_held_pegged_ticks_as_the_replay(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    processor_kafka: KafkaSettings,
    exactly_once: bool,
) -> None:
    """The first processor reads every partition but ETH's (its ticks come later): it holds the WETH
    ticks, far behind its watermark, and stops with them in its checkpoint. A fresh processor restores
    them with that watermark; its first step must not judge them before ETH's horizon is in (it once
    did, when BTC's horizon went in first: WETH went ``unknown`` with no ETH point, as in a group run
    where the other instance took ETH's and WETH's partitions over from one that had read neither)."""
    kafka = processor_kafka
    ticks = scripted_ticks()
    expected = expected_events(ticks)
    records = tick_records(ticks)
    router = KeyRouter(kafka.ticks_partitions)
    eth = router.route("ETH")[1]
    assert router.route("WETH")[1] != eth
    early = records[: len(records) // 3]
    on_eth = [router.route((key or b"").decode())[1] == eth for key, _ in early]
    first = [r for r, skip in zip(early, on_eth, strict=True) if not skip]
    rest = [r for r, skip in zip(early, on_eth, strict=True) if skip] + records[len(records) // 3 :]
    config = fast_config(kafka_topics.prefix, exactly_once=exactly_once)

    before = await process_to_end(kafka, config, kafka_bootstrap, first)
    assert before.engine.pegs.held.get("WETH"), "WETH must wait for ETH in the first processor"
    after = await process_to_end(kafka, config, kafka_bootstrap, rest)
    assert after.stats.restores == kafka.ticks_partitions and after.stats.cold_starts == 0

    got = await read_all(
        kafka_bootstrap,
        [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality],
        committed_only=exactly_once,
    )
    assert by_id(got) == by_id(expected)
    assert set(got) == set(expected)
    assert before.stats.gate_timeouts == 0 and after.stats.gate_timeouts == 0


async def test_cli_refuses_a_ticks_topic_with_another_partition_count(
    kafka_topics: TopicFactory, processor_kafka: KafkaSettings, child_processes: ChildProcesses
) -> None:
    kafka = processor_kafka  # every topic it uses is cleaned up, also those it creates before refusing
    await kafka_topics.create("ticks", partitions=3)  # configured: 4
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tickerstream.cli.process",
        *cli_args(kafka, fast_config(kafka_topics.prefix)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    child_processes.add(proc)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = [line for line in err.decode().splitlines() if line.startswith("ticker-process:")]
    assert proc.returncode == 2, err.decode()[-2000:]
    assert len(lines) == 1 and "has 3 partitions" in lines[0] and "Traceback" not in err.decode()


async def test_cli_refuses_an_unknown_setting(child_processes: ChildProcesses) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tickerstream.cli.process",
        "--no-metrics",
        "--set",
        "process.comit_interval_ms=5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    child_processes.add(proc)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and "unknown setting comit_interval_ms" in err.decode()
