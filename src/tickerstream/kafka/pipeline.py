"""The main job on Kafka, in one process: the same sources and engine as the embedded run, through topics.

``tickerstream run --bootstrap-servers HOST:PORT [PATH ...]`` starts a ``Processor`` (a member of the
consumer group, exactly what ``ticker-process`` runs), produces the sources' ticks with the
``TickProducer`` of ``ticker-produce``, prints the events that appear on the moves and pegs topics,
and returns once the group has committed every tick it was given. It is the quickest way to see the
whole streaming path work; for a long-running deployment run ``ticker-produce`` and any number of
``ticker-process`` instances instead (README, "Operations").
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tickerstream.cli.common import UsageError
from tickerstream.codec import decode_tick_values
from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.kafka.admin import TopicError, partition_count
from tickerstream.kafka.process import Processor
from tickerstream.kafka.process_config import ProcessorConfig
from tickerstream.kafka.produce import ProducerConfig, TickProducer
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.log import get_logger
from tickerstream.model import Reject
from tickerstream.parse import parse_bytes
from tickerstream.replay_inputs import InputError, expand_inputs, open_binary
from tickerstream.sources import SourceError, iter_snapshots

log = get_logger(__name__)

#: JSON Lines read and validated per batch when producing a recording.
JSONL_BATCH_BYTES = 4 * 1024 * 1024

#: How long to wait for the group to commit the last tick before giving up (a stuck broker).
DRAIN_TIMEOUT_S = 120.0


def run_on_kafka(
    bootstrap: str, paths: Sequence[str], config: EngineConfig, group: str = "tickerstream-run"
) -> int:
    """Run the pipeline through Kafka; events go to stdout as JSON Lines, a summary to stderr."""
    try:
        return asyncio.run(_run(bootstrap, paths, config, group, sys.stdout.buffer))
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None  # SIGTERM/Ctrl-C cancelled the run; run_cli reports it
    except (SourceError, TopicError, InputError) as exc:
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader of stdout went away (`| head`): run_cli ends quietly
    except (KafkaError, OSError, TimeoutError) as exc:
        # Not a usage error: the command was right, the broker is not usable (exit 1).
        print(f"tickerstream: error: Kafka at {bootstrap} is not usable: {exc}", file=sys.stderr)
        return 1


async def _run(bootstrap: str, paths: Sequence[str], config: EngineConfig, group: str, out: BinaryIO) -> int:
    # Topic names, sizes and connection security from TICKER_KAFKA__*, like ticker-produce/-process.
    settings = load_settings(
        KafkaSettings, overrides=[f'bootstrap_servers="{bootstrap}"'], env_section="KAFKA"
    )
    topics = settings.topics
    started = time.monotonic()
    # SIGTERM and Ctrl-C cancel this task: the finally blocks below stop the processor (commit,
    # leave the group) and the clients. An exception raised from a signal handler instead could
    # land anywhere inside the Kafka clients and leave them hanging.
    loop, main = asyncio.get_running_loop(), asyncio.current_task()
    assert main is not None
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    # The processor creates/checks the topics and joins the group on entry, leaves it on exit.
    async with Processor(settings, config, ProcessorConfig(group=group)) as processor:
        events = _EventPrinter(settings, [topics.moves, topics.pegs], out)
        run_task: asyncio.Task[None] | None = None
        try:
            await events.start()
            run_task = asyncio.create_task(processor.run(), name="processor")
            produced = await _produce(settings, paths)
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
    by_type = ", ".join(f"{k}={v}" for k, v in sorted(events.counts.items())) or "none"
    print(
        f"tickerstream: kafka run: {produced:,} ticks produced to {topics.ticks}, events {by_type} "
        f"(group {group}, {time.monotonic() - started:.1f} s)",
        file=sys.stderr,
    )
    return 0


async def _produce(settings: KafkaSettings, paths: Sequence[str]) -> int:
    config = ProducerConfig(
        bootstrap_servers=settings.bootstrap_servers,
        ticks_topic=settings.topics.ticks,
        rejects_topic=settings.topics.rejects,
        client_options=settings.client_kwargs(),
    )
    # Inputs go out in the order given (each directory sorted): pages parsed like ticker-produce
    # does, JSON Lines of ticks validated and sent as they are (the ticks topic's own format).
    jsonl, pages = expand_inputs(paths)
    async with TickProducer(config) as producer:
        if pages:
            for snap in iter_snapshots([str(p) for p in pages]):
                result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
                await producer.send_ticks(result.ticks)
                if result.rejects:
                    await producer.send_rejects(result.rejects, ts=snap.ts)
        for path in jsonl:
            await _produce_jsonl(producer, path)
        await producer.flush()
        return producer.stats.ticks_acked


async def _produce_jsonl(producer: TickProducer, path: Path) -> None:
    with open_binary(path) as fh:
        while lines := fh.readlines(JSONL_BATCH_BYTES):
            values = [v for v in (line.strip() for line in lines) if v]
            decoded = decode_tick_values(values)
            good = [values[i] for i in decoded.rows.tolist()]
            await producer.send_encoded(decoded.batch.symbols, decoded.batch.ts.tolist(), good)
            if decoded.bad:
                rejects = [
                    Reject(values[b.index].decode("utf-8", "replace"), b.reason, str(path), b.detail)
                    for b in decoded.bad
                ]
                await producer.send_rejects(rejects)


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
        tps = await _partitions(settings, settings.topics.ticks)
        ends = await probe.end_offsets(tps)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            if run_task.done():
                run_task.result()  # re-raise what stopped the processor
                raise RuntimeError("the processor stopped before it had processed every tick")
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


async def _partitions(settings: KafkaSettings, topic: str) -> list[TopicPartition]:
    count = await partition_count(settings.bootstrap_servers, topic, client_kwargs=settings.client_kwargs())
    if count is None:
        raise TopicError(f"topic {topic} does not exist on {settings.bootstrap_servers}")
    return [TopicPartition(topic, p) for p in range(count)]


class _EventPrinter:
    """Follows the event topics from their current end and prints every event as one JSON line."""

    def __init__(self, settings: KafkaSettings, topics: list[str], out: BinaryIO) -> None:
        self.settings = settings
        self.topics = topics
        self.out = out
        self.counts: Counter[str] = Counter()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            enable_auto_commit=False,
            isolation_level="read_committed",
            **settings.client_kwargs(),
        )
        self._tps: list[TopicPartition] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._tps = [tp for t in self.topics for tp in await _partitions(self.settings, t)]
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_end(*self._tps)
        for tp in self._tps:  # resolve the lazy seek now, before anything is produced
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._follow(), name="event-printer")

    async def _follow(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in fetched.values():
                if records:
                    self.out.write(b"".join((r.value or b"") + b"\n" for r in records))
                    for r in records:
                        self.counts[orjson.loads(r.value or b"{}").get("type", "?")] += 1
            self.out.flush()

    async def drain(self) -> None:
        """Wait until everything written to the event topics so far has been printed."""
        ends = await self._consumer.end_offsets(self._tps)
        for tp in self._tps:
            while await self._consumer.position(tp) < ends[tp]:
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        finally:  # also when the printer died (e.g. stdout closed): never leak the consumer
            await self._consumer.stop()
