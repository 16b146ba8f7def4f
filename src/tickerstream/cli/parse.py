"""``ticker-parse``: scraped pages in, one JSON tick per line out.

Thin shell around ``tickerstream.parse`` (pure) and ``tickerstream.sources.files`` (the I/O). Output is
written once per snapshot with orjson-encoded lines, so the parser, not the writing, sets the pace.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from tickerstream.cli.common import CliParser, add_logging_args, configure_from_args, run_cli
from tickerstream.errors import SourceError, UsageError
from tickerstream.log import get_logger
from tickerstream.model import Reject, Tick
from tickerstream.parse import parse_bytes
from tickerstream.sources.files import Snapshot, iter_snapshots, parse_iso_ts

PROG = "ticker-parse"

DESCRIPTION = """\
Extract crypto ticker records from scraped page text.

Inputs: files, directories (read recursively in sorted order; hidden files skipped) or '-' for
stdin; with no PATH, stdin is read. Each file (or stdin) is one snapshot.

Event time of a snapshot (all its ticks share it): --ts if given, else an ISO timestamp in the
file name (2024-05-01T12-30-00Z, 20240501T123000Z, 2024-05-01_12-30, ...; UTC unless it has an
offset), else the file's modification time, else the current time (stdin).

Output: one JSON tick per line on stdout (schema: tickerstream/schemas/tick.schema.json); a one-line
summary on stderr; with --rejects, input that could not become a tick (bad price, overlong line,
invalid UTF-8, ...) as JSON Lines (reject.schema.json).

Exit status: 0 when the input was read (even if it held no ticks), 2 on usage errors (bad flag,
missing or unreadable path), 130 when interrupted.
"""


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="file, directory or '-' for stdin (default: -)")
    p.add_argument(
        "--ts",
        metavar="ISO8601",
        help="event time for every snapshot, e.g. 2024-05-01T12:30:00Z (naive = UTC)",
    )
    p.add_argument("--rejects", metavar="FILE", help="write rejects to FILE as JSON Lines")
    add_logging_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli(PROG, lambda: _run(argv))


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_from_args(args)
    log = get_logger(PROG)
    ts_override = None
    if args.ts is not None:
        try:
            ts_override = parse_iso_ts(args.ts)
        except ValueError as exc:
            raise UsageError(f"--ts: {exc}") from None
    try:
        snapshots = iter_snapshots(args.paths or ["-"], ts_override=ts_override)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    rejects_fh: BinaryIO | None = None
    if args.rejects is not None:
        try:
            rejects_fh = open(args.rejects, "wb")  # noqa: SIM115 - closed in finally
        except OSError as exc:
            raise UsageError(f"--rejects: cannot write {args.rejects}: {exc.strerror}") from None
    out = sys.stdout.buffer
    n_ticks = n_snapshots = 0
    reasons: Counter[str] = Counter()
    try:
        for snap in _guarded(snapshots):
            result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
            n_snapshots += 1
            n_ticks += len(result.ticks)
            if result.ticks:
                out.write(_jsonl(result.ticks))
            if result.rejects:
                reasons.update(r.reason.value for r in result.rejects)
                if rejects_fh is not None:
                    rejects_fh.write(_jsonl(result.rejects))
            log.debug("parse.snapshot", source=snap.source, ts=snap.ts, ticks=len(result.ticks),
                      rejects=len(result.rejects))  # fmt: skip
        out.flush()
    finally:
        if rejects_fh is not None:
            rejects_fh.close()
    print(f"{PROG}: {summary(n_ticks, reasons, n_snapshots)}", file=sys.stderr)
    return 0


def _guarded(snapshots: Iterator[Snapshot]) -> Iterator[Snapshot]:
    """Re-raise a file that turned out unreadable mid-run as a usage error (one line, exit 2)."""
    try:
        yield from snapshots
    except SourceError as exc:
        raise UsageError(str(exc)) from None


def _jsonl(records: list[Tick] | list[Reject]) -> bytes:
    return b"\n".join([r.to_json() for r in records]) + b"\n"


def summary(n_ticks: int, reasons: Counter[str], n_snapshots: int) -> str:
    """``50 ticks, 2 rejects (invalid_price=1, line_too_long=1) from 1 snapshot(s)``."""
    n_rejects = sum(reasons.values())
    detail = ""
    if n_rejects:
        detail = " (" + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())) + ")"
    return f"{n_ticks} ticks, {n_rejects} rejects{detail} from {n_snapshots} snapshot(s)"


if __name__ == "__main__":
    sys.exit(main())
