"""``ticker-replay``: run recorded ticks (JSON Lines or page text) through the engine for backtests."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from tickerstream.cli.common import (
    CliParser,
    add_engine_args,
    add_logging_args,
    configure_from_args,
    load_engine_config,
    run_cli,
)
from tickerstream.cli.progress import ProgressLine
from tickerstream.engine import TickBatch
from tickerstream.errors import InputError, UsageError, describe
from tickerstream.model import Reject
from tickerstream.replay import ReadStats, ReplaySummary, open_recorded, paced, run_replay
from tickerstream.replay.report import ReportCollector, write_report
from tickerstream.replay.save import save_records
from tickerstream.sources.files import parse_iso_ts

#: Show a progress line only for inputs big enough to take a noticeable time.
PROGRESS_MIN_BYTES = 20_000_000


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="ticker-replay",
        description=(
            "Replay recorded ticks through the tickerstream engine (the same engine ticker-process runs) "
            "and write move and peg events as JSON Lines. Inputs are JSON Lines of ticks (*.jsonl, "
            "*.jsonl.gz), Parquet (*.parquet, e.g. a ticker-produce --archive directory) and page text "
            "(parsed like ticker-parse), files or directories, merged in event-time order. Same input "
            "and config give byte-identical output."
        ),
        epilog="exit codes: 0 done, 2 usage error, 130 interrupted (Ctrl-C)",
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="JSON Lines or page files, or directories")
    kafka = parser.add_argument_group(
        "replaying the ticks recorded to a topic in a time range (instead of INPUTs; broker append time)"
    )
    kafka.add_argument(
        "--from-topic", metavar="TOPIC", help="read ticks from this Kafka topic, e.g. ticker.ticks"
    )
    kafka.add_argument("--start", metavar="ISO", help="ticks recorded from this time (inclusive), ISO 8601")
    kafka.add_argument("--end", metavar="ISO", help="... until this time (exclusive), ISO 8601; default now")
    kafka.add_argument(
        "--save",
        metavar="PATH",
        help="also keep the range's ticks for later replays: PATH.parquet = one Parquet file, a directory "
        "(or a name ending in /) = Parquet files partitioned by day, else JSON Lines",
    )
    kafka.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; else [kafka] of --config; "
        "default 127.0.0.1:9092)",
    )
    add_engine_args(parser)
    parser.add_argument("--out", metavar="FILE", help="write events here (default stdout)")
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print a table to stderr: ticks, symbols, events, peg episodes, largest moves",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="0 = as fast as possible (default); X > 0 paces event time X times faster than real time",
    )
    parser.add_argument(
        "--rejects", metavar="FILE", help="write input records that are not valid ticks here (JSON Lines)"
    )
    parser.add_argument(
        "--report",
        metavar="DIR",
        help="also write a self-contained HTML report (charts, peg episodes, summary) to DIR/index.html",
    )
    add_logging_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_cli("ticker-replay", lambda: _run(build_parser().parse_args(argv)))


def _run(args: argparse.Namespace) -> int:
    configure_from_args(args)
    if args.speed < 0:
        raise UsageError("--speed must be >= 0")
    config = load_engine_config(args)
    stats = ReadStats()
    summary = ReplaySummary()
    collector = ReportCollector() if args.report else None
    interrupted = False
    out: BinaryIO = sys.stdout.buffer
    progress = None
    with ExitStack() as stack:
        # Ctrl-C is a clean stop from the moment the output exists, not only once ticks flow: a user
        # (or a test waiting for the file) may interrupt while the inputs are still being opened.
        try:
            if args.out:
                out = stack.enter_context(_open_for_writing(args.out))
            if args.rejects:
                rejects_fh = stack.enter_context(_open_for_writing(args.rejects))

                def write_reject(reject: Reject) -> None:
                    rejects_fh.write(reject.to_json() + b"\n")

                stats.reject_sink = write_reject
            batches = _open_inputs(args, stats)
            if args.speed > 0:
                batches = paced(batches, args.speed)
            if sys.stderr.isatty() and stats.bytes_total >= PROGRESS_MIN_BYTES:
                progress = ProgressLine(stats.bytes_total, lambda: (stats.bytes_read, stats.records))
            run_replay(
                batches,
                config,
                out,
                summary,
                on_batch=progress.tick if progress else None,
                observers=[collector] if collector is not None else [],
            )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            out.flush()
            if progress is not None:
                progress.close()
    if args.summary:
        print(summary.render(), file=sys.stderr)
    if collector is not None:
        try:
            path = write_report(Path(args.report), collector, summary, config)
        except OSError as exc:
            raise UsageError(f"cannot write the report to {args.report}: {exc.strerror}") from None
        print(f"ticker-replay: report written to {path}", file=sys.stderr)
    rejected = sum(stats.reject_counts.values())
    detail = ", ".join(f"{k}={v}" for k, v in sorted(stats.reject_counts.items()))
    print(
        f"ticker-replay: {summary.ticks:,} ticks, {sum(summary.events_by_type.values()):,} events, "
        f"{rejected:,} rejects"
        + (f" ({detail})" if detail else "")
        + (" (interrupted)" if interrupted else ""),
        file=sys.stderr,
    )
    return 130 if interrupted else 0


def _open_inputs(args: argparse.Namespace, stats: ReadStats) -> Iterator[TickBatch]:
    if args.from_topic:
        if args.inputs:
            raise UsageError("give either INPUT files or --from-topic, not both")
        return _topic_batches(args, stats)
    if args.start or args.end or args.save:
        raise UsageError("--start, --end and --save go with --from-topic")
    if not args.inputs:
        raise UsageError("nothing to replay: give INPUT files or directories, or --from-topic")
    return _readable(open_recorded(args.inputs, stats), stats)


def _readable(batches: Iterator[TickBatch], stats: ReadStats) -> Iterator[TickBatch]:
    """The batches, with an input that cannot be read (permissions, a broken gzip file, a truncated
    one) turned into one line (``InputError``) instead of a traceback."""
    try:
        yield from batches
    except (OSError, EOFError, zlib.error) as exc:
        where = next(reversed(stats.positions), None) if stats.positions else None
        about = f" ({where})" if where and where not in str(exc) else ""
        raise InputError(f"cannot read an input{about}: {describe(exc)}") from None


def _topic_batches(args: argparse.Namespace, stats: ReadStats) -> Iterator[TickBatch]:
    # Imported here: replaying files needs no Kafka client (and starts faster without it).
    from tickerstream.cli.kafka_errors import kafka_failures
    from tickerstream.config import load_settings
    from tickerstream.kafka.settings import KafkaSettings
    from tickerstream.kafka.topic_reader import read_time_range

    if not args.start:
        raise UsageError("--from-topic needs --start (ISO 8601)")
    start = _iso_ms(args.start, "--start")
    end = _iso_ms(args.end, "--end") if args.end else int(time.time() * 1000)
    if end <= start:
        raise UsageError("--end must be after --start")
    # Connection security (SASL/TLS) from TICKER_KAFKA__*, as for the other Kafka commands.
    kafka = load_settings(
        KafkaSettings,
        args.config,
        overrides=[f'bootstrap_servers="{args.bootstrap_servers}"'] if args.bootstrap_servers else [],
        env_section="KAFKA",
        file_section="kafka",
    )
    with kafka_failures(kafka.bootstrap_servers):
        found = asyncio.run(
            read_time_range(
                kafka.bootstrap_servers,
                args.from_topic,
                start,
                end,
                client_kwargs=kafka.client_kwargs(),
                keep_values=bool(args.save),
            )
        )
    if args.save:
        try:
            saved = save_records(args.save, found.values)
        except OSError as exc:
            raise UsageError(f"--save: cannot write {args.save}: {exc.strerror or exc}") from None
        print(f"ticker-replay: saved {saved:,} ticks to {args.save}", file=sys.stderr)
    stats.records = found.records
    for reject in found.rejects:
        stats.reject(reject)
    return iter([found.batch])


def _iso_ms(text: str, flag: str) -> int:
    try:
        return parse_iso_ts(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _open_for_writing(path: str) -> BinaryIO:
    try:
        return open(path, "wb")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


if __name__ == "__main__":
    raise SystemExit(main())
