"""``ticker-replay``: run recorded ticks (JSON Lines or page text) through the engine for backtests."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import BinaryIO

from tickerstream.cli.common import UsageError, add_logging_args, configure_from_args, run_cli
from tickerstream.cli.progress import ProgressLine
from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.model import Reject
from tickerstream.replay import ReplaySummary, paced, run_replay
from tickerstream.replay_inputs import InputError, ReadStats, open_recorded

#: Show a progress line only for inputs big enough to take a noticeable time.
PROGRESS_MIN_BYTES = 20_000_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticker-replay",
        description=(
            "Replay recorded ticks through the tickerstream engine (the same engine ticker-process runs) "
            "and write move and peg events as JSON Lines. Inputs are JSON Lines of ticks (*.jsonl, "
            "*.jsonl.gz) and page text (parsed like ticker-parse), files or directories, merged in "
            "event-time order. Same input and config give byte-identical output."
        ),
        epilog="exit codes: 0 done, 2 usage error, 130 interrupted (Ctrl-C)",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="JSON Lines or page files, or directories")
    parser.add_argument("--config", metavar="FILE", help="engine settings (TOML); see README 'Configuration'")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one engine setting, e.g. --set moves.zscore_k=5 (repeatable)",
    )
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
    add_logging_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli("ticker-replay", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    configure_from_args(args)
    if args.speed < 0:
        raise UsageError("--speed must be >= 0")
    config = load_settings(EngineConfig, args.config, overrides=args.overrides, env_section="ENGINE")
    stats = ReadStats()
    summary = ReplaySummary()
    with ExitStack() as stack:
        out: BinaryIO = sys.stdout.buffer
        if args.out:
            out = stack.enter_context(_open_for_writing(args.out))
        if args.rejects:
            rejects_fh = stack.enter_context(_open_for_writing(args.rejects))

            def write_reject(reject: Reject) -> None:
                rejects_fh.write(reject.to_json() + b"\n")

            stats.reject_sink = write_reject
        try:
            batches = open_recorded(args.inputs, stats)
        except InputError as exc:
            raise UsageError(str(exc)) from None
        if args.speed > 0:
            batches = paced(batches, args.speed)
        progress = None
        if sys.stderr.isatty() and stats.bytes_total >= PROGRESS_MIN_BYTES:
            progress = ProgressLine(stats.bytes_total, lambda: (stats.bytes_read, stats.records))
        interrupted = False
        try:
            run_replay(batches, config, out, summary, on_batch=progress.tick if progress else None)
        except KeyboardInterrupt:
            interrupted = True
        except InputError as exc:
            raise UsageError(str(exc)) from None
        finally:
            out.flush()
            if progress is not None:
                progress.close()
    if args.summary:
        print(summary.render(), file=sys.stderr)
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


def _open_for_writing(path: str) -> BinaryIO:
    try:
        return open(path, "wb")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


if __name__ == "__main__":
    raise SystemExit(main())
