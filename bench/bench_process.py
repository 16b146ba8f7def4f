"""ticker-process benchmark: throughput from a pre-filled ticks topic, and produce->event latency.

Throughput: N ticks from the seeded generator (many symbols) are written to a fresh ticks topic with the
project's TickProducer (zstd batches, as ticker-produce writes them); then one Processor (in this
process, a fresh group) runs from start() until every offset is processed, its events acknowledged and
its offsets committed (stop() included). Reported: ticks/s over the whole run (topic checks, join,
restore, final checkpoint and commit included) and over the processing part (all partitions restored
to all offsets processed).

Latency: ``ticker-process`` runs as a subprocess (its own core), this process offers ticks at a fixed
rate with ``ts`` = the wall clock at hand-off to the producer, and a plain consumer of the pegs topic
(``read_committed`` for exactly-once) takes ``arrival - ts`` of every event. So that enough ticks make
events, 20 USD stablecoins alternate 1.00 / 0.97 every snapshot with peg hysteresis off
(``pegs.min_exit_ticks=1``, ``pegs.min_exit_duration_s=0``, ``pegs.usd_confirm_s=0``): each of their
ticks is a state change.
What is measured is therefore producer linger + broker + fetch + decode + engine + event produce + event
fetch. At saturation the producer offers as fast as it can (latency then includes the backlog).

    .venv/bin/python bench/bench_process.py                       # everything, ~3 minutes
    .venv/bin/python bench/bench_process.py --only throughput --ticks 2000000
    .venv/bin/python bench/bench_process.py --only latency --rate 10000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.kafka.settings import KafkaSettings, TopicNames
from tickerstream.metrics import AnyMarketGauges, AnyMetrics
from tickerstream.model import Tick
from tickerstream.processor.processor import Processor, ProcessorConfig
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer
from tickerstream.sources.sample import SampleSpec, _asset_map, generate, snapshot_ticks

STABLES = ["USDT", "USDC", "DAI", "USDS", "FDUSD", "PYUSD", "TUSD", "FRAX", "CRVUSD", "RLUSD", "USD1", "USDP"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def kafka_settings(bootstrap: str, prefix: str, partitions: int) -> KafkaSettings:
    t = TopicNames(
        ticks=prefix + "ticks",
        moves=prefix + "moves",
        pegs=prefix + "pegs",
        rejects=prefix + "rejects",
        refprices=prefix + "refprices",
    )
    return KafkaSettings(bootstrap_servers=bootstrap, topics=t, ticks_partitions=partitions)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


# --- throughput -------------------------------------------------------------------------------------


def sample_ticks(n: int, symbols: int) -> list[Tick]:
    """``n`` ticks of ``symbols`` + 25 assets, one snapshot every ~5 minutes, ending about now.

    Recent event times matter: the producer stamps each record with the tick's ts, and the ticks topic
    deletes records older than its retention (7 days) at the broker's next retention check, so data
    from the bundled sample's January 2025 would vanish during the run."""
    per_snapshot = 25 + symbols
    interval_s = 300.0
    days = max(0.5, n / per_snapshot * interval_s / 86400)
    start = datetime.now(UTC) - timedelta(days=days + 0.1)
    spec = SampleSpec(
        seed=11,
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        days=days,
        interval_s=interval_s,
        extra_symbols=symbols,
    )
    assets = _asset_map(spec)
    out: list[Tick] = []
    for snap in generate(spec):
        out.extend(snapshot_ticks(snap, assets, "bench"))
        if len(out) >= n:
            break
    return out[:n]


async def prefill(kafka: KafkaSettings, ticks: list[Tick]) -> float:
    await ensure_topics(kafka.bootstrap_servers, topic_specs_for(kafka))
    cfg = ProducerConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        ticks_topic=kafka.topics.ticks,
        rejects_topic=kafka.topics.rejects,
    )
    t0 = time.perf_counter()
    async with TickProducer(cfg) as producer:
        for i in range(0, len(ticks), 50_000):
            await producer.send_ticks(ticks[i : i + 50_000])
    return time.perf_counter() - t0


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    async with AIOKafkaConsumer(bootstrap_servers=bootstrap) as c:
        end = await c.end_offsets(tps)
    return {tp.partition: off for tp, off in end.items()}


