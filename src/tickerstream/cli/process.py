"""``ticker-process``: a member of the processor consumer group; runs until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from tickerstream.cli.common import (
    EXIT_OK,
    CliParser,
    add_logging_args,
    check_registry,
    configure_from_args,
    run_cli,
)
from tickerstream.cli.kafka_errors import kafka_failures
from tickerstream.cli.metrics_args import add_market_args, add_metrics_args, market_config_from_args
from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.kafka.settings import DEFAULT_BOOTSTRAP, KafkaSettings
from tickerstream.log import get_logger
from tickerstream.metrics import (
    PROCESSOR_PORT,
    AnyMarketGauges,
    AnyMetrics,
    MarketGauges,
    MetricsServer,
    NoMarketGauges,
    NoMetrics,
    default_metrics,
    start_metrics_server,
)
from tickerstream.processor import Processor, ProcessorConfig

log = get_logger("ticker-process")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="ticker-process",
        description=(
            "Consume ticks from Kafka as a member of a consumer group, run the engine, and publish move and "
            "peg events; invalid messages go to the dead-letter topic. Runs until SIGTERM or Ctrl-C, then "
            "commits and leaves the group. Start as many instances as there are partitions to scale out."
        ),
        epilog=(
            "settings: --set engine.KEY=V (or KEY=V for engine keys), --set kafka.KEY=V (e.g. "
            "kafka.topics.ticks=my.ticks, kafka.ticks_partitions=12), --set process.KEY=V (e.g. "
            "process.commit_interval_ms=500); environment TICKER_ENGINE__*, TICKER_KAFKA__*, "
            "TICKER_PROCESS__*. "
            "exit codes: 0 stopped cleanly, 1 failure, 2 usage or topic-layout error"
        ),
    )
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; else [kafka] of --config; "
        f"default {DEFAULT_BOOTSTRAP})",
    )
    parser.add_argument("--group", default=None, help="consumer group id (default tickerstream)")
    parser.add_argument(
        "--exactly-once",
        action="store_true",
        default=None,
        help="Kafka transactions: events, dead letters and offsets commit together (read_committed readers "
        "see each event once); default at-least-once with deterministic event ids",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings (TOML): engine tables, [kafka] and [process]; see README 'Configuration'",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set moves.zscore_k=5, --set process.commit_interval_ms=500",
    )
    add_metrics_args(parser, PROCESSOR_PORT)
    add_market_args(parser)
    add_logging_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_cli("ticker-process", lambda: _run(build_parser().parse_args(argv)))


def split_overrides(overrides: list[str]) -> dict[str, list[str]]:
    """Sort ``--set`` items by section; keys without a known section prefix are engine keys."""
    out: dict[str, list[str]] = {"engine": [], "kafka": [], "process": []}
    for item in overrides:
        section, dot, rest = item.partition(".")
        if dot and section in out:
            out[section].append(rest)
        else:
            out["engine"].append(item)
    return out


def load_all(args: argparse.Namespace) -> tuple[KafkaSettings, EngineConfig, ProcessorConfig]:
    sets = split_overrides(args.overrides)
    engine = load_settings(EngineConfig, args.config, overrides=sets["engine"], env_section="ENGINE")
    check_registry(engine)  # a broken peg registry is a user mistake: one line before connecting
    given = [f"bootstrap_servers={_toml_string(args.bootstrap_servers)}"] if args.bootstrap_servers else []
    kafka_sets = [*given, *sets["kafka"]]
    kafka = load_settings(
        KafkaSettings, args.config, overrides=kafka_sets, env_section="KAFKA", file_section="kafka"
    )
    process_sets = list(sets["process"])
    if args.group is not None:
        process_sets.append(f"group={_toml_string(args.group)}")
    if args.exactly_once:
        process_sets.append("exactly_once=true")
    process = load_settings(
        ProcessorConfig, args.config, overrides=process_sets, env_section="PROCESS", file_section="process"
    )
    return kafka, engine, process


def _toml_string(text: str) -> str:
    import orjson

    return orjson.dumps(text).decode()


def _run(args: argparse.Namespace) -> int:
    configure_from_args(args)
    kafka, engine, process = load_all(args)
    metrics: AnyMetrics
    markets: AnyMarketGauges
    server: MetricsServer | None = None
    if args.no_metrics:
        metrics, markets = NoMetrics(), NoMarketGauges()
    else:
        market_config = market_config_from_args(args)
        metrics = default_metrics()
        markets = MarketGauges(metrics, market_config)
        server = start_metrics_server(args.metrics_host, args.metrics_port, metrics.registry)
        log.info("process.metrics_serving", address=f"{server.host}:{server.port}")
    try:
        with kafka_failures(kafka.bootstrap_servers):
            asyncio.run(_serve(kafka, engine, process, metrics, markets))
    finally:
        if server is not None:
            server.close()
    return EXIT_OK


async def _serve(
    kafka: KafkaSettings,
    engine: EngineConfig,
    process: ProcessorConfig,
    metrics: AnyMetrics,
    markets: AnyMarketGauges,
) -> None:
    proc = Processor(kafka, engine, process, metrics=metrics, markets=markets)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, proc.request_stop)
    async with proc:
        await proc.run()


if __name__ == "__main__":
    raise SystemExit(main())
