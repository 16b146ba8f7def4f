"""``tickerstream``: the main job.

``tickerstream run`` with no broker configured runs the whole pipeline embedded, in one process:
page text (by default the bundled sample) -> parser -> engine -> events as JSON Lines on stdout,
and a summary on stderr. The Kafka mode (``--bootstrap-servers`` or ``KAFKA_BOOTSTRAP_SERVERS``)
runs the same sources and engine through Kafka topics.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources

from tickerstream.cli.common import (
    CliParser,
    UsageError,
    add_engine_args,
    add_logging_args,
    configure_from_args,
    load_engine_config,
    run_cli,
)
from tickerstream.replay import ReplaySummary, run_replay
from tickerstream.replay_inputs import InputError, ReadStats, open_recorded


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
    if args.bootstrap_servers:
        from tickerstream.kafka.pipeline import run_on_kafka  # imported lazily: embedded mode needs no Kafka

        return run_on_kafka(args.bootstrap_servers, paths, config, group=args.group)
    stats = ReadStats()
    summary = ReplaySummary()
    try:
        run_replay(open_recorded(paths, stats), config, sys.stdout.buffer, summary)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.buffer.flush()
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    print(
        f"tickerstream: embedded run: {summary.ticks:,} ticks, "
        f"{sum(summary.events_by_type.values()):,} events, {sum(stats.reject_counts.values()):,} rejects",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