async def run_throughput(
    kafka: KafkaSettings,
    n: int,
    exactly_once: bool,
    prefix: str,
    metrics: AnyMetrics | None = None,
    markets: AnyMarketGauges | None = None,
) -> dict[str, float]:
    end = await end_offsets(kafka.bootstrap_servers, kafka.topics.ticks, kafka.ticks_partitions)
    mode = ("eos" if exactly_once else "alos") + uuid.uuid4().hex[:4]
    config = ProcessorConfig(
        group=f"{prefix}{mode}",
        exactly_once=exactly_once,
        transactional_id_prefix=f"{prefix}{mode}",
        checkpoint_topic=f"{prefix}{mode}.checkpoints",
    )
    first_step: list[float] = []  # when every partition is restored and resumed

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    proc = Processor(kafka, config=config, metrics=metrics, markets=markets)
    await proc.start()
    task = asyncio.create_task(proc.run())
    while True:
        parts = proc.owned.parts
        if not first_step and len(parts) == kafka.ticks_partitions:
            first_step.append(time.perf_counter())
        if len(parts) == kafka.ticks_partitions and all(
            (parts[p].position or 0) >= end[p] for p in range(kafka.ticks_partitions)
        ):
            break
        if task.done():
            task.result()
            raise RuntimeError("processor stopped early")
        await asyncio.sleep(0.005)
    t_done = time.perf_counter()
    proc.request_stop()
    await task
    await proc.stop()  # final checkpoint + commit
    t_end = time.perf_counter()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    st = proc.stats
    return {
        "ticks": float(st.ticks),
        "total_s": t_end - t0,
        "processing_s": t_done - (first_step[0] if first_step else t0),
        "ticks_per_s_total": st.ticks / (t_end - t0),
        "ticks_per_s_processing": st.ticks / (t_done - (first_step[0] if first_step else t0)),
        "cpu_s": cpu,
        "events": float(st.moves + st.pegs),
        "checkpoints": float(st.checkpoints),
        "checkpoint_mb": st.checkpoint_bytes / 1e6,
        "commits": float(st.commits),
        "steps": float(st.steps),
        "gate_blocked_steps": float(st.gate_blocked_steps),
    }


# --- latency ----------------------------------------------------------------------------------------


def cli_args(kafka: KafkaSettings, group: str, exactly_once: bool, extra: list[str]) -> list[str]:
    t = kafka.topics
    args = ["--bootstrap-servers", kafka.bootstrap_servers, "--group", group, "--log-format", "json"]
    args += ["--metrics-port", "0"]
    if exactly_once:
        args.append("--exactly-once")
    sets = {
        "kafka.topics.ticks": t.ticks,
        "kafka.topics.moves": t.moves,
        "kafka.topics.pegs": t.pegs,
        "kafka.topics.rejects": t.rejects,
        "kafka.topics.refprices": t.refprices,
        "kafka.ticks_partitions": kafka.ticks_partitions,
        "process.transactional_id_prefix": group,
        "pegs.min_exit_ticks": 1,
        "pegs.min_exit_duration_s": 0,
        "pegs.usd_confirm_s": 0,
    }
    for key, value in sets.items():
        args += ["--set", f"{key}={orjson.dumps(value).decode()}"]
    return args + extra


async def offer(kafka: KafkaSettings, rate: float, seconds: float, symbols: int) -> tuple[int, float]:
    """Offer snapshots (all symbols at one ts = now) at ``rate`` ticks/s (0 = as fast as possible)."""
    names = [f"SYN{i:05d}" for i in range(symbols)] + STABLES
    rng = np.random.default_rng(3)
    prices = rng.uniform(1, 500, symbols)
    cfg = ProducerConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        ticks_topic=kafka.topics.ticks,
        rejects_topic=kafka.topics.rejects,
        linger_ms=5,
    )
    sent = 0
    t0 = time.perf_counter()
    last_ts = 0
    async with TickProducer(cfg) as producer:
        k = 0
        while (elapsed := time.perf_counter() - t0) < seconds:
            if rate > 0:
                due = t0 + sent / rate
                if due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
            ts = max(int(time.time() * 1000), last_ts + 1)
            last_ts = ts
            prices *= np.exp(rng.normal(0, 1e-4, symbols))
            stable = 1.0 if k % 2 == 0 else 0.97
            ticks = [
                Tick(s, s, None, float(p), "USD", None, False, ts, "bench")
                for s, p in zip(names[:symbols], prices, strict=True)
            ]
            ticks += [Tick(s, s, None, stable, "USD", None, False, ts, "bench") for s in STABLES]
            await producer.send_ticks(ticks)
            sent += len(ticks)
            k += 1
        del elapsed
    return sent, time.perf_counter() - t0


async def collect(bootstrap: str, topic: str, committed: bool, stop: asyncio.Event) -> list[float]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed" if committed else "read_uncommitted",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    lat: list[float] = []
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        while not stop.is_set():
            batch = await consumer.getmany(tp, timeout_ms=100)
            now = time.time() * 1000
            for records in batch.values():
                lat.extend(now - orjson.loads(r.value)["ts"] for r in records)
    finally:
        await consumer.stop()
    return lat


