"""Producer throughput on the local broker: TickProducer against one send() per tick, in the same run.

    make kafka-up
    .venv/bin/python bench/bench_produce.py                       # the recorded run (docs/benchmarks.md)
    .venv/bin/python bench/bench_produce.py --ticks 200000 --codecs gzip --no-cli   # quick check

What is timed, each on a fresh 6-partition topic (deleted afterwards), from the first tick handed over
until the broker has acknowledged the last one (idempotent producer, acks=all, in both):

* ``batched``: ``TickProducer.send_ticks`` with ticks already parsed, 10,000 per call (the size of a
  group of pages): routing with the murmur2 router, JSON encoding, one record batch per partition,
  ``send_batch``. Once per codec and, for one codec, per batch size.
* ``naive``: the baseline, what a first version would do: ``await producer.send(topic, key, value,
  timestamp_ms)`` per tick with aiokafka's default partitioner, the futures gathered once per 10,000.
  Same ticks, same codec, same acks/idempotence; aiokafka's default batch size and linger.
* ``cli``: ``ticker-produce DIR`` as a subprocess on pages written by ``ticker-sample`` (read, parse,
  produce): what a user gets end to end, with parsing in-process (``--parse-workers 0``) and in two
  worker processes (``2``, the default for big inputs), alternated, several runs each since the
  machine is shared. Its rate is the one the command logs (``produced`` event: ticks acked / time
  from connecting to the last ack), plus the wall time including interpreter start-up.

CPU is the benchmark process's own CPU time per tick (the broker's JVM shares the machine's cores
and is not counted). Ratios compare batched with naive on the same codec.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from tickerstream.kafka.admin import TopicSpec, ensure_topics
from tickerstream.model import Tick
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

CHUNK = 10_000


@dataclass
class Result:
    name: str
    codec: str
    batch_bytes: int
    ticks: int
    seconds: float
    cpu_s: float
    wire_bytes: int = 0

    @property
    def rate(self) -> float:
        return self.ticks / self.seconds

    def row(self) -> str:
        wire = f"{self.wire_bytes / self.ticks:6.1f}" if self.wire_bytes else "     -"
        return (
            f"{self.name:8} {self.codec:6} {self.batch_bytes // 1024:6d} KiB {self.ticks:>10,} "
            f"{self.seconds:8.2f} s {self.rate:>12,.0f}/s "
            f"{self.cpu_s / self.ticks * 1e6:8.2f} us/tick {wire} B/tick"
        )


def make_ticks(n: int, symbols: int) -> list[Tick]:
    """Realistic ticks (the seed page's field sizes), ``symbols`` assets, event times in the last hour."""
    base = int(time.time() * 1000) - 3_600_000
    names = [(f"SYM{i:04d}", f"Synthetic Coin {i}", f"synthetic-coin-{i}") for i in range(symbols)]
    out = []
    for i in range(n):
        sym, name, slug = names[i % symbols]
        price = round(100.0 + (i * 7919 % 100_000) / 97.0, 6)
        out.append(
            Tick(sym, name, slug, price, "USD", round((i % 900) / 100, 2), False, base + i // 300, "snap.txt")
        )
    return out


async def fresh_topic(bootstrap: str, partitions: int = 6) -> str:
    name = f"bench.produce.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(name, partitions), TopicSpec(name + ".rejects", 1)])
    return name


async def drop_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([name, name + ".rejects"])
    finally:
        await admin.close()


async def run_batched(bootstrap: str, ticks: list[Tick], codec: str, batch_bytes: int) -> Result:
    topic = await fresh_topic(bootstrap)
    try:
        config = ProducerConfig(
            bootstrap_servers=bootstrap,
            ticks_topic=topic,
            rejects_topic=topic + ".rejects",
            compression=codec,
            batch_bytes=batch_bytes,
        )
        producer = TickProducer(config)
        await producer.start()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(ticks), CHUNK):
            await producer.send_ticks(ticks[i : i + CHUNK])
        await producer.flush()
        t1, c1 = time.perf_counter(), time.process_time()
        await producer.stop()
        assert producer.stats.ticks_acked == len(ticks), producer.stats
        return Result("batched", codec, batch_bytes, len(ticks), t1 - t0, c1 - c0, producer.stats.bytes_sent)
    finally:
        await drop_topic(bootstrap, topic)


async def run_naive(bootstrap: str, ticks: list[Tick], codec: str) -> Result:
    topic = await fresh_topic(bootstrap)
    try:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            enable_idempotence=True,
            acks="all",
            compression_type=None if codec == "none" else codec,
        )
        await producer.start()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(ticks), CHUNK):
            futures = [
                await producer.send(topic, t.to_json(), key=t.symbol.encode(), timestamp_ms=t.ts)
                for t in ticks[i : i + CHUNK]
            ]
            await asyncio.gather(*futures)
        t1, c1 = time.perf_counter(), time.process_time()
        await producer.stop()
        return Result("naive", codec, 16384, len(ticks), t1 - t0, c1 - c0)
    finally:
        await drop_topic(bootstrap, topic)


