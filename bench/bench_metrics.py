"""What Prometheus metrics cost ticker-process: throughput with metrics on vs off, same data, interleaved.

One pre-filled ticks topic (the throughput set of bench_process.py: N ticks of ``--symbols`` synthetic
coins + the 25 real assets, zstd batches from TickProducer); then one warm-up run (discarded: the first
reader of a freshly written topic gets lopsided fetches and runs ~20 % slower, see docs/benchmarks.md),
then alternating runs of one Processor in a fresh group over the whole topic, in ABBA order (off, on, on,
off, ...) so that drift on a shared machine hits both sides alike:

* **off**: ``NoMetrics`` / ``NoMarketGauges`` (what ``--no-metrics`` runs);
* **on**: a fresh ``create_metrics(process=True)`` registry, ``MarketGauges`` with the default allowlist
  and top 50, served on a free port and scraped once per second by a thread in the same process (15x
  the production scrape rate, so the exposition's cost is counted generously).

Reported: ticks/s of the processing part per run, the median of each side, and on/off as a ratio (the
issue's budget: at least 0.95). Timings are printed, never asserted.

    .venv/bin/python bench/bench_metrics.py --ticks 2000000        # ~2 min: warm-up + 4 runs per side
    .venv/bin/python bench/bench_metrics.py --ticks 500000 --pairs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import threading
import urllib.request
import uuid

from bench_process import delete_topics, kafka_settings, log, run_throughput
from tickerstream.cli.metrics_args import DEFAULT_SYMBOLS
from tickerstream.metrics import (
    MarketGaugeConfig,
    MarketGauges,
    NoMarketGauges,
    NoMetrics,
    create_metrics,
    start_metrics_server,
)


def scrape_every(url: str, interval_s: float, stop: threading.Event) -> None:
    while not stop.wait(interval_s):
        with urllib.request.urlopen(url, timeout=5) as resp:
            resp.read()


async def one_run(kafka_prefix: str, args: argparse.Namespace, prefix: str, on: bool) -> float:
    kafka = kafka_settings(args.bootstrap_servers, kafka_prefix, args.partitions)
    if not on:
        r = await run_throughput(kafka, args.ticks, False, prefix, NoMetrics(), NoMarketGauges())
        return r["ticks_per_s_processing"]
    metrics = create_metrics(process=True)
    markets = MarketGauges(metrics, MarketGaugeConfig(allowlist=frozenset(DEFAULT_SYMBOLS.split(","))))
    server = start_metrics_server("127.0.0.1", 0, metrics.registry)
    stop = threading.Event()
    scraper = threading.Thread(
        target=scrape_every, args=(f"http://127.0.0.1:{server.port}/metrics", 1.0, stop), daemon=True
    )
    scraper.start()
    try:
        r = await run_throughput(kafka, args.ticks, False, prefix, metrics, markets)
    finally:
        stop.set()
        scraper.join(timeout=5)
        server.close()
    return r["ticks_per_s_processing"]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ap.add_argument("--ticks", type=int, default=1_000_000)
    ap.add_argument("--symbols", type=int, default=2_000, help="synthetic symbols besides the 25 real ones")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--pairs", type=int, default=4, help="runs per side")
    args = ap.parse_args()
    prefix = f"bench.{uuid.uuid4().hex[:8]}."
    tp = prefix + "tp."
    log(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}")  # fmt: skip
    try:
        # Prefill in a child (bench_process.py's own path), so this process never held the Tick objects.
        child = await asyncio.create_subprocess_exec(
            sys.executable, os.path.join(os.path.dirname(__file__), "bench_process.py"),
            "--bootstrap-servers", args.bootstrap_servers, "--prefill-prefix", tp,
            "--ticks", str(args.ticks), "--symbols", str(args.symbols), "--partitions", str(args.partitions),
        )  # fmt: skip
        if await child.wait() != 0:
            raise RuntimeError("prefill failed")
        warm = await one_run(tp, args, prefix, False)
        log(f"warm-up (discarded): {warm:,.0f} ticks/s")
        order = [k % 4 in (1, 2) for k in range(2 * args.pairs)]  # off, on, on, off, off, on, ...
        rates: dict[bool, list[float]] = {False: [], True: []}
        for on in order:
            rate = await one_run(tp, args, prefix, on)
            rates[on].append(rate)
            log(f"metrics {'on ' if on else 'off'}: {rate:,.0f} ticks/s")
        for name, stat in (("median", statistics.median), ("mean", statistics.fmean)):
            off, on_ = stat(rates[False]), stat(rates[True])
            log(
                f"{name} off {off:,.0f} ticks/s, on {on_:,.0f} ticks/s -> on/off {on_ / off:.3f} "
                f"(cost {100 * (1 - on_ / off):+.1f} %)"
            )
        log(f"runs off {[round(r) for r in rates[False]]}, on {[round(r) for r in rates[True]]}")
    finally:
        await delete_topics(args.bootstrap_servers, prefix)


if __name__ == "__main__":
    asyncio.run(main())
