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

Scale-out: N ``Processor`` instances, each its own OS process, one fresh group per run, on one
pre-filled topic. The drain time runs from starting the processes until the group's committed offsets
reach the end offsets (checkpoint_interval_ms=1000, so commits follow processing within a second).
Reported per run: drain time, ticks/s, total CPU s (the instances' user+sys, from their own rusage at
exit), and per instance the steps taken and the steps in which the reference gate held something back.
Instance counts run in alternation, round after round; ``--tree LABEL=SRC`` runs the instances from
another source tree too (e.g. the commit before a change), alternating with ours. Also reported: the
cores the rest of the machine left free during each run (from /proc/stat, minus our own CPU).

    .venv/bin/python bench/bench_process.py                       # everything, ~3 minutes
    .venv/bin/python bench/bench_process.py --only throughput --ticks 2000000
    .venv/bin/python bench/bench_process.py --only latency --rate 10000 --seconds 20
    .venv/bin/python bench/bench_process.py --only scaleout --instances 1,2,3 --rounds 3 \
        --symbols 975 --tree before=/tmp/base/src --tree after=src
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import signal
import statistics
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


# --- scale-out: N instances, separate processes, one group ---------------------------------------------


async def scaleout_worker(kafka: KafkaSettings, group: str) -> None:
    """One instance: run until SIGTERM, then print its stats and CPU as one JSON line on stdout."""
    config = ProcessorConfig(group=group, checkpoint_interval_ms=1000, transactional_id_prefix=group)
    proc = Processor(kafka, config=config)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, proc.request_stop)
    async with proc:
        await proc.run()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    st = proc.stats
    out = {
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "ticks": st.ticks,
        "steps": st.steps,
        "gate_blocked_steps": st.gate_blocked_steps,
        "gate_timeouts": st.gate_timeouts,
        "rebalances": st.rebalances,
        "events": st.moves + st.pegs,
    }
    print(json.dumps(out), flush=True)


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def run_scaleout(
    kafka: KafkaSettings, prefix: str, instances: int, src: str, label: str
) -> dict[str, object]:
    end = await end_offsets(kafka.bootstrap_servers, kafka.topics.ticks, kafka.ticks_partitions)
    group = f"{prefix}so{label}{instances}{uuid.uuid4().hex[:4]}"
    env = {**os.environ, "PYTHONPATH": src}
    busy0, total0 = _cpu_jiffies()
    t0 = time.perf_counter()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--bootstrap-servers",
            kafka.bootstrap_servers,
            "--scaleout-worker",
            kafka.topics.ticks.removesuffix("ticks"),
            "--group",
            group,
            "--partitions",
            str(kafka.ticks_partitions),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(instances)
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        while True:
            got = await admin.list_consumer_group_offsets(group)
            done = {tp.partition: meta.offset for tp, meta in got.items() if tp.topic == kafka.topics.ticks}
            if all(done.get(p, -1) >= e for p, e in end.items()):
                break
            for proc in procs:
                if proc.returncode is not None:
                    raise RuntimeError(f"an instance exited early ({proc.returncode})")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    drain = time.perf_counter() - t0
    busy1, total1 = _cpu_jiffies()
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    outs = []
    for proc in procs:
        stdout, _ = await proc.communicate()
        outs.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    cpu = sum(float(o["cpu_s"]) for o in outs)
    ncpu = os.cpu_count() or 1
    machine_busy = (busy1 - busy0) / max(1, total1 - total0) * ncpu  # cores busy, ours included
    return {
        "label": label,
        "instances": instances,
        "drain_s": drain,
        "ticks_per_s": sum(end.values()) / drain,
        "cpu_s": cpu,
        "free_cores": ncpu - max(0.0, machine_busy - cpu / drain),
        "steps": [o["steps"] for o in outs],
        "gate_blocked": [o["gate_blocked_steps"] for o in outs],
        "timeouts": sum(int(o["gate_timeouts"]) for o in outs),
    }


