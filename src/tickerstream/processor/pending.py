"""Fetched tick records waiting to be processed: per partition, then merged by event time in one cut.

Why a buffer at all, instead of handing each ``getmany`` result to the engine as it comes:

* **Event-time merge.** A replay sees one stream in event-time order; a processor sees several
  partitions, each in its own order, fetched in arbitrary slices. Feeding partition after partition
  would let the ticks of one partition advance the engine's watermark past ticks of another that are
  still to come (a held WBTC tick would then be judged before BTC's tick of the same snapshot, in
  another partition, arrived). So every cut is merged across partitions by event time, keeping each
  partition's own order (the merge key is the running maximum of ts within the partition, which never
  decreases, so a stable sort on it interleaves partitions without reordering any of them).
* **Whole steps.** The processor cuts everything pending each step (pegged ticks that must wait for a
  reference wait inside the engine: :mod:`tickerstream.processor.gate`), so a step is as big as the
  fetch.

Bad records travel with their partition's ticks and leave in the same cut as the good records around
them, so a dead letter is committed together with the offsets that pass it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.engine import TickBatch
from tickerstream.model import RejectReason
from tickerstream.processor.future import arrival_times, refuse_future

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BadTick:
    """A record of the ticks topic that is not a valid tick, with what the dead letter needs."""

    partition: int
    offset: int
    reason: RejectReason
    detail: str
    raw: bytes


@dataclass(slots=True)
class Segment:
    """Consecutive fetched records of one partition: the good ones as columns, the bad ones aside.

    ``end`` is one past the last record's offset: the position once all of them are processed.
    ``appended`` is the Kafka timestamp (ms) of the segment's last record: on our LogAppendTime topics
    when the broker appended it; the start of the end-to-end latency metric (-1: unknown). One number per
    fetch, not a column: the metric needs "when did the newest tick of this step reach Kafka", and a
    per-record column would cost a Python loop over every record.
    """

    offsets: I64  # offset of each good row
    symbols: list[str]
    ts: I64
    price: F64
    bad: list[BadTick]
    end: int
    appended: int = -1
    #: Price quantum of each good row (NaN: unknown); None: all unknown.
    quantum: F64 | None = None
    #: Quote currency of each good row; None: not carried.
    currency: list[str] | None = None
    #: Coin id of each good row (None where a tick has none); None: no tick has one.
    coin_ids: list[str | None] | None = None
    #: The source's 24 h change of each good row (NaN: none) and whether its sign is known.
    change: F64 | None = None
    change_signed: npt.NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.symbols)

    def quanta(self) -> F64:
        return np.full(len(self.symbols), np.nan) if self.quantum is None else self.quantum

    def quotes(self) -> list[str]:
        return ["USD"] * len(self.symbols) if self.currency is None else self.currency

    def coins(self) -> list[str | None]:
        return [None] * len(self.symbols) if self.coin_ids is None else self.coin_ids

    def changes(self) -> tuple[F64, npt.NDArray[np.bool_]]:
        if self.change is None or self.change_signed is None:
            return np.full(len(self.symbols), np.nan), np.zeros(len(self.symbols), dtype=bool)
        return self.change, self.change_signed

    @classmethod
    def concat(cls, a: Segment, b: Segment) -> Segment:
        return cls(
            np.concatenate([a.offsets, b.offsets]),
            a.symbols + b.symbols,
            np.concatenate([a.ts, b.ts]),
            np.concatenate([a.price, b.price]),
            a.bad + b.bad,
            b.end,
            max(a.appended, b.appended),
            np.concatenate([a.quanta(), b.quanta()]),
            a.quotes() + b.quotes(),
            a.coins() + b.coins(),
            *(np.concatenate(pair) for pair in zip(a.changes(), b.changes(), strict=True)),
        )

    @classmethod
    def join(cls, segments: list[Segment]) -> Segment:
        """Consecutive segments of one partition as one (a single copy of each column)."""
        return cls(
            np.concatenate([s.offsets for s in segments]),
            [sym for s in segments for sym in s.symbols],
            np.concatenate([s.ts for s in segments]),
            np.concatenate([s.price for s in segments]),
            [b for s in segments for b in s.bad],
            segments[-1].end,
            max(s.appended for s in segments),
            np.concatenate([s.quanta() for s in segments]),
            [c for s in segments for c in s.quotes()],
            [c for s in segments for c in s.coins()],
            *(np.concatenate(cols) for cols in zip(*(s.changes() for s in segments), strict=True)),
        )


@dataclass(slots=True)
class Cut:
    """What one processing step takes: merged ticks, where each partition's position moves, dead letters."""

    batch: TickBatch
    #: Partition of each row of ``batch``.
    partition_of_row: I64
    #: Partition -> next offset to process once this cut is done.
    positions: dict[int, int] = field(default_factory=dict)
    bad: list[BadTick] = field(default_factory=list)
    #: Partition -> its rows' symbols (before the merge), for bookkeeping of who owns which symbol.
    symbols_by_partition: dict[int, list[str]] = field(default_factory=dict)
    #: Kafka timestamp (ms) of the newest record taken (``Segment.appended``); -1 unknown.
    appended: int = -1

    def __len__(self) -> int:
        return len(self.batch)


