"""Decode tick JSON (Kafka message values, JSON Lines records) into the engine's columnar batch.

This is on the hot path of both ``ticker-process`` and ``ticker-replay``, so it works on a whole
batch at once: one typed ``msgspec`` decode of the values, joined as lines, checks every field's
type and bounds in C (about half the cost of ``orjson.loads`` alone, which would still leave the
checks to Python), then the columns are pulled out with one comprehension each. Only when something in the
batch is wrong does it fall back to checking records one by one (orjson + ``tick_from_dict``), so
that each bad record gets its own reason and the good ones around it still go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import orjson

from tickerstream.engine import TickBatch
from tickerstream.model import MAX_PRICE_USD, MIN_PRICE, InvalidTick, RejectReason, max_price, tick_from_dict

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


class _WireTick(msgspec.Struct, gc=False):
    """A tick as the fast path decodes it: types and value bounds checked in C by msgspec.

    Same acceptance as ``model.tick_from_dict`` (the per-record path): integers are accepted for
    float fields, booleans never for numbers, unknown extra fields are ignored. ``gc=False``: these
    hold only strings and numbers, so they need no cycle tracking, and tens of thousands of them
    per batch would otherwise trigger collections over and over.
    """

    v: Literal[1, 2, 3]
    symbol: Annotated[str, msgspec.Meta(min_length=1)]
    name: str
    coin_id: str | None
    price: Annotated[float, msgspec.Meta(gt=0)]
    currency: str
    change_pct: float | None
    change_sign_known: bool
    ts: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
    source: str
    price_quantum: Annotated[float, msgspec.Meta(gt=0)] | None = None  # v2
    symbol_source: Literal["page", "registry"] = "page"  # v3; checked only, as tick_from_dict does


_NAN = float("nan")
#: What a decode of untrusted bytes may raise: msgspec raises ``UnicodeDecodeError`` (not a
#: ``DecodeError``) for a string that is not UTF-8, e.g. ``"name":"Bit\xffcoin"``.
_UNDECODABLE = (msgspec.DecodeError, UnicodeDecodeError)
_DECODE_LINES = msgspec.json.Decoder(_WireTick)

Columns = tuple[
    list[str],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    list[str],
    list[str | None],
    npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
]


def decode_tick_values(values: Sequence[bytes], max_bytes: int = MAX_TICK_BYTES) -> DecodedTicks:
    """Decode and validate a batch of JSON tick values; never raises on bad input. (Ticks from the
    future are the processor's to refuse: it knows the records' append times, ``processor/future.py``.)
    """
    n = len(values)
    decoded: DecodedTicks | None = None
    if n and max(map(len, values)) <= max_bytes:
        # Joined as JSON Lines, not as one JSON array: one copy of the values instead of three
        # (``b"[" + ... + b"]"`` copies the joined bytes twice more), and msgspec's line decoder
        # takes about 40 % less time than the array decode of the same values (#12, see
        # docs/benchmarks.md "Peers"). A value with a newline of its own just misses the fast path.
        joined = b"\n".join(values)
        columns = _fast_columns(joined, n) if _is_utf8(joined) else None
        if columns is not None:
            decoded = DecodedTicks(TickBatch(*columns), np.arange(n, dtype=np.int64))
    if decoded is None:
        decoded = _decode_one_by_one(values, max_bytes)
    return refuse_implausible(decoded)


def refuse_implausible(decoded: DecodedTicks) -> DecodedTicks:
    """Refuse prices the parser would refuse (``price_out_of_range``), with the parser's bounds.

    One vectorised test on the price column; only rows above the US-dollar cap (rare: none in a
    healthy stream) are looked at one by one with their quote currency, whose cap may be higher (a
    price of 5e9 KRW is plausible, 5e9 USD is not).
    """
    batch = decoded.batch
    price = batch.price
    suspects = np.flatnonzero((price < MIN_PRICE) | (price > MAX_PRICE_USD))
    if not len(suspects):
        return decoded
    refused: dict[int, tuple[RejectReason, str]] = {}
    for i in suspects.tolist():
        value = float(price[i])
        currency = batch.currency[i] if batch.currency is not None else "USD"
        if value < MIN_PRICE or value > max_price(currency):
            refused[i] = (RejectReason.PRICE_OUT_OF_RANGE, f"price {value!r} {currency} is implausible")
    return drop_rows(decoded, refused) if refused else decoded


def drop_rows(decoded: DecodedTicks, refused: dict[int, tuple[RejectReason, str]]) -> DecodedTicks:
    """``decoded`` without the batch rows in ``refused`` (row -> reason, detail), which become bad
    records (here: implausible prices; the producer and the processor: ticks from the future)."""
    batch = decoded.batch
    mask = np.ones(len(batch), dtype=bool)
    mask[list(refused)] = False
    keep = np.flatnonzero(mask)
    rows = decoded.rows
    bad = decoded.bad + [BadRecord(int(rows[i]), reason, detail) for i, (reason, detail) in refused.items()]
    bad.sort(key=lambda b: b.index)
    kept = batch.take(keep)
    return DecodedTicks(kept, decoded.rows[keep], bad)


def decode_tick_lines(chunk: bytes, max_bytes: int = MAX_TICK_BYTES) -> tuple[DecodedTicks, list[bytes]]:
    """Decode a chunk of JSON Lines (whole lines): the ticks, and the lines ``bad`` refers to.

    The common case (every line a valid tick) is one typed ``decode_lines`` over the whole chunk,
    with no copy of it, and returns no lines; a blank, broken or invalid line (or two objects on
    one line: the record count must equal the line count) sends the chunk to the per-line path,
    which gives each bad line its own reason (``rows`` and ``bad`` index the lines).
    """
    body = chunk.rstrip()
    if body and _is_utf8(body):
        try:
            ticks = _DECODE_LINES.decode_lines(body)
        except _UNDECODABLE:
            ticks = None
        if ticks is not None and len(ticks) == body.count(b"\n") + 1:
            decoded = DecodedTicks(TickBatch(*_columns(ticks)), np.arange(len(ticks), dtype=np.int64))
            checked = refuse_implausible(decoded)
            return checked, ([line.strip() for line in body.split(b"\n")] if checked.bad else [])
    lines = [line for line in (raw.strip() for raw in chunk.split(b"\n")) if line]
    return refuse_implausible(_decode_one_by_one(lines, max_bytes)), lines


def _fast_columns(joined: bytes, n: int) -> Columns | None:
    """Columns of ``n`` values joined by newlines, all valid ticks, or None if anything at all is off."""
    try:
        ticks = _DECODE_LINES.decode_lines(joined)
    except _UNDECODABLE:  # malformed JSON, an invalid tick (ValidationError) or bytes that are not UTF-8
        return None
    # A value holding two objects ("{..}\n{..}") would shift the rest, and a blank one is skipped
    # by the line decoder: require a 1:1 count.
    return _columns(ticks) if len(ticks) == n else None


def _columns(ticks: list[_WireTick]) -> Columns:
    n = len(ticks)
    # No finiteness checks needed: JSON has no NaN/Infinity and msgspec refuses numbers that
    # overflow a float ("Number out of range"), so every decoded price and change is finite.
    return (
        [t.symbol for t in ticks],
        np.fromiter((t.ts for t in ticks), dtype=np.int64, count=n),
        np.fromiter((t.price for t in ticks), dtype=np.float64, count=n),
        # The price quantum (v2; NaN when unknown: the engine then estimates it per series).
        np.fromiter((t.price_quantum or _NAN for t in ticks), dtype=np.float64, count=n),
        [t.currency for t in ticks],  # the series is (coin id or symbol, quote): never mixed
        [t.coin_id for t in ticks],
        # The page's own 24 h change (NaN: none) and whether its sign is known: checked against
        # the engine's own history (engine/quality.py).
        np.fromiter(
            (_NAN if t.change_pct is None else t.change_pct for t in ticks), dtype=np.float64, count=n
        ),
        np.fromiter((t.change_sign_known for t in ticks), dtype=bool, count=n),
    )


def _is_utf8(data: bytes) -> bool:
    """Is all of ``data`` UTF-8? msgspec checks the strings it keeps, but not the keys it skips: a
    record with ``"price_qu\x80ntum"`` would pass the fast path although it is not JSON text. ASCII
    (almost every tick stream) is checked word by word in C; only other input is decoded."""
    return data.isascii() or _utf8_error(data) is None


def _utf8_error(value: bytes) -> str | None:
    """Why ``value`` is not UTF-8 (the parser's ``invalid_utf8`` reason), or None if it is."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{exc.reason} at byte {exc.start}"
    return None


def _decode_one_by_one(values: Sequence[bytes], max_bytes: int) -> DecodedTicks:
    good: list[dict[str, Any]] = []
    rows: list[int] = []
    bad: list[BadRecord] = []
    for i, value in enumerate(values):
        if len(value) > max_bytes:
            bad.append(BadRecord(i, RejectReason.MESSAGE_TOO_LARGE, f"{len(value)} bytes > {max_bytes}"))
            continue
        utf8_error = _utf8_error(value)
        if utf8_error is not None:
            bad.append(BadRecord(i, RejectReason.INVALID_UTF8, utf8_error))
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
    batch = TickBatch(
        [d["symbol"] for d in good],
        np.array([d["ts"] for d in good], dtype=np.int64),
        np.array([d["price"] for d in good], dtype=np.float64),
        np.array([d.get("price_quantum") or _NAN for d in good], dtype=np.float64),
        [d["currency"] for d in good],
        [d.get("coin_id") for d in good],
        np.array([_NAN if d.get("change_pct") is None else d["change_pct"] for d in good], dtype=np.float64),
        np.array([d["change_sign_known"] for d in good], dtype=bool),
    )
    return DecodedTicks(batch, np.asarray(rows, dtype=np.int64), bad)