async def run_latency(
    kafka: KafkaSettings,
    prefix: str,
    exactly_once: bool,
    rate: float,
    seconds: float,
    symbols: int,
    extra: list[str],
) -> dict[str, float]:
    await ensure_topics(kafka.bootstrap_servers, topic_specs_for(kafka))
    group = f"{prefix}lat-{'eos' if exactly_once else 'alos'}-{int(rate)}"
    log_file = Path(tempfile.gettempdir()) / f"{group}.log"
    with log_file.open("wb") as fh:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tickerstream.cli.process",
            *cli_args(kafka, group, exactly_once, extra),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=fh,
        )
    try:
        await asyncio.sleep(4.0)  # join + restore (fresh group, empty partitions)
        stop = asyncio.Event()
        collector = asyncio.create_task(
            collect(kafka.bootstrap_servers, kafka.topics.pegs, exactly_once, stop)
        )
        await asyncio.sleep(0.5)
        sent, took = await offer(kafka, rate, seconds, symbols)
        await asyncio.sleep(3.0 if rate else 15.0)  # let the tail drain
        stop.set()
        lat = np.array(await collector)
    finally:
        proc.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 30)
    if lat.size == 0:
        raise RuntimeError(f"no events received; see {log_file}")
    return {
        "offered_per_s": sent / took,
        "events": float(lat.size),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
        "exit": float(proc.returncode if proc.returncode is not None else -1),
    }


# --- main -------------------------------------------------------------------------------------------


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ap.add_argument("--only", choices=["throughput", "latency"])
    ap.add_argument("--ticks", type=int, default=1_000_000)
    ap.add_argument("--symbols", type=int, default=2_000, help="synthetic symbols besides the 25 real ones")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--modes", default="alos,eos")
    ap.add_argument("--rate", type=float, default=10_000.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--saturation-seconds", type=float, default=10.0)
    ap.add_argument("--latency-symbols", type=int, default=500)
    ap.add_argument(
        "--process-set",
        action="append",
        default=[],
        metavar="KEY=V",
        help="extra --set for the latency runs' ticker-process, e.g. process.commit_interval_ms=100",
    )
    ap.add_argument("--no-saturation", action="store_true", help="latency at --rate only")
    ap.add_argument("--prefill-prefix", help=argparse.SUPPRESS)  # internal: the prefill child
    args = ap.parse_args()
    if args.prefill_prefix:
        kafka = kafka_settings(args.bootstrap_servers, args.prefill_prefix, args.partitions)
        ticks = sample_ticks(args.ticks, args.symbols)
        log(f"prefill: {len(ticks):,} ticks, {len({t.symbol for t in ticks}):,} symbols ...")
        took = await prefill(kafka, ticks)
        log(f"prefill: {took:.1f} s ({len(ticks) / took:,.0f} ticks/s)")
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    prefix = f"bench.{uuid.uuid4().hex[:8]}."
    cpu = platform.processor() or platform.machine()
    log(f"machine: {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    try:
        if args.only in (None, "throughput"):
            kafka = kafka_settings(args.bootstrap_servers, prefix + "tp.", args.partitions)
            # Prefill in a child process: the measured processor then runs in a process that never
            # held millions of Tick objects (that alone made the first run ~30 % slower).
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--bootstrap-servers",
                args.bootstrap_servers,
                "--prefill-prefix",
                prefix + "tp.",
                "--ticks",
                str(args.ticks),
                "--symbols",
                str(args.symbols),
                "--partitions",
                str(args.partitions),
            )
            if await child.wait() != 0:
                raise RuntimeError("prefill failed")
            for mode in modes:
                r = await run_throughput(kafka, args.ticks, mode == "eos", prefix)
                log(
                    f"throughput {mode}: {r['ticks']:,.0f} ticks in {r['total_s']:.1f} s total -> "
                    f"{r['ticks_per_s_total']:,.0f} ticks/s; processing part {r['processing_s']:.1f} s -> "
                    f"{r['ticks_per_s_processing']:,.0f} ticks/s; cpu {r['cpu_s']:.1f} s; events "
                    f"{r['events']:,.0f}; checkpoints {r['checkpoints']:.0f} ({r['checkpoint_mb']:.1f} MB); "
                    f"commits {r['commits']:.0f}; steps {r['steps']:.0f} (gate-blocked polls "
                    f"{r['gate_blocked_steps']:.0f})"
                )
        if args.only in (None, "latency"):
            for mode in modes:
                runs = [(args.rate, args.seconds)] + (
                    [] if args.no_saturation else [(0.0, args.saturation_seconds)]
                )
                extra = [a for kv in args.process_set for a in ("--set", kv)]
                for rate, secs in runs:
                    kafka = kafka_settings(
                        args.bootstrap_servers, f"{prefix}lat{mode}{int(rate)}.", args.partitions
                    )
                    r = await run_latency(
                        kafka, prefix, mode == "eos", rate, secs, args.latency_symbols, extra
                    )
                    label = f"{rate:,.0f}/s" if rate else "saturation"
                    log(
                        f"latency {mode} @ {label}: offered {r['offered_per_s']:,.0f} ticks/s, "
                        f"{r['events']:,.0f} events, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                        f"max {r['max_ms']:.0f} ms, processor exit {r['exit']:.0f}"
                    )
    finally:
        await delete_topics(args.bootstrap_servers, prefix)


if __name__ == "__main__":
    asyncio.run(main())
