"""Writing ticks as Parquet: one file, or a directory partitioned by day with rotating files.

A Parquet file is readable only once its footer is written, at close. So a file is written under a
hidden name (``.part-0003.parquet.inprogress``) and renamed when complete: pandas, polars, DuckDB
and our own readers (which skip hidden names) never see a half-written file, and after a crash
(SIGKILL) the only loss is that hidden file, never a corrupt visible one.

A dataset directory is laid out as ``DIR/date=YYYY-MM-DD/part-NNNN.parquet`` (hive partitioning:
pandas, polars and DuckDB turn ``date`` into a column when asked). The date is the tick's event
time (``ts``) in UTC, so a backtest of one day reads one folder. A file is closed and a new one
started after ``rows_per_file`` rows, after ``max_file_age_s`` seconds open (checked whenever ticks
are written or the sink is flushed: a long-running ``ticker-produce --follow`` makes its ticks
readable about that often while ticks keep coming), and at close. Parts are
numbered on from the highest number already in the folder: a second run adds files, never
overwrites, as the JSON Lines archive appends.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tickerstream.columnar.schema import TICK_SCHEMA, table_from_json_values

#: Rows per row group: large enough for fast columnar reads (~2 MB of ticks), small enough to
#: keep the writer's buffer flat.
ROW_GROUP_ROWS = 128 * 1024
#: zstd: about half the size of snappy (Arrow's default) on ticks; every reader we target decodes it.
COMPRESSION = "zstd"
_DAY_MS = 86_400_000
_PART = re.compile(r"^\.?part-(\d+)\.parquet(\.inprogress)?$")


class ParquetFile:
    """One Parquet file of ticks, written under a hidden name and renamed into place on close.

    ``write_values`` takes tick records as JSON (what the producer archives and a topic holds),
    ``write_table`` a table of ``TICK_SCHEMA``. ``overwrite=False`` refuses an existing file
    (``FileExistsError``): a Parquet file cannot be appended to.
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = Path(path)
        if not overwrite and self.path.exists():
            raise FileExistsError(f"{self.path} exists (a Parquet file cannot be appended to)")
        self._temp = self.path.with_name(f".{self.path.name}.inprogress")
        self._writer = pq.ParquetWriter(self._temp, TICK_SCHEMA, compression=COMPRESSION)
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        #: Rows handed to this file so far (buffered or written).
        self.rows = 0

    def write_values(self, values: list[bytes]) -> None:
        self.write_table(table_from_json_values(values))

    def write_table(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._buffer.append(table)
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= ROW_GROUP_ROWS:
            self._write_buffer()

    def flush(self) -> None:
        """Nothing to do: rows become readable only when the file is closed (its footer)."""

    def close(self) -> None:
        self._write_buffer()
        self._writer.close()
        os.replace(self._temp, self.path)

    def _write_buffer(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=ROW_GROUP_ROWS)
            self._buffer, self._buffered = [], 0


class ParquetDataset:
    """Ticks into ``root/date=YYYY-MM-DD/part-NNNN.parquet``, rotating files (see the module doc)."""

    #: Days with an open file at once; ticks arrive in about event-time order, so two suffice for
    #: midnight, and a straggler of an older day opens (then closes) a part of its own.
    MAX_OPEN_DAYS = 2

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        rows_per_file: int = 1_000_000,
        max_file_age_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rows_per_file < 1 or not max_file_age_s > 0:
            raise ValueError("rows_per_file must be >= 1 and max_file_age_s > 0")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.rows_per_file = rows_per_file
        self.max_file_age_s = max_file_age_s
        self._clock = clock
        #: Open file per day (days since the epoch), least recently written first.
        self._open: dict[int, tuple[ParquetFile, float]] = {}
        #: Files completed so far (renamed into place), in order.
        self.files: list[Path] = []

    def write_values(self, values: list[bytes]) -> None:
        self.write_table(table_from_json_values(values))

    def write_table(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._rotate_old()
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        days = ts // _DAY_MS
        first, last = int(days[0]), int(days[-1])
        if first == last and bool((days == first).all()):
            self._append(first, table)
            return
        # Several days in one call: each day's rows, in their order, to that day's file.
        _, first_rows = np.unique(days, return_index=True)
        for day in days[np.sort(first_rows)].tolist():
            self._append(day, table.filter(pc.equal(pa.array(days), day)))

    def flush(self) -> None:
        """Rows become readable when their file closes; an old file is closed here too."""
        self._rotate_old()

    def close(self) -> None:
        for day in list(self._open):
            self._finish(day)

    def _append(self, day: int, table: pa.Table) -> None:
        entry = self._open.pop(day, None)
        if entry is None:
            while len(self._open) >= self.MAX_OPEN_DAYS:
                self._finish(next(iter(self._open)))
            entry = (self._new_file(day), self._clock())
        self._open[day] = entry  # most recently written last
        file = entry[0]
        room = self.rows_per_file - file.rows
        file.write_table(table.slice(0, room))
        if table.num_rows >= room:
            self._finish(day)
            if table.num_rows > room:
                self._append(day, table.slice(room))

    def _rotate_old(self) -> None:
        now = self._clock()
        for day, (_, opened) in list(self._open.items()):
            if now - opened >= self.max_file_age_s:
                self._finish(day)

    def _finish(self, day: int) -> None:
        file, _ = self._open.pop(day)
        file.close()
        self.files.append(file.path)

    def _new_file(self, day: int) -> ParquetFile:
        folder = self.root / f"date={np.datetime64(day, 'D')}"
        folder.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for m in map(_PART.match, os.listdir(folder)) if m]
        return ParquetFile(folder / f"part-{max(taken, default=-1) + 1:04d}.parquet")


def open_parquet_sink(path: str, *, overwrite: bool = False) -> ParquetFile | ParquetDataset:
    """``*.parquet``: one file (``overwrite`` or refuse an existing one); else a dataset directory."""
    if path.endswith(".parquet"):
        return ParquetFile(path, overwrite=overwrite)
    return ParquetDataset(path)
