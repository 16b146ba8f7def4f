"""Two ticker-process instances in one group: one leaves (SIGTERM) or dies (SIGKILL) mid-stream.

Instance A is a real ``ticker-process`` subprocess, B runs in this process. B starts on the first
third of the ticks; once A has joined, the second third trickles in while both run; A is stopped
part-way, production goes on, B takes A's partitions over (restoring them from A's checkpoints).
Afterwards every tick is processed (the group's committed offsets reach the end of every partition),
and every event of the replay is there: at-least-once may repeat events (same ids, same bytes),
exactly-once shows a ``read_committed`` reader exactly the replay's events. A is stopped by the
``child_processes`` fixture whatever happens, so a failing case leaves nothing running.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest
from aiokafka import TopicPartition

from tests.support.processor import (
    by_id,
    cli_args,
    committed_offsets,
    expected_events,
    fast_config,
    multiset,
    produce,
    read_all,
    scripted_ticks,
    tick_records,
    wait_all_committed,
    wait_until,
)
from tickerstream.processor.processor import Processor

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tests.support.processes import ChildProcesses
    from tickerstream.kafka.settings import KafkaSettings

pytestmark = pytest.mark.timeout(300)

#: How long A may take to join the group: a process start (imports, topic checks) and one rebalance.
#: Generous because it is only an upper bound: the test goes on as soon as A is in.
JOIN_S = 90.0


async def _start_cli(args: list[str], log: Path) -> asyncio.subprocess.Process:
    # stderr to a file, not a pipe: an unread pipe fills up and blocks the child's logging.
    with log.open("wb") as fh:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tickerstream.cli.process",
            *args,
            "--log-format",
            "json",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=fh,
        )


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
async def test_two_processors_one_stops_mid_stream(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    processor_kafka: KafkaSettings,
    exactly_once: bool,
    how: str,
    tmp_path: Path,
    child_processes: ChildProcesses,
) -> None:
    kafka = processor_kafka
    ticks = scripted_ticks()
    expected = expected_events(ticks)
    records = tick_records(ticks)
    n = len(records)
    first, second = records[: n // 3], records[n // 3 : 2 * n // 3]
    config = fast_config(kafka_topics.prefix, exactly_once=exactly_once)

    # Topics exist before the first tick: B creates them (ensure_topics), A checks them.
    b = Processor(kafka, config=config)
    await b.start()
    b_task = asyncio.create_task(b.run())
    try:
        await produce(kafka_bootstrap, kafka.topics.ticks, first)
        a_log = tmp_path / "a.log"
        a = child_processes.add(await _start_cli(cli_args(kafka, config), a_log))

        def a_joined() -> bool:
            assert a.returncode is None, f"A exited {a.returncode}:\n{a_log.read_text()[-2000:]}"
            return 0 < len(b.assigned()) < kafka.ticks_partitions

        await wait_until(a_joined, JOIN_S, "A to join")
        a_parts = set(range(kafka.ticks_partitions)) - set(b.assigned())
        before = await committed_offsets(kafka_bootstrap, config.group)
        # The second third trickles in while both instances run, after A joined: A's partitions hold
        # pegged symbols whose references B owns, so their judgement crosses instances.
        for i in range(0, len(second), 150):
            await produce(kafka_bootstrap, kafka.topics.ticks, second[i : i + 150])
            await asyncio.sleep(0.15)
        # A must really have taken part: it owns partitions and committed progress of its own on them.
        # Nothing of A's cut waits for B (pegged ticks wait inside A's engine, whose checkpoints carry
        # them); the gate time-out stays in the bound as slack for a busy machine.
        limit_s = config.ref_gate_timeout_ms / 1000 + JOIN_S
        await _wait_committed_beyond(
            kafka_bootstrap, config.group, kafka.topics.ticks, a_parts, before, limit_s, a, a_log
        )
        if how == "sigterm":
            a.send_signal(signal.SIGTERM)
            await asyncio.wait_for(a.wait(), 30)
            err = a_log.read_text()
            assert a.returncode == 0, err[-2000:]
            events = [orjson.loads(line) for line in err.splitlines() if line.startswith("{")]
            assert any(e.get("event") == "process.stopped" for e in events)
        else:
            a.kill()
            await a.wait()
            assert a.returncode == -signal.SIGKILL
        await produce(kafka_bootstrap, kafka.topics.ticks, records[2 * n // 3 :])
        await wait_all_committed(kafka_bootstrap, config.group, kafka.topics.ticks, 60, tasks=[b_task])
        assert len(b.owned) == kafka.ticks_partitions  # B owns everything now
        assert b.stats.restores >= len(a_parts)  # ... and restored A's partitions from checkpoints
        assert b.stats.cold_starts == 0
    finally:
        b.request_stop()
        await asyncio.wait_for(b_task, 15)
        await b.stop()

    offsets = await committed_offsets(kafka_bootstrap, config.group)
    assert sum(offsets.values()) == n  # every tick processed (no rejects in this input)
    got = await read_all(
        kafka_bootstrap,
        [kafka.topics.moves, kafka.topics.pegs, kafka.topics.quality],
        committed_only=exactly_once,
    )
    # On a mismatch, say what each instance went through: A's warnings (restores, gate time-outs,
    # follower) and final counters, and B's counters; the event diff alone cannot tell them apart.
    why = f"A's log:\n{_notable(a_log)}\nB: {b.stats}"
    if exactly_once:
        assert multiset(got) == multiset(expected), why  # each event exactly once, byte for byte
    else:
        assert by_id(got) == by_id(expected), why  # every event, nothing else; repeats are identical
        assert set(got) == set(expected), why
    assert b.stats.gate_timeouts == 0
    assert '"process.ref_gate_timeout"' not in a_log.read_text(), why


def _notable(log: Path) -> str:
    """A's log lines that explain a difference: warnings, errors and its final counters."""
    lines = []
    for line in log.read_text().splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            lines.append(line)  # not structured: a traceback or the interpreter's own output
            continue
        event = str(rec.get("event", ""))
        notable = rec.get("level") in ("warning", "error", "critical") or event == "process.stopped"
        if notable and not event.startswith("engine.coarse_quantum"):
            lines.append(line)
    return "\n".join(lines[-60:])


async def _wait_committed_beyond(
    bootstrap: str,
    group: str,
    topic: str,
    partitions: set[int],
    before: dict[TopicPartition, int],
    limit_s: float,
    a: asyncio.subprocess.Process,
    a_log: Path,
) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    tps = [TopicPartition(topic, p) for p in partitions]
    while True:
        got = await committed_offsets(bootstrap, group)
        if all(got.get(tp, 0) > before.get(tp, 0) for tp in tps):
            return
        assert a.returncode is None, f"A exited {a.returncode}:\n{a_log.read_text()[-2000:]}"
        assert asyncio.get_running_loop().time() < deadline, f"A committed nothing on {partitions}: {got}"
        await asyncio.sleep(0.2)
