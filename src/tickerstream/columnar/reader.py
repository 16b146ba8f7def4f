"""Reading a Parquet recording as Arrow record batches of the tick columns, in file order.

Files written by others are read too (pandas, polars, DuckDB, Spark): ``ts`` may be
``timestamp`` of any unit or int64 milliseconds, strings may be large or views, and
``price_quantum`` (v1 ticks) and ``symbol_source`` (v1 and v2 ticks) may be missing. A missing
column or one of a type that does not convert is an ``InputError`` naming the file; values that
are present but invalid (a null symbol, a negative price) are left for the caller to refuse row by
row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tickerstream.columnar.schema import REQUIRED_COLUMNS, TICK_SCHEMA, TS_TYPE
from tickerstream.errors import InputError

#: Low-cardinality string columns read as dictionaries: one Python string per distinct value
#: instead of one per row when the engine's batch is built.
DICTIONARY_COLUMNS = ("symbol", "currency", "coin_id", "name", "source", "symbol_source")


def iter_tick_batches(path: Path, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """The file's rows as record batches with exactly ``TICK_SCHEMA``'s columns (strings may be
    dictionary-encoded; nulls kept)."""
    try:
        names = set(pq.read_schema(path).names)
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise InputError(f"{path}: not a tick recording, missing column(s) {', '.join(missing)}")
        pf = pq.ParquetFile(path, read_dictionary=[c for c in DICTIONARY_COLUMNS if c in names])
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    columns = [f.name for f in TICK_SCHEMA if f.name in names]
    batches = pf.iter_batches(batch_size=batch_rows, columns=columns, use_threads=False)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:  # a damaged page or row group: one line, not a traceback
            raise InputError(f"{path}: cannot read ({exc})") from None
        if batch is None:
            return
        yield _conform(batch, path)


def _conform(batch: pa.RecordBatch, path: Path) -> pa.RecordBatch:
    arrays = []
    for field in TICK_SCHEMA:
        index = batch.schema.get_field_index(field.name)
        if index < 0:  # a column the recording's version lacks (OPTIONAL_COLUMNS): null, as in JSON
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(index)
        try:
            arrays.append(_as(column, field.type, field.name))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(f"{path}: column {field.name} of type {column.type}: {exc}") from None
    return pa.RecordBatch.from_arrays(arrays, names=TICK_SCHEMA.names)


def _as(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if name == "ts":
        if pa.types.is_timestamp(column.type):
            # Another unit or zone is the same instant; a sub-millisecond part does not convert.
            return column.cast(pa.timestamp(column.type.unit)).cast(TS_TYPE)
        if pa.types.is_integer(column.type):
            return column.cast(pa.int64()).cast(TS_TYPE)
        raise pa.ArrowInvalid("ts must be a timestamp or integer milliseconds")
    if pa.types.is_string(target) and pa.types.is_dictionary(column.type):
        if pa.types.is_string(column.type.value_type):
            return column
        return column.cast(pa.dictionary(column.type.index_type, pa.string()))
    if column.type == target:
        return column
    return column.cast(target)  # safe: an overflow or a lossy conversion raises
