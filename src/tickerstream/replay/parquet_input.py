"""Parquet recordings -> the engine's ``TickBatch``, straight from Arrow columns.

No ``Tick`` and no dict per row: numbers go to numpy arrays (zero-copy where Arrow allows), and the
string columns are read dictionary-encoded, so the batch's lists of symbols, currencies and coin
ids are one numpy gather over the few distinct values instead of a new Python string per row.

Validation is the JSON decoder's (``kafka/codec.py``), done on whole columns: a row the decoder
would refuse is refused here with the same reason (``invalid_tick``: a null where the schema has
none, an unknown ``v``, a price or quantum that is not a finite number > 0, a negative ``ts``,
a change that is not finite; then ``price_out_of_range`` for implausible prices, by the same
function). Each refused row becomes a reject holding the row as JSON; nothing is dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tickerstream.columnar.reader import iter_tick_batches
from tickerstream.engine import TickBatch
from tickerstream.kafka.codec import DecodedTicks, refuse_implausible
from tickerstream.model import TICK_SCHEMA_VERSIONS, Reject, RejectReason
from tickerstream.replay.stats import ReadStats

Mask = npt.NDArray[np.bool_]
#: Columns that must not be null (the JSON schema's required, non-nullable fields).
_NOT_NULL = ("v", "symbol", "name", "price", "currency", "change_sign_known", "ts", "source")


def parquet_batches(path: Path, stats: ReadStats) -> Iterator[TickBatch]:
    """Stream a Parquet file as batches sorted by ts (stable within a batch), rejects to ``stats``."""
    source = str(path)
    size = os.path.getsize(path)
    row = 0
    rows_total: int | None = None
    for batch in iter_tick_batches(path):
        if rows_total is None:
            rows_total = _row_count(path)
        ticks, rejects = batch_to_ticks(batch, source, first_row=row)
        row += batch.num_rows
        stats.records += batch.num_rows
        # Progress in bytes, as for the other inputs: the share of rows read times the file's size.
        stats.positions[source] = size * row // max(rows_total, 1)
        for reject in rejects:
            stats.reject(reject)
        if len(ticks):
            yield ticks.in_ts_order()


def _row_count(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def batch_to_ticks(batch: pa.RecordBatch, source: str, first_row: int = 0) -> tuple[TickBatch, list[Reject]]:
    """The valid rows of ``batch`` (columns of ``TICK_SCHEMA``) as a ``TickBatch``, the others as rejects."""
    col = batch.column
    price = _floats(col("price"))
    quantum = _floats(col("price_quantum"))
    ts_arr = col("ts").cast(pa.int64())  # zero-copy: a timestamp[ms] is int64 milliseconds
    # A null ts (refused below) must not turn the column into floats: 0 in its place.
    ts = (pc.fill_null(ts_arr, 0) if ts_arr.null_count else ts_arr).to_numpy()
    invalid = _invalid_rows(batch, price, quantum, ts)
    # The page's own 24 h change, checked against the history like the JSON decoder's (NaN: none).
    change = _floats(col("change_pct"))
    signed_col = col("change_sign_known")
    signed = np.asarray(
        (pc.fill_null(signed_col, False) if signed_col.null_count else signed_col).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    keep = None
    if invalid:
        mask = np.ones(batch.num_rows, dtype=bool)
        mask[list(invalid)] = False
        keep = np.flatnonzero(mask)
    ticks = TickBatch.from_arrays(
        _strings(col("symbol"), keep),
        ts if keep is None else ts[keep],
        price if keep is None else price[keep],
        quantum=quantum if keep is None else quantum[keep],
        currency=_strings(col("currency"), keep),
        coin_ids=_strings(col("coin_id"), keep),
        change=change if keep is None else change[keep],
        change_signed=signed if keep is None else signed[keep],
    )
    rows = np.arange(batch.num_rows, dtype=np.int64) if keep is None else keep.astype(np.int64)
    # The decoder's own price check, currency by currency; its refusals name batch rows.
    checked = refuse_implausible(DecodedTicks(ticks, rows))
    refused = {b.index: (b.reason, b.detail) for b in checked.bad}
    refused.update(invalid)
    return checked.batch, _rejects(batch, ts, refused, source, first_row)


def _invalid_rows(
    batch: pa.RecordBatch, price: npt.NDArray[np.float64], quantum: npt.NDArray[np.float64], ts: Any
) -> dict[int, tuple[RejectReason, str]]:
    """Rows the JSON decoder would refuse as ``invalid_tick``, with the first problem of each."""
    col = batch.column
    checks: list[tuple[Mask, str]] = []
    for name in _NOT_NULL:
        if col(name).null_count:
            checks.append((col(name).is_null().to_numpy(zero_copy_only=False), f"field {name!r} is null"))
    version = pc.fill_null(col("v"), 0).to_numpy()
    checks.append((~np.isin(version, TICK_SCHEMA_VERSIONS), "unsupported schema version"))
    checks.append((_empty_strings(col("symbol")), "field 'symbol' is empty"))
    with np.errstate(invalid="ignore"):
        checks.append((~(np.isfinite(price) & (price > 0)), "price must be a finite number > 0"))
        checks.append((~np.isnan(quantum) & ~(np.isfinite(quantum) & (quantum > 0)), "bad price_quantum"))
        change = _floats(col("change_pct"))
        checks.append((~np.isnan(change) & ~np.isfinite(change), "change_pct must be finite or null"))
    checks.append((ts < 0, "ts must be >= 0"))
    invalid: dict[int, tuple[RejectReason, str]] = {}
    for mask, detail in checks:
        for i in np.flatnonzero(mask).tolist():
            invalid.setdefault(i, (RejectReason.INVALID_TICK, detail))
    return invalid


def _floats(column: pa.Array) -> npt.NDArray[np.float64]:
    """A float column as float64 with null -> NaN (zero-copy when it has no nulls)."""
    if column.null_count:
        column = pc.fill_null(column, np.nan)
    return np.asarray(column.to_numpy(), dtype=np.float64)


def _empty_strings(column: pa.Array) -> Mask:
    """Rows whose string is empty (a null is not: it is refused as a null)."""
    if pa.types.is_dictionary(column.type):
        empty = pc.equal(pc.binary_length(column.dictionary), 0).to_numpy(zero_copy_only=False)
        return np.append(empty, False)[_indices(column)]
    empty = pc.fill_null(pc.equal(pc.binary_length(column), 0), False)
    return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)


def _indices(column: pa.DictionaryArray) -> npt.NDArray[np.intp]:
    """Dictionary indices, a null as ``len(dictionary)`` (one past the last value)."""
    idx = column.indices
    if column.null_count:
        idx = pc.fill_null(idx, len(column.dictionary))
    return np.asarray(idx.to_numpy(), dtype=np.intp)


def _strings(column: pa.Array, keep: npt.NDArray[np.intp] | None) -> list[Any]:
    """The column as a list of Python strings (None for null), rows ``keep`` only if given."""
    if pa.types.is_dictionary(column.type):
        values = np.array([*column.dictionary.to_pylist(), None], dtype=object)
        idx = _indices(column)
        strings: list[Any] = values[idx if keep is None else idx[keep]].tolist()
        return strings
    if keep is not None:
        column = column.take(pa.array(keep))
    plain: list[Any] = column.to_pylist()
    return plain


def _rejects(
    batch: pa.RecordBatch,
    ts: Any,
    refused: dict[int, tuple[RejectReason, str]],
    source: str,
    first_row: int,
) -> list[Reject]:
    if not refused:
        return []
    order = sorted(refused)
    rows = batch.take(pa.array(order)).to_pylist()
    out = []
    for i, row in zip(order, rows, strict=True):
        reason, detail = refused[i]
        if row["ts"] is not None:
            row["ts"] = int(ts[i])  # the JSON tick's integer ms, not a datetime
        raw = orjson.dumps(row, default=_jsonable, option=orjson.OPT_NON_STR_KEYS).decode()
        out.append(Reject(raw, reason, source, f"row {first_row + i}: {detail}"))
    return out


def _jsonable(value: Any) -> Any:
    return str(value)
