"""The main job on Kafka, in one process: the same sources and engine as the embedded run, through topics.

``tickerstream run --bootstrap-servers HOST:PORT [PATH ...]`` starts a :class:`Processor` (a member of
the consumer group, exactly what ``ticker-process`` runs), produces the sources' ticks with the
:class:`Producer` of ``ticker-produce``, writes the events that appear on the moves, pegs and
quality topics to ``out``, and returns once the group has committed every tick it was given. It is
the quickest way to see the whole streaming path work; for a long-running deployment run
``ticker-produce`` and any number of ``ticker-process`` instances instead (README, "Operations").
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from aiokafka import AIOKafkaConsumer

from tickerstream.engine import EngineConfig
from tickerstream.errors import KafkaUnavailable
from tickerstream.kafka.event_follower import EventFollower, topic_partitions
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.processor.config import ProcessorConfig
from tickerstream.processor.processor import Processor
from tickerstream.producer.runner import ProduceInputs, Producer

#: How long to wait for the group to commit the last tick before giving up (a stuck broker).
DRAIN_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class MainJobResult:
    """What one run did: ticks produced (acknowledged) and events printed, by type."""

    produced: int
    events_by_type: Counter[str]
    elapsed_s: float


async def run_main_job(
    settings: KafkaSettings, paths: Sequence[str], config: EngineConfig, group: str, out: BinaryIO
) -> MainJobResult:
    """Produce ``paths``, process them in this process as a member of ``group``, write events to ``out``.

    Cancelling the task (SIGTERM, Ctrl-C) stops the processor (it commits and leaves the group) and
    closes every client on the way out."""
    started = time.monotonic()
    # The processor creates/checks the topics and joins the group on entry, leaves it on exit.
    async with Processor(settings, config, ProcessorConfig(group=group)) as processor:
        topics = settings.topics
        events = EventFollower(settings, [topics.moves, topics.pegs, topics.quality], out)
        run_task: asyncio.Task[None] | None = None
        try:
            await events.start()
            run_task = asyncio.create_task(processor.run(), name="processor")
            async with Producer(settings) as producer:
                await producer.run(ProduceInputs(paths=list(paths)))
            await _wait_until_committed(settings, group, run_task)
            await events.drain()
            processor.request_stop()
            await run_task
        finally:
            if run_task is not None and not run_task.done():  # interrupted: let the loop finish its step
                processor.request_stop()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(run_task, timeout=30)
            await events.stop()
    return MainJobResult(producer.stats.ticks_acked, events.counts, time.monotonic() - started)


async def _wait_until_committed(settings: KafkaSettings, group: str, run_task: asyncio.Task[None]) -> None:
    """Until the group's committed offsets reach the end of every partition of the ticks topic."""
    probe = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        **settings.client_kwargs(),
    )
    await probe.start()  # never subscribes: it only reads the group's committed offsets
    try:
        tps = await topic_partitions(settings, settings.topics.ticks)
        ends = await probe.end_offsets(tps)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            if run_task.done():
                run_task.result()  # re-raise what stopped the processor
                raise KafkaUnavailable("the processor stopped before it had processed every tick")
            behind = {tp: ends[tp] - ((await probe.committed(tp)) or 0) for tp in tps}
            if all(lag <= 0 for lag in behind.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the group {group} did not catch up within {DRAIN_TIMEOUT_S:.0f} s: {behind}"
                )
            await asyncio.sleep(0.2)
    finally:
        await probe.stop()