def run_cli(bootstrap: str, pages: Path, codec: str, workers: str) -> tuple[Result, float]:
    topic = asyncio.run(fresh_topic(bootstrap))
    try:
        cmd = [
            str(Path(sys.executable).parent / "ticker-produce"), "--bootstrap-servers", bootstrap,
            "--ticks-topic", topic, "--rejects-topic", topic + ".rejects", "--compression", codec,
            "--log-format", "json", "--progress-interval", "0", "--parse-workers", workers,
            "--metrics-port", "0", str(pages),
        ]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        produced = next(
            json.loads(line)
            for line in proc.stderr.splitlines()
            if line.startswith("{") and '"produced"' in line
        )
        ticks = produced["ticks_acked"]
        return (
            Result(f"cli/w{workers}", codec, 0, ticks, produced["elapsed_s"], 0.0, produced["bytes_sent"]),
            wall,
        )
    finally:
        asyncio.run(drop_topic(bootstrap, topic))


def write_pages(root: Path, ticks: int) -> int:
    """ticker-sample pages (~1,000 assets per page) holding about ``ticks`` ticks."""
    per_page = 1000
    days = ticks / per_page * 300 / 86400  # one snapshot per ~300 s on average
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ticker-sample"), str(root), "--days", f"{days:.4f}",
            "--interval", "300", "--extra-symbols", str(per_page - 25),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return sum(1 for _ in root.iterdir())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ap.add_argument("--ticks", type=int, default=1_000_000, help="ticks per batched run (default 1,000,000)")
    ap.add_argument("--naive-ticks", type=int, default=300_000, help="ticks per naive run (it is slow)")
    ap.add_argument("--symbols", type=int, default=1000)
    ap.add_argument("--codecs", default="zstd,gzip,lz4,snappy,none")
    ap.add_argument("--batch-sizes", default="65536,262144,524288,1048576", help="swept with the first codec")
    ap.add_argument("--sweep-codec", default="zstd")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end ticker-produce run")
    ap.add_argument("--cli-reps", type=int, default=3, help="ticker-produce runs per configuration")
    args = ap.parse_args()
    codecs = [c for c in args.codecs.split(",") if c]
    print(f"# {platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {' '.join(sys.argv)}")  # fmt: skip
    ticks = make_ticks(args.ticks, args.symbols)
    naive_ticks = ticks[: args.naive_ticks]
    print(
        f"# tick JSON {sum(len(t.to_json()) for t in ticks[:1000]) / 1000:.0f} B avg, {args.symbols} symbols"
    )
    results: list[Result] = []
    default_bytes = ProducerConfig().batch_bytes
    for codec in codecs:
        for r in (
            asyncio.run(run_batched(args.bootstrap_servers, ticks, codec, default_bytes)),
            asyncio.run(run_naive(args.bootstrap_servers, naive_ticks, codec)),
        ):
            print(r.row(), flush=True)
            results.append(r)
    if args.sweep_codec in codecs:
        for size in (int(s) for s in args.batch_sizes.split(",") if s):
            if size != default_bytes:
                r = asyncio.run(run_batched(args.bootstrap_servers, ticks, args.sweep_codec, size))
                print(r.row(), flush=True)
                results.append(r)
    print("\n# batched / naive, same codec (time per tick)")
    for codec in codecs:
        b = next(
            r for r in results if r.name == "batched" and r.codec == codec and r.batch_bytes == default_bytes
        )
        n = next(r for r in results if r.name == "naive" and r.codec == codec)
        print(f"{codec:6} {b.rate:>10,.0f}/s vs {n.rate:>9,.0f}/s  x{b.rate / n.rate:5.1f}  "
              f"CPU {b.cpu_s / b.ticks * 1e6:.2f} vs {n.cpu_s / n.ticks * 1e6:.2f} us/tick")  # fmt: skip
    if not args.no_cli:
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "pages"
            n_pages = write_pages(pages, args.ticks)
            size = sum(p.stat().st_size for p in pages.iterdir())
            print(f"\n# ticker-produce on {n_pages} ticker-sample pages ({size / 1e6:.0f} MB), "
                  f"{args.cli_reps} runs each, alternating")  # fmt: skip
            runs: dict[str, list[float]] = {}
            for _ in range(args.cli_reps):
                for workers in ("0", "2"):
                    r, wall = run_cli(args.bootstrap_servers, pages, codecs[0], workers)
                    runs.setdefault(workers, []).append(r.rate)
                    print(r.row(), f"(wall incl. start-up {wall:.2f} s: {r.ticks / wall:,.0f}/s)", flush=True)
            for workers, rates in runs.items():
                rates.sort()
                best, median = rates[-1], rates[len(rates) // 2]
                print(f"cli --parse-workers {workers}: best {best:,.0f}/s, median {median:,.0f}/s")


if __name__ == "__main__":
    main()
