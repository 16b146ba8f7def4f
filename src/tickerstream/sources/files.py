"""Where snapshots come from: files, directories and stdin, each with its event time.

The I/O side shared by ``ticker-parse``, ``ticker-replay`` and ``ticker-produce``; the parser itself
stays pure. One file (or stdin) is one snapshot: all of its ticks share one event time, taken from
``--ts`` if given, else an ISO timestamp in the file name (scrapers name their captures that way),
else the file's modification time, else the current time.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from tickerstream.errors import SourceError


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The bytes of one captured page and its event time (ms since the epoch, UTC)."""

    source: str
    ts: int
    data: bytes


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_iso_ts(s: str) -> int:
    """ISO 8601 (``2024-05-01T12:30:00Z``, ``2024-05-01 12:30+02:00``, ``2024-05-01``) -> ms UTC.

    A timestamp without offset is UTC. Raises ``ValueError`` naming the text when it is not ISO 8601.
    """
    text = s.strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
    except (ValueError, IndexError):
        raise ValueError(f"not an ISO 8601 timestamp: {s!r} (e.g. 2024-05-01T12:30:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = (dt - _EPOCH) // _MS
    if ms < 0:
        raise ValueError(f"timestamp before 1970: {s!r}")
    return ms


# 2024-05-01T12-30-00Z, 2024-05-01T12:30:00.5+02:00, 20240501T123000Z, 2024-05-01_12-30, 2024-05-01
_NAME_TS = re.compile(
    r"(?<!\d)(?P<y>\d{4})(?P<d1>-?)(?P<mo>\d{2})(?P=d1)(?P<d>\d{2})"
    r"(?:[T_ ](?P<h>\d{2})[-:.]?(?P<mi>\d{2})(?:[-:.]?(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2}(?!\d))?(?!\d)"
)


def ts_from_name(name: str) -> int | None:
    """The event time an ISO-style stamp in a file name gives (UTC unless the stamp has an offset)."""
    for m in _NAME_TS.finditer(name):
        try:
            dt = datetime(
                int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0),
                int((m["f"] or "0")[:6].ljust(6, "0")), tzinfo=_tz(m["tz"]),
            )  # fmt: skip
        except ValueError:
            continue  # 20241399: digits that are no date
        if 1990 <= dt.year <= 2200:
            return (dt - _EPOCH) // _MS
    return None


def _tz(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def iter_snapshots(
    paths: Sequence[str],
    *,
    ts_override: int | None = None,
    now: Callable[[], int] = now_ms,
    stdin: BinaryIO | None = None,
) -> Iterator[Snapshot]:
    """Snapshots of ``paths`` in order: files, directories (recursive, sorted, hidden entries skipped),
    ``-`` for stdin. ``now`` (ms) is the event time of stdin, and the fallback when a file has no mtime.

    Every path is checked before the first snapshot is produced: a missing path raises ``SourceError``
    here, not halfway through the output. A file that cannot be read raises it when reached.
    """
    for path in paths:
        if path != "-" and not os.path.exists(path):
            raise SourceError(f"no such file or directory: {path}")
        if path != "-" and not os.access(path, os.R_OK):
            raise SourceError(f"permission denied: {path}")
    return _snapshots(paths, ts_override, now, stdin)


def _snapshots(
    paths: Sequence[str], ts_override: int | None, now: Callable[[], int], stdin: BinaryIO | None
) -> Iterator[Snapshot]:
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield Snapshot("-", ts_override if ts_override is not None else now(), stream.read())
        elif os.path.isdir(path):
            for file in walk_files(path):
                yield _read(file, ts_override, now)
        else:
            yield _read(path, ts_override, now)


def walk_files(root: str) -> Iterator[str]:
    """Files under ``root``, depth first in sorted order, without hidden files or directories.

    The one definition of "the files of a directory input": ``ticker-produce`` plans its parse
    workers' file groups with it, so they send in exactly the order a single reader would.
    """
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise SourceError(f"cannot read directory {root}: {exc.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from walk_files(entry.path)
        elif entry.is_file():
            yield entry.path


def _read(path: str, ts_override: int | None, now: Callable[[], int]) -> Snapshot:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
            mtime_ns = os.fstat(fh.fileno()).st_mtime_ns
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    if ts_override is not None:
        ts = ts_override
    else:
        named = ts_from_name(os.path.basename(path))
        ts = named if named is not None else (mtime_ns // 1_000_000 if mtime_ns > 0 else now())
    return Snapshot(path, ts, data)
