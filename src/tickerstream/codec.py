"""Decode tick JSON (Kafka message values, JSON Lines records) into the engine's columnar batch.

This is on the hot path of both ``ticker-process`` and ``ticker-replay``, so it works on a whole
batch at once: one ``orjson.loads`` over the joined values, one list comprehension per column,
type checks with ``set(map(type, column))`` (a C loop), and range checks in numpy. Only when
something in the batch is wrong does it fall back to checking records one by one, so that each
bad record gets its own reason and the good ones around it still go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson

from tickerstream.engine import TickBatch
from tickerstream.model import SCHEMA_VERSION, InvalidTick, RejectReason, tick_from_dict

#: Largest accepted tick record. A tick is ~250 bytes; anything near this is not a tick.
MAX_TICK_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that is not a valid tick: its position in the input, why, and details."""

    index: int
    reason: RejectReason
    detail: str


@dataclass(slots=True)
class DecodedTicks:
    batch: TickBatch
    #: Position in the input of each row of ``batch`` (rows are the good records, in input order).
    rows: np.ndarray
    bad: list[BadRecord] = field(default_factory=list)


_STR = {str}
_NUM = {int, float}


def decode_tick_values(values: Sequence[bytes], max_bytes: int = MAX_TICK_BYTES) -> DecodedTicks:
    """Decode and validate a batch of JSON tick values; never raises on bad input."""
    n = len(values)
    objs: list[object] | None = None
    if n and max(map(len, values)) <= max_bytes:
        try:
            joined = orjson.loads(b"[" + b",".join(values) + b"]")
        except orjson.JSONDecodeError:
            joined = None
        # A value holding two objects ("{..},{..}") would shift the rest: require a 1:1 count.
        if isinstance(joined, list) and len(joined) == n:
            objs = joined
    if objs is not None and _columns_valid(objs):
        return _to_batch(objs, np.arange(n, dtype=np.int64), [])
    return _decode_one_by_one(values, max_bytes)


def _columns_valid(objs: list[object]) -> bool:
    """Whole-batch check; False means 'some record is off', and the slow path says which."""
    if set(map(type, objs)) != {dict}:
        return False
    dicts: list[dict[str, object]] = objs  # type: ignore[assignment]
    try:
        versions = [d["v"] for d in dicts]
        if set(map(type, versions)) != {int} or set(versions) != {SCHEMA_VERSION}:
            return False
        if not set(map(type, [d["symbol"] for d in dicts])) <= _STR:
            return False
        if not set(map(type, [d["price"] for d in dicts])) <= _NUM:
            return False
        if not set(map(type, [d["ts"] for d in dicts])) <= {int}:
            return False
        for key in ("name", "currency", "source"):
            if not set(map(type, [d[key] for d in dicts])) <= _STR:
                return False
        if not set(map(type, [d["change_sign_known"] for d in dicts])) <= {bool}:
            return False
        if not set(map(type, [d["change_pct"] for d in dicts])) <= {int, float, type(None)}:
            return False
        if not set(map(type, [d["coin_id"] for d in dicts])) <= {str, type(None)}:
            return False
        price = np.fromiter((d["price"] for d in dicts), dtype=np.float64, count=len(dicts))
        ts = np.fromiter((d["ts"] for d in dicts), dtype=np.int64, count=len(dicts))
    except (KeyError, OverflowError):
        return False
    if not (np.isfinite(price).all() and (price > 0).all() and (ts >= 0).all()):
        return False
    changes = [d["change_pct"] for d in dicts]
    finite = np.fromiter((c for c in changes if c is not None), dtype=np.float64)
    return bool(np.isfinite(finite).all()) and all(d["symbol"] for d in dicts)


def _to_batch(objs: list[object], rows: np.ndarray, bad: list[BadRecord]) -> DecodedTicks:
    dicts: list[dict[str, object]] = objs  # type: ignore[assignment]
    batch = TickBatch(
        symbols=[d["symbol"] for d in dicts],  # type: ignore[misc]
        ts=np.fromiter((d["ts"] for d in dicts), dtype=np.int64, count=len(dicts)),
        price=np.fromiter((d["price"] for d in dicts), dtype=np.float64, count=len(dicts)),
    )
    return DecodedTicks(batch=batch, rows=rows, bad=bad)


def _decode_one_by_one(values: Sequence[bytes], max_bytes: int) -> DecodedTicks:
    good: list[object] = []
    rows: list[int] = []
    bad: list[BadRecord] = []
    for i, value in enumerate(values):
        if len(value) > max_bytes:
            bad.append(BadRecord(i, RejectReason.MESSAGE_TOO_LARGE, f"{len(value)} bytes > {max_bytes}"))
            continue
        try:
            obj = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            bad.append(BadRecord(i, RejectReason.NOT_JSON, str(exc)))
            continue
        try:
            tick_from_dict(obj)
        except InvalidTick as exc:
            reason = RejectReason.NOT_JSON if not isinstance(obj, dict) else RejectReason.INVALID_TICK
            bad.append(BadRecord(i, reason, str(exc)))
            continue
        good.append(obj)
        rows.append(i)
    return _to_batch(good, np.asarray(rows, dtype=np.int64), bad)
