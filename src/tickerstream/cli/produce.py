"""``ticker-produce``: scraped pages in, ticks (keyed by symbol) and rejects out to Kafka.

The command only: options, signals and the run's summary. The work is done by
:class:`~tickerstream.producer.runner.Producer` (``tickerstream.producer``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from tickerstream.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    CliParser,
    add_logging_args,
    configure_from_args,
    run_cli,
)
from tickerstream.cli.kafka_errors import kafka_failures
from tickerstream.cli.metrics_args import add_metrics_args
from tickerstream.config import load_settings
from tickerstream.errors import ProduceError, UsageError
from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.kafka.settings import DEFAULT_BOOTSTRAP, KafkaSettings
from tickerstream.log import get_logger
from tickerstream.metrics import (
    PRODUCER_PORT,
    AnyMetrics,
    MetricsServer,
    NoMetrics,
    default_metrics,
    start_metrics_server,
)
from tickerstream.model import TICK_SCHEMA_VERSION, TICK_SCHEMA_VERSIONS
from tickerstream.producer.runner import ProduceInputs, Producer, producer_config
from tickerstream.producer.tick_producer import CODECS, ProducerConfig, ProduceStats
from tickerstream.sources.files import parse_iso_ts
from tickerstream.sources.recordings import is_parquet_target

if TYPE_CHECKING:
    from tickerstream.columnar.writer import ParquetDataset, ParquetFile

PROG = "ticker-produce"
log = get_logger(PROG)

DESCRIPTION = """\
Parse scraped page text into ticks and produce them to Kafka: ticks to the ticks topic (key = symbol,
partition = murmur2(symbol) like every Kafka client; the topics keep broker append time), rejects
(input that could not become a tick, with its reason) to the dead-letter topic.

Inputs: files, directories (recursive, sorted, hidden files skipped) or '-' for stdin (the default).
Each page file or stdin is one snapshot, timed exactly like ticker-parse: --ts, else an ISO timestamp in
the file name, else the file's mtime, else now (stdin). JSON Lines of ticks (*.jsonl, *.ndjson, .gz)
are validated and sent as they are (re-encoded as v1 or v2 records with --tick-version 1 or 2); an
invalid line becomes a reject.

