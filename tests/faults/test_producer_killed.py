"""``ticker-produce`` SIGKILLed mid-way through a directory of pages, then run again on the same input:
nothing is lost (every tick of every page is on the topic), and what the first run had delivered
comes again as identical records (the processor drops a second tick at the same ts as a duplicate).
Runs on the shared broker (none is stopped), with topics of its own.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.test_produce import _write_pages, produce_cli, read_all
from tests.support.processes import ChildProcesses

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.timeout(300)


async def test_a_killed_producer_run_again_loses_nothing(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    # Stamped with LogAppendTime, as ticker-produce creates its topics: the pages are dated
    # 2025-01-20, and under CreateTime the broker's retention (7 days) deletes them as soon as a
    # retention check runs, which on a busy machine came mid-test and "lost" 196,000 ticks.
    ticks_topic = await kafka_topics.create(
        "ticks", partitions=6, configs={"message.timestamp.type": "LogAppendTime"}
    )
    rejects_topic = await kafka_topics.create("rejects", partitions=1)
    total = _write_pages(tmp_path / "pages", pages=300, symbols=2000)
    cmd = produce_cli(
        kafka_bootstrap, ticks_topic, rejects_topic, "--progress-interval", "0.2", str(tmp_path / "pages")
    )
    first = child_processes.add(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    assert first.stderr is not None
    for line in first.stderr:  # kill it once ticks are flowing, mid-file
        if '"produce.progress"' in line and '"ticks_acked": 0,' not in line:
            break
    first.kill()
    first.wait()
    assert first.returncode == -signal.SIGKILL
    after_kill = len(await read_all(kafka_bootstrap, ticks_topic, timeout_s=60))
    assert 0 < after_kill < total, "the kill should have come mid-way"

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    records = await read_all(kafka_bootstrap, ticks_topic, timeout_s=120)
    counts = Counter((r.key, r.value) for r in records)
    lost = total - len(counts)
    duplicates = len(records) - len(counts)
    print(
        f"\naccounting producer SIGKILL: ticks in {total}, on the topic after the kill {after_kill}, "
        f"after the re-run {len(records)} (distinct {len(counts)}), duplicates {duplicates}, lost {lost}"
    )
    assert lost == 0
    assert max(counts.values()) <= 2  # each tick at most once per run
