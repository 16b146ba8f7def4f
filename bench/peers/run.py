"""Peers harness (#12): ticker-process, the same job on Quix Streams, and the bare-client ceiling.

One broker, one topic: N JSON ticks from the seeded generator (bench/bench_process.py's, written by
our TickProducer, zstd), 1,000 symbols, 6 partitions. Then, for several rounds, each system in turn
(A, B, C, A, B, C, ...) in a fresh consumer group with output topics of its own, each as its own
process. A run's drain time is from starting the process until the group's committed offsets reach
the end offsets (polled every 100 ms); then the process is stopped (SIGTERM, as in production; the
bare drain commits and exits by itself). CPU seconds and peak RSS are the process's own (wait4).
After the rounds, the events of round 1 are compared (agreement.py), the table and same-run
ratios are printed, and a chart is written.

Run it with the peers' venv; ticker-process and the bare drain run in tickerstream's:

    bash bench/peers/setup.sh
    bench/peers/.venv/bin/python bench/peers/run.py --bootstrap-servers 127.0.0.1:9092 \
        --our-python .venv/bin/python --rounds 4 --chart docs/peers.png
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from agreement import compare
from kafka_io import CommitWatch, delete_topics, end_offsets, read_topic
from report import Result, chart, table
from systems import REPO, Run, Systems

DRAIN_TIMEOUT_S = 1800


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    # This tree's code, whatever the venv's editable install points at.
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def prefill(args: argparse.Namespace, prefix: str) -> None:
    # bench_process.py's own prefill: the same generator and producer as the processor benchmark.
    # Its --symbols counts the synthetic ones besides the 25 real assets.
    argv = [args.our_python, str(REPO / "bench" / "bench_process.py"), "--bootstrap-servers", args.broker]
    argv += ["--prefill-prefix", prefix, "--ticks", str(args.ticks)]
    argv += ["--symbols", str(args.symbols - 25), "--partitions", str(args.partitions)]
    subprocess.run(argv, env=child_env(), check=True)


def run_once(
    args: argparse.Namespace, run: Run, end: dict[int, int], logs: Path, profile: Path | None
) -> Result:
    watch = CommitWatch(args.broker, run.group, args.ticks_topic, args.partitions)
    with (logs / f"{run.group}.log").open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(run.argv, env=child_env(), stdout=err, stderr=err)
        spy = None
        if profile is not None:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(proc.pid),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(profile),
                ],
                stdout=err,
                stderr=err,
            )
        reaped = None  # (status, rusage) once the process is gone
        try:
            while not watch.reached(end):
                # wait4 rather than Popen.poll: poll would reap the process and lose its rusage.
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG) if reaped is None else (0, 0, None)
                if pid:
                    reaped = (status, usage)
                    if not run.exits or status != 0:
                        raise RuntimeError(f"{run.system} exited early ({status}); see {err.name}")
                if time.perf_counter() - t0 > DRAIN_TIMEOUT_S:
                    raise RuntimeError(f"{run.system} did not drain in {DRAIN_TIMEOUT_S} s")
                time.sleep(0.1)
            took = time.perf_counter() - t0
        finally:
            if reaped is None:
                if not run.exits:
                    proc.send_signal(signal.SIGTERM)
                _, status, usage = os.wait4(proc.pid, 0)
                reaped = (status, usage)
            proc.returncode = reaped[0]  # so that Popen does not wait for it again
            watch.close()
            if spy is not None:
                spy.wait(timeout=120)
    status, usage = reaped
    if status != 0:
        log(f"  note: {run.system} exit status {status}")
    total = sum(end.values())
    return Result(run.system, total / took, took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--bootstrap-servers",
        dest="broker",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    ap.add_argument(
        "--our-python", default=str(REPO / ".venv" / "bin" / "python"), help="tickerstream's venv python"
    )
    ap.add_argument("--ticks", type=int, default=1_000_000)
    ap.add_argument("--symbols", type=int, default=1_000, help="symbols in all (the 25 real assets included)")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--systems", default="", help="comma-separated subset (default: all)")
    ap.add_argument(
        "--tuned",
        action="append",
        default=[],
        metavar="KEY=V",
        help="adds 'ticker-process tuned' with these --set values",
    )
    ap.add_argument("--chart", type=Path, help="write the chart (PNG) here")
    ap.add_argument("--json", type=Path, help="write every run's figures here")
    ap.add_argument("--profile", type=Path, help="after the rounds, one more ticker-process run under py-spy")
    ap.add_argument("--keep-topics", action="store_true")
    args = ap.parse_args()

    prefix = f"peers.{uuid.uuid4().hex[:6]}."
    args.ticks_topic = prefix + "ticks"
    logs = REPO / "bench" / "out" / "peers"
    logs.mkdir(parents=True, exist_ok=True)
    systems = Systems(args.broker, args.ticks_topic, args.our_python, args.tuned)
    names = [s.strip() for s in args.systems.split(",") if s.strip()] or systems.names()
    log(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; topic {args.ticks_topic}")
    try:
        t = time.perf_counter()
        prefill(args, prefix)
        end = end_offsets(args.broker, args.ticks_topic, args.partitions)
        log(f"prefill: {sum(end.values()):,} ticks in {time.perf_counter() - t:.1f} s")
        results: list[list[Result]] = []
        first: dict[str, Run] = {}
        for r in range(1, args.rounds + 1):
            row = []
            for name in names:
                run = systems.run(name, f"{prefix}r{r}")
                first.setdefault(name, run)
                res = run_once(args, run, end, logs, None)
                log(
                    f"round {r} {name:22s} {res.ticks_per_s:>10,.0f} ticks/s  {res.seconds:6.1f} s  "
                    f"cpu {res.cpu_s:6.1f} s  rss {res.rss_mb:6.0f} MB  (load {os.getloadavg()[0]:.2f})"
                )
                row.append(res)
            results.append(row)
        print("\n".join(table(results, names)))
        if "ticker-process" in first and "quix" in first:
            tp = [
                *read_topic(args.broker, first["ticker-process"].moves),
                *read_topic(args.broker, first["ticker-process"].pegs),
            ]
            qx = [*read_topic(args.broker, first["quix"].moves), *read_topic(args.broker, first["quix"].pegs)]
            print("\nagreement (round 1):")
            print("\n".join("  " + line for line in compare(tp, qx).lines()))
        if args.chart:
            chart(
                results,
                names,
                args.chart,
                f"{sum(end.values()):,} ticks, {args.symbols:,} symbols, "
                f"{args.partitions} partitions; {args.rounds} alternated rounds, 2 shared cores",
            )
            log(f"chart: {args.chart}")
        if args.json:
            args.json.write_text(json.dumps([[vars(x) for x in row] for row in results], indent=1))
        if args.profile:
            run = systems.run("ticker-process", f"{prefix}profile")
            res = run_once(args, run, end, logs, args.profile)
            log(f"profiled run: {res.ticks_per_s:,.0f} ticks/s under py-spy; raw stacks in {args.profile}")
    finally:
        if not args.keep_topics:
            delete_topics(args.broker, prefix)


if __name__ == "__main__":
    main()
