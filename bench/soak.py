"""Soak: ticks at a steady rate into Kafka for a while, two ``ticker-process`` instances in one group.

On demand only (not in CI): ``python bench/soak.py --minutes 10 --rate 5000``. Every 10 s it prints
each processor's RSS, the group's lag (end offsets minus committed offsets) and the ERROR lines
logged so far; at the end, the verdict the issue asks for: RSS flat after warm-up (last sample within
15 % of the one after the first quarter), lag bounded (the last sample below one minute of ticks), no
error logs. Topics and group are unique per run (``soak.<random>.*``) and deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.kafka.settings import KafkaSettings, TopicNames
from tickerstream.model import Tick
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

SYMBOLS = [f"SOAK{i}" for i in range(2_000)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def lag(bootstrap: str, topic: str, group: str, partitions: int) -> int:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    async with AIOKafkaConsumer(bootstrap_servers=bootstrap) as consumer:
        end = await consumer.end_offsets(tps)
    return sum(end[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=5_000, help="ticks per second")
    args = ap.parse_args()
    prefix = f"soak.{uuid.uuid4().hex[:8]}."
    names = TopicNames(*(prefix + n for n in ("ticks", "moves", "pegs", "rejects", "refprices")))
    kafka = KafkaSettings(bootstrap_servers=args.bootstrap_servers, topics=names)
    group = prefix + "group"
    await ensure_topics(args.bootstrap_servers, topic_specs_for(kafka), create=True)
    logs = Path(tempfile.mkdtemp(prefix="soak"))
    sets = [f"kafka.topics.{f}={getattr(names, f)!r}".replace("'", '"') for f in names.__dataclass_fields__]
    cmd = [sys.executable, "-m", "tickerstream.cli.process", "--bootstrap-servers", args.bootstrap_servers,
           "--group", group, "--no-metrics", "--log-format", "json"]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(logs / f"p{i}.log").open("wb"))
        for i in (0, 1)
    ]
    samples: list[tuple[float, list[float], int, int]] = []
    try:
        out = ProducerConfig(args.bootstrap_servers, ticks_topic=names.ticks, rejects_topic=names.rejects)
        producer = TickProducer(out)
        await producer.start()
        t0 = time.monotonic()
        sent, next_sample, k = 0, t0 + 10, 0
        while time.monotonic() - t0 < args.minutes * 60:
            now_ms = int(time.time() * 1000)
            batch = [Tick(SYMBOLS[(k + i) % len(SYMBOLS)], "soak", None, 100.0 + ((k + i) % 97) / 100, "USD",
                          None, False, now_ms, "soak") for i in range(args.rate // 10)]  # fmt: skip
            k += len(batch)
            await producer.send_ticks(batch)
            sent += len(batch)
            await asyncio.sleep(max(0.0, t0 + sent / args.rate - time.monotonic()))
            if time.monotonic() >= next_sample:
                next_sample += 10
                errors = sum(p.read_text().count('"level": "error"') for p in logs.glob("*.log"))
                current = await lag(args.bootstrap_servers, names.ticks, group, kafka.ticks_partitions)
                rss = [rss_mb(p.pid) for p in procs]
                samples.append((time.monotonic() - t0, rss, current, errors))
                print(
                    f"t={samples[-1][0]:6.0f}s rss={rss[0]:.0f}/{rss[1]:.0f} MB lag={current} errors={errors}"
                )
        await producer.stop()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([t for t in await admin.list_topics() if t.startswith(prefix)])
        finally:
            await admin.close()
    warm = samples[len(samples) // 4]
    last = samples[-1]
    flat = all(b <= a * 1.15 for a, b in zip(warm[1], last[1], strict=True))
    print(f"sent {sent:,} ticks in {args.minutes} min at {args.rate}/s; logs in {logs}")
    print(f"RSS after warm-up {warm[1]} MB, at the end {last[1]} MB: {'flat' if flat else 'GROWING'}")
    bound = args.rate * 60
    print(f"lag at the end {last[2]} (bound {bound}): {'bounded' if last[2] < bound else 'HIGH'}")
    print(f"error log lines: {last[3]}")


if __name__ == "__main__":
    asyncio.run(main())
