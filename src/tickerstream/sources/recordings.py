"""Where recorded ticks and pages come from: which inputs are JSON Lines of ticks, which are page
text, and how to open them. Shared by the backtest (``tickerstream.replay``) and the main job on Kafka.

JSON Lines of ticks are the ticks topic's own JSON (``*.jsonl``, ``*.ndjson``, optionally ``.gz``),
or any other plain file whose first line is a tick record (a feed saved as ``ticks.txt``: read as
a page it gave "0 ticks, 0 rejects", since JSON is not ticker text); anything else is page text,
read as ``ticker-parse`` reads it. Parquet recordings are ``*.parquet`` files, or files that start
with Parquet's magic bytes (a dataset part named by another tool).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

import orjson

from tickerstream.errors import InputError, SourceError
from tickerstream.sources.files import walk_files

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
PARQUET_SUFFIX = ".parquet"
_PARQUET_MAGIC = b"PAR1"


#: How much of a file is looked at to tell a tick recording from page text.
_SNIFF_BYTES = 4096


def is_jsonl(path: Path) -> bool:
    return path.name.endswith(JSONL_SUFFIXES) or _starts_with_a_tick(path)


def _starts_with_a_tick(path: Path) -> bool:
    """Is the first non-blank line a tick record (a JSON object with ``"v"`` and ``"symbol"``)?"""
    if path.name.endswith(".gz"):
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False  # the page reader reports it
    line = head.lstrip().split(b"\n", 1)[0].strip()
    if not line.startswith(b"{"):
        return False
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(obj, dict) and "v" in obj and "symbol" in obj


def is_parquet(path: Path) -> bool:
    """A ``*.parquet`` name, or a file that starts with Parquet's magic bytes."""
    if path.name.endswith(PARQUET_SUFFIX):
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC
    except OSError:
        return False  # the page reader reports it


def is_parquet_target(path: str) -> bool:
    """Is an output ``path`` meant as Parquet: a ``*.parquet`` name (one file) or a directory (a
    dataset; existing, or named with a trailing ``/``)? Anything else is written as JSON Lines."""
    return path.endswith(PARQUET_SUFFIX) or path.endswith(os.sep) or os.path.isdir(path)


class Recordings(NamedTuple):
    """Input files by kind, each list in walk order."""

    jsonl: list[Path]
    pages: list[Path]
    parquet: list[Path]


def expand_inputs(inputs: Sequence[str]) -> Recordings:
    """Split inputs into JSON Lines, page and Parquet files; directories are walked in sorted order."""
    found = Recordings([], [], [])
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"input not found: {raw}")
        try:
            # The same walk as ticker-parse and ticker-produce: sorted, hidden entries below the
            # input skipped (the input itself may be anything, '..' and '~/.cache/x' included).
            files = [path] if path.is_file() else [Path(f) for f in walk_files(raw)]
        except SourceError as exc:
            raise InputError(str(exc)) from None
        for f in files:
            kind = found.parquet if is_parquet(f) else found.jsonl if is_jsonl(f) else found.pages
            kind.append(f)
    return found


def open_binary(path: Path) -> BinaryIO:
    """A recording for reading: gzip-decompressed when the name ends in .gz."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")  # type: ignore[return-value]