async def prefill_in_child(args: argparse.Namespace, prefix: str) -> None:
    """Fill the ticks topic of ``prefix`` from a child process: the measured processors then run in
    processes that never held millions of Tick objects (that alone made a first run ~30 % slower)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--bootstrap-servers",
        args.bootstrap_servers,
        "--prefill-prefix",
        prefix,
        "--ticks",
        str(args.ticks),
        "--symbols",
        str(args.symbols),
        "--partitions",
        str(args.partitions),
    )
    if await child.wait() != 0:
        raise RuntimeError("prefill failed")


async def scaleout(args: argparse.Namespace, prefix: str) -> None:
    kafka = kafka_settings(args.bootstrap_servers, prefix + "so.", args.partitions)
    await prefill_in_child(args, prefix + "so.")
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": str(Path(__file__).parents[1] / "src")}
    counts = [int(x) for x in args.instances.split(",")]
    runs: list[dict[str, object]] = []
    for rnd in range(args.rounds):
        for n in counts:
            for label, src in trees.items():
                r = await run_scaleout(kafka, prefix, n, str(Path(src).resolve()), label)
                runs.append(r)
                log(
                    f"round {rnd + 1} {label} x{n}: drain {r['drain_s']:.1f} s, "
                    f"{r['ticks_per_s']:,.0f} ticks/s, "
                    f"cpu {r['cpu_s']:.1f} s, free cores {r['free_cores']:.2f}, steps {r['steps']}, "
                    f"gate-held steps {r['gate_blocked']}, gate timeouts {r['timeouts']}"
                )
    log(
        "\n| tree | instances | drain s (median) | ticks/s (median) | CPU s total (median) | "
        "free cores | steps per instance | gate-held steps per instance |"
    )
    log("|---|---|---|---|---|---|---|---|")
    med: dict[tuple[str, int], dict[str, float]] = {}
    for label in trees:
        for n in counts:
            rs = [r for r in runs if r["label"] == label and r["instances"] == n]
            m = {k: statistics.median(float(r[k]) for r in rs) for k in ("drain_s", "ticks_per_s", "cpu_s")}  # type: ignore[arg-type]
            med[(label, n)] = m
            free = statistics.median(float(r["free_cores"]) for r in rs)  # type: ignore[arg-type]
            log(
                f"| {label} | {n} | {m['drain_s']:.1f} | {m['ticks_per_s']:,.0f} | {m['cpu_s']:.1f} | "
                f"{free:.2f} | {'; '.join(str(r['steps']) for r in rs)} | "
                f"{'; '.join(str(r['gate_blocked']) for r in rs)} |"
            )
    for label in trees:
        one = med.get((label, 1))
        if one is None:
            continue
        for n in counts:
            if n == 1:
                continue
            m = med[(label, n)]
            log(
                f"{label}: {n} vs 1 instance: CPU {m['cpu_s'] / one['cpu_s']:.2f}x, "
                f"throughput {m['ticks_per_s'] / one['ticks_per_s']:.2f}x"
            )


# --- main -------------------------------------------------------------------------------------------


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ap.add_argument("--only", choices=["throughput", "latency", "scaleout"])
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
    ap.add_argument("--instances", default="1,2,3", help="scale-out: instance counts, in alternation")
    ap.add_argument("--rounds", type=int, default=3, help="scale-out: rounds over the instance counts")
    ap.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="scale-out: run the instances from this source tree too (repeat; default: this checkout)",
    )
    ap.add_argument("--prefill-prefix", help=argparse.SUPPRESS)  # internal: the prefill child
    ap.add_argument("--scaleout-worker", help=argparse.SUPPRESS)  # internal: one scale-out instance
    ap.add_argument("--group", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scaleout_worker:
        await scaleout_worker(
            kafka_settings(args.bootstrap_servers, args.scaleout_worker, args.partitions), args.group
        )
        return
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
        if args.only == "scaleout":  # not part of "everything": minutes per round
            await scaleout(args, prefix)
        if args.only in (None, "throughput"):
            kafka = kafka_settings(args.bootstrap_servers, prefix + "tp.", args.partitions)
            await prefill_in_child(args, prefix + "tp.")
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