class PendingTicks:
    """Per-partition queues of fetched, not yet processed records.

    A partition's queue is a list of segments, one per fetch: appending never copies what is already
    queued (a paused partition may queue tens of thousands of rows); a cut joins each partition's
    segments once and merges the partitions by event time.
    """

    def __init__(self) -> None:
        self._queues: dict[int, list[Segment]] = {}

    def add(self, partition: int, segment: Segment) -> None:
        self._queues.setdefault(partition, []).append(segment)

    def discard(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._queues.pop(p, None)

    def clear(self) -> None:
        self._queues.clear()

    def rows(self, partition: int) -> int:
        return sum(len(seg) for seg in self._queues.get(partition, ()))

    @property
    def total_rows(self) -> int:
        return sum(self.rows(p) for p in self._queues)

    def __bool__(self) -> bool:
        return bool(self._queues)

    def partitions(self) -> list[int]:
        return sorted(self._queues)

    def first_ts(self, partition: int) -> int | None:
        """Smallest ts among the partition's pending good rows (None if it has none)."""
        mins = [int(seg.ts.min()) for seg in self._queues.get(partition, ()) if len(seg)]
        return min(mins) if mins else None

    def cut(self) -> Cut | None:
        """Take every pending record, merged by event time (None: nothing pending). Nothing waits
        here: pegged ticks that need a reference wait inside the engine (``processor/gate.py``)."""
        if not self._queues:
            return None
        heads = [(p, q[0] if len(q) == 1 else Segment.join(q)) for p, q in sorted(self._queues.items())]
        self._queues.clear()
        return _merge(heads)


def _merge(heads: list[tuple[int, Segment]]) -> Cut:
    cut = _merge_rows(heads)
    cut.appended = max(seg.appended for _, seg in heads)
    return cut


def _merge_rows(heads: list[tuple[int, Segment]]) -> Cut:
    positions = {p: seg.end for p, seg in heads}
    bad = [b for _, seg in heads for b in seg.bad]
    by_partition = {p: seg.symbols for p, seg in heads if len(seg)}
    rows = [(p, seg) for p, seg in heads if len(seg)]
    if not rows:
        return Cut(TickBatch.empty(), np.empty(0, np.int64), positions, bad, by_partition)
    if len(rows) == 1:
        p, seg = rows[0]
        batch = TickBatch(
            seg.symbols, seg.ts, seg.price, seg.quanta(), seg.quotes(), seg.coins(), *seg.changes()
        )
        return Cut(batch, np.full(len(seg), p, dtype=np.int64), positions, bad, by_partition)
    ts = np.concatenate([seg.ts for _, seg in rows])
    price = np.concatenate([seg.price for _, seg in rows])
    quantum = np.concatenate([seg.quanta() for _, seg in rows])
    quotes = [c for _, seg in rows for c in seg.quotes()]
    coins = [c for _, seg in rows for c in seg.coins()]
    change, signed = (np.concatenate(cols) for cols in zip(*(seg.changes() for _, seg in rows), strict=True))
    key = np.concatenate([np.maximum.accumulate(seg.ts) for _, seg in rows])
    part = np.concatenate([np.full(len(seg), p, dtype=np.int64) for p, seg in rows])
    symbols = [s for _, seg in rows for s in seg.symbols]
    order = np.argsort(key, kind="stable")
    if len(order) > 1:  # one C-level gather per list, not a Python step per row
        take = operator.itemgetter(*order.tolist())
        symbols, quotes, coins = list(take(symbols)), list(take(quotes)), list(take(coins))
    batch = TickBatch(
        symbols,
        ts[order],
        price[order],
        quantum[order],
        quotes,
        coins,
        change[order],
        signed[order],
    )
    return Cut(batch, part[order], positions, bad, by_partition)


_VALUE = operator.attrgetter("value")
_OFFSET = operator.attrgetter("offset")


def decode_fetch(
    fetched: dict[int, list[Any]], *, now_ms: int | None = None, max_future_ms: int = 0
) -> dict[int, Segment]:
    """Decode one fetch (partition -> consumer records with ``offset`` and ``value``) into segments: one
    batch decode for all partitions, then split by partition (a partition's good rows are contiguous).
    With ``now_ms`` (the wall clock) and ``max_future_ms`` > 0, ticks stamped more than that ahead of
    the time the broker appended them (LogAppendTime topics, ours) or else of the clock are dead letters
    (``invalid_tick``, see ``processor/future.py``)."""
    from tickerstream.kafka.codec import decode_tick_values

    parts = [p for p, recs in fetched.items() if recs]
    values: list[bytes] = []
    offsets: list[I64] = []
    bounds = [0]
    for p in parts:
        recs = fetched[p]
        values.extend(map(_VALUE, recs))  # C-level attribute reads: a fetch holds 10^4-10^5 records
        offsets.append(np.fromiter(map(_OFFSET, recs), dtype=np.int64, count=len(recs)))
        bounds.append(len(values))
    if None in values:  # tombstones: empty values, rejected as not JSON
        values = [b"" if v is None else v for v in values]
    decoded = decode_tick_values(values)
    if now_ms is not None and max_future_ms > 0:
        reference, appended = arrival_times([fetched[p] for p in parts], now_ms)
        decoded = refuse_future(decoded, reference, appended, max_future_ms)
    all_offsets = np.concatenate(offsets) if offsets else np.empty(0, np.int64)
    rows = decoded.rows
    cuts = np.searchsorted(rows, bounds)
    bad_by_part: dict[int, list[BadTick]] = {p: [] for p in parts}
    part_of_input = np.repeat(np.arange(len(parts)), np.diff(bounds))
    for b in decoded.bad:
        p = parts[int(part_of_input[b.index])]
        bad_by_part[p].append(BadTick(p, int(all_offsets[b.index]), b.reason, b.detail, values[b.index]))
    out: dict[int, Segment] = {}
    batch = decoded.batch
    for k, p in enumerate(parts):
        lo, hi = int(cuts[k]), int(cuts[k + 1])
        out[p] = Segment(
            all_offsets[rows[lo:hi]],
            batch.symbols[lo:hi],
            batch.ts[lo:hi],
            batch.price[lo:hi],
            bad_by_part[p],
            int(all_offsets[bounds[k + 1] - 1]) + 1,
            int(fetched[p][-1].timestamp),
            batch.quantum[lo:hi],
            None if batch.currency is None else batch.currency[lo:hi],
            None if batch.coin_ids is None else batch.coin_ids[lo:hi],
            None if batch.change is None else batch.change[lo:hi],
            None if batch.change_signed is None else batch.change_signed[lo:hi],
        )
    return out