--follow keeps reading: a file is followed as it grows (like tail -F, from its start unless --from-end;
truncation and rotation are handled), a directory is watched for new files (each one snapshot, taken
once its size has settled; hidden and *.tmp/*.part names are ignored), and '-' is read as a stream.
Followed text has no timestamps of its own: the complete lines read in one poll are one snapshot whose
event time is the time they were read.

Tick records are schema v3 (v2 plus symbol_source: "page", or "registry" when the symbol was mapped
from a shown name through the coin registry; v2 is v1 plus price_quantum). --tick-version 2 or 1 writes
the frozen v2 or v1 record instead, on the topic and in --archive, for every input (pages, --follow,
JSON Lines, parse workers): for consumers that validate against tick.v2.schema.json or
tick.v1.schema.json (additionalProperties false). Such a record cannot say that a symbol was mapped,
so a registry-mapped tick becomes an unmapped_name reject instead (holding its v3 record). Our own
readers take all three; a v1 tick has an unknown price quantum, which the engine then estimates per
series.

Delivery: idempotent producer, acks=all, compressed record batches built per partition. SIGTERM or
Ctrl-C stops reading, sends everything already accepted and waits for the broker's acks, then exits 0;
a second Ctrl-C exits 130 at once. A summary line goes to stderr; long runs log progress periodically.

Topics are created if missing (--no-create-topics: only checked). An existing ticks topic with another
partition count is refused (exit 2): partitions decide which processor owns which symbol.

Exit status: 0 done (also after SIGTERM/Ctrl-C), 1 Kafka failure, 2 usage error, 130 forced stop.
"""


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="file, directory or '-' for stdin (default: -)")
    p.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        metavar="HOST:PORT",
        help=f"Kafka brokers (env KAFKA_BOOTSTRAP_SERVERS; default {DEFAULT_BOOTSTRAP})",
    )
    p.add_argument("--ts", metavar="ISO8601", help="event time of every snapshot (not with --follow)")
    p.add_argument(
        "--max-future",
        type=float,
        default=300.0,
        metavar="S",
        help="refuse a snapshot stamped more than S s ahead of this machine's clock: its ticks become "
        "invalid_tick rejects (a local-time file name read as UTC); 0 = no check (300)",
    )
    p.add_argument("--follow", action="store_true", help="keep reading PATHs as they grow (see above)")
    p.add_argument("--from-end", action="store_true", help="with --follow: skip a file's existing content")
    p.add_argument(
        "--poll-interval", type=float, default=0.5, metavar="S", help="with --follow: poll every S s (0.5)"
    )
    p.add_argument(
        "--archive",
        metavar="FILE",
        help="also keep the ticks Kafka acknowledged, in the order read: appended to FILE as JSON Lines; "
        "FILE.parquet: one Parquet file; an existing directory (or a name ending in /): Parquet files "
        "partitioned by day, DIR/date=YYYY-MM-DD/part-NNNN.parquet, rotated every 1,000,000 rows or hour",
    )
    p.add_argument(
        "--tick-version",
        type=int,
        choices=TICK_SCHEMA_VERSIONS,
        default=TICK_SCHEMA_VERSION,
        help=f"tick schema version written to Kafka and --archive (default {TICK_SCHEMA_VERSION}; "
        "2: the frozen v2 record, no symbol_source; 1: the frozen v1 record, nor price_quantum)",
    )
    g = p.add_argument_group("topics")
    g.add_argument(
        "--config",
        metavar="FILE",
        help="Kafka settings (TOML: a [kafka] table or a flat file; env TICKER_KAFKA__*)",
    )
    g.add_argument("--ticks-topic", metavar="NAME", help="ticks topic (default ticker.ticks)")
    g.add_argument("--rejects-topic", metavar="NAME", help="dead-letter topic (default ticker.rejects)")
    g.add_argument("--partitions", type=int, metavar="N", help="partitions of the ticks topic (default 6)")
    g.add_argument(
        "--no-create-topics", action="store_true", help="only check that the topics exist, never create"
    )
    g.add_argument(
        "--init-topics",
        action="store_true",
        help="create (or check) all tickerstream topics, then exit without reading input",
    )
    t = p.add_argument_group("batching (defaults measured: docs/benchmarks.md)")
    t.add_argument(
        "--compression",
        choices=["auto", *CODECS],
        default="auto",
        help="record batch codec; auto = zstd if cramjam is installed, else gzip",
    )
    defaults = ProducerConfig()
    t.add_argument("--batch-bytes", type=int, default=defaults.batch_bytes, help="bytes per record batch")
    t.add_argument(
        "--linger-ms", type=int, default=defaults.linger_ms, help="max wait of a partly filled batch"
    )
    t.add_argument(
        "--max-in-flight", type=int, default=defaults.max_in_flight, help="unacked batches before waiting"
    )
    t.add_argument(
        "--delivery-timeout",
        type=float,
        default=defaults.delivery_timeout_s,
        metavar="S",
        help="retry a batch that failed in an outage for up to S s before giving up (0: never retry)",
    )
    t.add_argument(
        "--parse-workers",
        choices=["auto", "0", "1", "2", "3", "4"],
        default="auto",
        help="processes parsing files (0: this one); auto = 2 for inputs over 16 MB on 2+ cores",
    )
    p.add_argument(
        "--progress-interval", type=float, default=10.0, metavar="S", help="log progress every S s (0: off)"
    )
    add_metrics_args(p, PRODUCER_PORT)
    add_logging_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli(PROG, lambda: _run(argv))


@dataclass
class _Options:
    args: argparse.Namespace
    settings: KafkaSettings
    config: ProducerConfig
    inputs: ProduceInputs


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_from_args(args)
    opts = _options(args)
    if args.init_topics:  # one-shot: nothing to scrape, nothing to read
        with kafka_failures(opts.settings.bootstrap_servers):
            return asyncio.run(_init_topics(opts))
    metrics: AnyMetrics = NoMetrics()
    server: MetricsServer | None = None
    if not args.no_metrics:
        metrics = default_metrics()
        server = start_metrics_server(args.metrics_host, args.metrics_port, metrics.registry)
    try:
        with kafka_failures(opts.settings.bootstrap_servers):
            return asyncio.run(_produce(opts, metrics, server))
    except asyncio.CancelledError:  # a second signal: stop without flushing
        print(f"{PROG}: interrupted, unsent ticks dropped", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if server is not None:
            server.close()


def _options(args: argparse.Namespace) -> _Options:
    overrides = []
    if args.bootstrap_servers:
        overrides.append(f"bootstrap_servers={args.bootstrap_servers!r}".replace("'", '"'))
    if args.ticks_topic:
        overrides.append(f'topics.ticks="{args.ticks_topic}"')
    if args.rejects_topic:
        overrides.append(f'topics.rejects="{args.rejects_topic}"')
    if args.partitions is not None:
        overrides.append(f"ticks_partitions={args.partitions}")
    settings = load_settings(
        KafkaSettings, args.config, overrides=overrides, env_section="KAFKA", file_section="kafka"
    )
    ts_override = None
    if args.ts is not None:
        if args.follow:
            raise UsageError("--ts does not go with --follow: followed text is timed as it is read")
        try:
            ts_override = parse_iso_ts(args.ts)
        except ValueError as exc:
            raise UsageError(f"--ts: {exc}") from None
    if args.from_end and not args.follow:
        raise UsageError("--from-end needs --follow")
    if args.poll_interval <= 0 or args.progress_interval < 0 or args.max_future < 0:
        raise UsageError("--poll-interval must be > 0, --progress-interval and --max-future >= 0")
    try:
        config = producer_config(
            settings,
            compression=None if args.compression == "auto" else args.compression,
            batch_bytes=args.batch_bytes,
            linger_ms=args.linger_ms,
            max_in_flight=args.max_in_flight,
            delivery_timeout_s=args.delivery_timeout,
            tick_version=args.tick_version,
            max_future_ms=round(args.max_future * 1000),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    paths = args.paths or ["-"]
    if not args.init_topics:
        for path in paths:
            if path != "-" and not os.path.exists(path):
                raise UsageError(f"no such file or directory: {path}")
        if paths.count("-") > 1:
            raise UsageError("stdin ('-') can be read only once")
    inputs = ProduceInputs(
        paths=paths,
        follow=args.follow,
        ts_override=ts_override,
        from_end=args.from_end,
        poll_interval_s=args.poll_interval,
        parse_workers=args.parse_workers,
    )
    return _Options(args, settings, config, inputs)


async def _init_topics(opts: _Options) -> int:
    specs = topic_specs_for(opts.settings)
    await ensure_topics(
        opts.settings.bootstrap_servers,
        specs,
        create=not opts.args.no_create_topics,
        client_kwargs=opts.settings.client_kwargs(),
    )
    print(f"{PROG}: topics ready: {', '.join(s.name for s in specs)}", file=sys.stderr)
    return EXIT_OK


async def _produce(opts: _Options, metrics: AnyMetrics, server: MetricsServer | None) -> int:
    args = opts.args
    archive: BinaryIO | ParquetFile | ParquetDataset | None = None
    if args.archive:
        try:
            if is_parquet_target(args.archive):
                # Imported here: pyarrow takes a while to load, and only a Parquet archive needs it.
                from tickerstream.columnar.writer import open_parquet_sink

                archive = open_parquet_sink(args.archive)
            else:
                archive = open(args.archive, "ab")  # noqa: SIM115 - closed below
        except FileExistsError as exc:
            raise UsageError(
                f"--archive: {exc}; give a directory for a dataset that grows across runs"
            ) from None
        except OSError as exc:
            raise UsageError(f"--archive: cannot write {args.archive}: {exc.strerror}") from None
    producer = Producer(
        opts.settings,
        opts.config,
        create_topics=not args.no_create_topics,
        archive=archive,
        metrics=metrics,
        progress_interval_s=args.progress_interval,
    )
    started = time.monotonic()
    failed: ProduceError | None = None
    try:
        await producer.start()  # topics checked: a usage error stays one line, before any log
        if server is not None:
            log.info("produce.metrics_serving", address=f"{server.host}:{server.port}")
        _install_signal_handlers(producer, asyncio.current_task())
        try:
            await producer.run(opts.inputs)
        finally:
            await producer.stop()  # flushes everything accepted, waits for the acks
    except ProduceError as exc:
        failed = exc
    finally:
        if archive is not None:
            archive.close()  # a Parquet file is complete (readable) only from here on
    _summary(producer.stats, time.monotonic() - started, producer.stop_requested, opts.config.ticks_topic)
    if failed is not None:
        unacked = producer.stats.ticks_sent - producer.stats.ticks_acked
        if archive is not None and unacked:
            # The archive takes only acknowledged ticks: say that the ones Kafka never got are not in it.
            raise ProduceError(
                f"{failed}; the {unacked} ticks Kafka did not acknowledge are not in --archive {args.archive}"
            ) from failed
        raise failed  # after the summary: what was acknowledged is reported either way
    return EXIT_OK


def _install_signal_handlers(producer: Producer, main_task: asyncio.Task[int] | None) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if not producer.stop_requested:
            producer.request_stop()
            log.info("produce.stopping", signal=signal.Signals(signum).name, detail="flushing accepted ticks")
        elif main_task is not None:
            main_task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)


# -- reporting -----------------------------------------------------------------------------------


def _summary(stats: ProduceStats, elapsed: float, stopped: bool, topic: str) -> None:
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(stats.rejects_by_reason.items()))
    rate = stats.ticks_acked / elapsed if elapsed > 0 else 0.0
    log.info("produce.done", elapsed_s=round(elapsed, 3), ticks_per_s=round(rate), **_stats_fields(stats))
    print(
        f"{PROG}: {stats.ticks_acked} ticks, {stats.rejects_acked} rejects"
        + (f" ({reasons})" if reasons else "")
        + f" from {stats.snapshots} snapshot(s) to {topic}"
        + (" (stopped by signal)" if stopped else ""),
        file=sys.stderr,
    )


def _stats_fields(stats: ProduceStats) -> dict[str, int]:
    return {
        "ticks_sent": stats.ticks_sent,
        "ticks_acked": stats.ticks_acked,
        "rejects_acked": stats.rejects_acked,
        "batches_acked": stats.batches_acked,
        "bytes_sent": stats.bytes_sent,
        "delivery_errors": stats.delivery_errors,
        "future_ts_clamped": stats.future_ts_clamped,
    }


if __name__ == "__main__":
    sys.exit(main())
