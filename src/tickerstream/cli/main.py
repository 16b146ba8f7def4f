"""``tickerstream``: the main job.

``tickerstream run`` with no broker configured runs the whole pipeline embedded, in one process:
page text (by default the bundled sample) -> parser -> engine -> events as JSON Lines on stdout,
and a summary on stderr. The Kafka mode (``--bootstrap-servers`` or ``KAFKA_BOOTSTRAP_SERVERS``)
runs the same sources and engine through Kafka topics.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from importlib import resources
from typing import Any, TypeVar

from tickerstream.cli.common import (
    CliParser,
    add_engine_args,
    add_logging_args,
    configure_from_args,
    load_engine_config,
    run_cli,
)
from tickerstream.engine import EngineConfig
from tickerstream.errors import UsageError
from tickerstream.replay import ReadStats, ReplaySummary, open_recorded, run_replay

T = TypeVar("T")


def bundled_sample_dir() -> str:
    """The sample pages shipped inside the package (4 days, 25 assets, a crash and a depeg)."""
    return str(resources.files("tickerstream.data").joinpath("sample"))


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="tickerstream",
        description="tickerstream: parse scraped crypto tickers, detect price moves and peg deviations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="run the main job (embedded, or on Kafka with --bootstrap-servers)",
        description=(
            "Run the pipeline: sources -> parser -> engine -> events. Without a broker it runs embedded "
            "in this process and prints events as JSON Lines on stdout. With no PATH it uses the "
            "bundled sample pages."
        ),
    )
    run.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="page files, JSON Lines of ticks, or directories (default: the bundled sample)",
    )
    run.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS); unset = embedded mode",
    )
    run.add_argument(
        "--group",
        default="tickerstream-run",
        help="consumer group of the processor in Kafka mode (default tickerstream-run)",
    )
    add_engine_args(run)
    run.add_argument("--quiet", action="store_true", help="do not print the summary table on stderr")
    add_logging_args(run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()

    def body() -> int:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return _run(args)

    return run_cli("tickerstream", body)


def _run(args: argparse.Namespace) -> int:
    configure_from_args(args)
    config = load_engine_config(args)
    paths = args.paths or [bundled_sample_dir()]
    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"input not found: {path}")
    if args.bootstrap_servers:
        return _run_on_kafka(args.bootstrap_servers, paths, config, args.group, args.config)
    stats = ReadStats()
    summary = ReplaySummary()
    run_replay(open_recorded(paths, stats), config, sys.stdout.buffer, summary)
    sys.stdout.buffer.flush()
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    print(
        f"tickerstream: embedded run: {summary.ticks:,} ticks, "
        f"{sum(summary.events_by_type.values()):,} events, {sum(stats.reject_counts.values()):,} rejects",
        file=sys.stderr,
    )
    return 0


def _run_on_kafka(
    bootstrap: str, paths: list[str], config: EngineConfig, group: str, config_file: str | None
) -> int:
    # Imported here: the embedded run needs no Kafka client (and starts faster without it).
    from tickerstream.cli.kafka_errors import kafka_failures
    from tickerstream.config import load_settings
    from tickerstream.kafka.settings import KafkaSettings
    from tickerstream.processor.main_job import run_main_job

    # Topic names, sizes and connection security from TICKER_KAFKA__*, like ticker-produce/-process.
    settings = load_settings(
        KafkaSettings,
        config_file,
        overrides=[f'bootstrap_servers="{bootstrap}"'],
        env_section="KAFKA",
        file_section="kafka",
    )
    with kafka_failures(bootstrap):
        result = asyncio.run(
            _cancel_on_signal(run_main_job(settings, paths, config, group, sys.stdout.buffer))
        )
    by_type = ", ".join(f"{k}={v}" for k, v in sorted(result.events_by_type.items())) or "none"
    print(
        f"tickerstream: kafka run: {result.produced:,} ticks produced to {settings.topics.ticks}, events "
        f"{by_type} (group {group}, {result.elapsed_s:.1f} s)",
        file=sys.stderr,
    )
    return 0


async def _cancel_on_signal(job: Coroutine[Any, Any, T]) -> T:
    """Run ``job``; SIGTERM and Ctrl-C cancel it, so its ``finally`` blocks stop the processor (commit,
    leave the group) and the clients. An exception raised from a signal handler instead could land
    anywhere inside the Kafka clients and leave them hanging."""
    task = asyncio.ensure_future(job)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None  # run_cli reports it: exit 130


if __name__ == "__main__":
    raise SystemExit(main())
