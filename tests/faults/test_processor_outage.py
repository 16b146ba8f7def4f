"""The broker stopped and restarted under a running processor (30 s and 90 s outages).

The processor must ride the outage out (its clients reconnect), and afterwards every tick is
processed and the events equal a replay of the ticks: lost = 0, and at-least-once repeats are
byte-identical copies (same ids), exactly-once has none. Each case prints its accounting.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.processor import (
    by_id,
    committed_offsets,
    expected_events,
    fast_config,
    multiset,
    produce,
    read_all,
    scripted_ticks,
    settings,
    tick_records,
    wait_all_committed,
)
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.own_broker import OwnBroker

pytestmark = pytest.mark.timeout(600)


@pytest.mark.parametrize(
    ("outage_s", "exactly_once"), [(30, False), (90, True)], ids=["30s-at-least-once", "90s-exactly-once"]
)
async def test_processor_rides_out_a_broker_outage(
    own_broker: OwnBroker, outage_s: int, exactly_once: bool
) -> None:
    bootstrap = own_broker.bootstrap
    prefix = f"outage{outage_s}."
    kafka = settings(bootstrap, prefix)
    ticks = scripted_ticks(days=1.0)
    records = tick_records(ticks)
    half = len(records) // 2
    config = fast_config(prefix, exactly_once=exactly_once)
    expected = expected_events(ticks)

    proc = Processor(kafka, config=config)
    await proc.start()
    task = asyncio.create_task(proc.run())
    try:
        await produce(bootstrap, kafka.topics.ticks, records[:half])
        await wait_all_committed(bootstrap, config.group, kafka.topics.ticks, 120, tasks=[task])
        await asyncio.to_thread(own_broker.stop)
        down_at = time.monotonic()
        await asyncio.sleep(max(0.0, outage_s - (time.monotonic() - down_at)))
        assert not task.done(), f"the processor died during the outage: {task.exception()!r}"
        await asyncio.to_thread(own_broker.start)
        await produce(bootstrap, kafka.topics.ticks, records[half:])
        # After the broker is back: a rejoin (session timeout) and the rest of the ticks.
        await wait_all_committed(bootstrap, config.group, kafka.topics.ticks, 180, tasks=[task])
    finally:
        proc.request_stop()
        await asyncio.wait_for(task, 60)
        await proc.stop()

    committed = sum((await committed_offsets(bootstrap, config.group)).values())
    got = await read_all(
        bootstrap, [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality], committed_only=exactly_once
    )
    want = multiset(expected)
    seen = multiset(got)
    lost = sum((want - seen).values())
    extra = seen - want
    duplicates = sum(n for v, n in extra.items() if v in want)
    foreign = sum(n for v, n in extra.items() if v not in want)
    print(
        f"\naccounting broker outage {outage_s}s ({'exactly' if exactly_once else 'at-least'}-once): "
        f"ticks in {len(records)}, processed {committed}, events out {len(got)} "
        f"(replay {len(expected)}), duplicates {duplicates}, lost {lost}, not in replay {foreign}"
    )
    assert committed == len(records)
    assert lost == 0 and foreign == 0
    assert by_id(got) == by_id(expected)
    if exactly_once:
        assert duplicates == 0
