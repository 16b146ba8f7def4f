"""Fetched tick records waiting to be processed: per partition, merged by event time, cut at a gate.

Why a buffer at all, instead of handing each ``getmany`` result to the engine as it comes:

* **Event-time merge.** A replay sees one stream in event-time order; a processor sees several
  partitions, each in its own order, fetched in arbitrary slices. Feeding partition after partition
  would let the ticks of one partition advance the engine's watermark past ticks of another that are
  still to come (a held WBTC tick would then be judged before BTC's tick of the same snapshot, in
  another partition, arrived). So every cut is merged across partitions by event time, keeping each
  partition's own order (the merge key is the running maximum of ts within the partition, which never
  decreases, so a stable sort on it interleaves partitions without reordering any of them).
* **The reference gate.** Ticks may only advance the watermark as far as the reference prices are
  known (see :mod:`tickerstream.kafka.refprices`): :meth:`PendingTicks.cut` takes a limit and leaves
  ticks above it for later.

Bad records travel with their partition's ticks and leave in the same cut as the good records around
them, so a dead letter is committed together with the offsets that pass it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tickerstream.engine import TickBatch
from tickerstream.model import RejectReason

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
    """

    offsets: I64  # offset of each good row
    symbols: list[str]
    ts: I64
    price: F64
    bad: list[BadTick]
    end: int

    def __len__(self) -> int:
        return len(self.symbols)

    @classmethod
    def concat(cls, a: Segment, b: Segment) -> Segment:
        return cls(
            np.concatenate([a.offsets, b.offsets]),
            a.symbols + b.symbols,
            np.concatenate([a.ts, b.ts]),
            np.concatenate([a.price, b.price]),
            a.bad + b.bad,
            b.end,
        )

    def split(self, n: int) -> tuple[Segment, Segment | None]:
        """The first ``n`` good rows (with the bad records before row ``n``), and the rest or None."""
        if n >= len(self):
            return self, None
        stop = int(self.offsets[n])
        head_bad = [b for b in self.bad if b.offset < stop]
        tail_bad = self.bad[len(head_bad) :]
        head = Segment(self.offsets[:n], self.symbols[:n], self.ts[:n], self.price[:n], head_bad, stop)
        tail = Segment(self.offsets[n:], self.symbols[n:], self.ts[n:], self.price[n:], tail_bad, self.end)
        return head, tail


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

    def __len__(self) -> int:
        return len(self.batch)


class PendingTicks:
    """Per-partition queues of fetched, not yet processed records."""

    def __init__(self) -> None:
        self._segments: dict[int, Segment] = {}

    def add(self, partition: int, segment: Segment) -> None:
        old = self._segments.get(partition)
        self._segments[partition] = segment if old is None else Segment.concat(old, segment)

    def discard(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._segments.pop(p, None)

    def clear(self) -> None:
        self._segments.clear()

    def rows(self, partition: int) -> int:
        seg = self._segments.get(partition)
        return 0 if seg is None else len(seg)

    @property
    def total_rows(self) -> int:
        return sum(len(s) for s in self._segments.values())

    def __bool__(self) -> bool:
        return bool(self._segments)

    def partitions(self) -> list[int]:
        return sorted(self._segments)

    def first_ts(self, partition: int) -> int | None:
        """Smallest ts among the partition's pending good rows (None if it has none)."""
        seg = self._segments.get(partition)
        return None if seg is None or not len(seg) else int(seg.ts.min())

    def last_key(self, partition: int) -> int | None:
        """Largest ts among the partition's pending good rows (the end of what has been fetched)."""
        seg = self._segments.get(partition)
        return None if seg is None or not len(seg) else int(seg.ts.max())

    def cut(self, limit: int | None = None) -> Cut | None:
        """Take every pending record whose merge key is <= ``limit`` (None: everything), merged by
        event time. Returns None when nothing (not even a bad record) can be taken."""
        heads: list[tuple[int, Segment]] = []
        for p in sorted(self._segments):
            seg = self._segments[p]
            if limit is None or not len(seg):
                n = len(seg)
            else:
                key = np.maximum.accumulate(seg.ts)
                n = int(np.searchsorted(key, limit, side="right"))
            head, tail = seg.split(n)
            if not len(head) and not head.bad and tail is not None:
                continue  # nothing of this partition may go yet
            heads.append((p, head))
            if tail is None:
                del self._segments[p]
            else:
                self._segments[p] = tail
        if not heads:
            return None
        return _merge(heads)


def _merge(heads: list[tuple[int, Segment]]) -> Cut:
    positions = {p: seg.end for p, seg in heads}
    bad = [b for _, seg in heads for b in seg.bad]
    by_partition = {p: seg.symbols for p, seg in heads if len(seg)}
    rows = [(p, seg) for p, seg in heads if len(seg)]
    if not rows:
        return Cut(TickBatch.empty(), np.empty(0, np.int64), positions, bad, by_partition)
    if len(rows) == 1:
        p, seg = rows[0]
        batch = TickBatch(seg.symbols, seg.ts, seg.price)
        return Cut(batch, np.full(len(seg), p, dtype=np.int64), positions, bad, by_partition)
    ts = np.concatenate([seg.ts for _, seg in rows])
    price = np.concatenate([seg.price for _, seg in rows])
    key = np.concatenate([np.maximum.accumulate(seg.ts) for _, seg in rows])
    part = np.concatenate([np.full(len(seg), p, dtype=np.int64) for p, seg in rows])
    symbols = [s for _, seg in rows for s in seg.symbols]
    order = np.argsort(key, kind="stable")
    symbols = list(operator.itemgetter(*order.tolist())(symbols)) if len(order) > 1 else symbols
    batch = TickBatch(symbols, ts[order], price[order])
    return Cut(batch, part[order], positions, bad, by_partition)


def decode_fetch(fetched: dict[int, list[tuple[int, bytes | None]]]) -> dict[int, Segment]:
    """Decode one fetch (partition -> [(offset, value)]) into segments: one batch decode for all
    partitions, then split by partition (the good rows of a partition are contiguous)."""
    from tickerstream.codec import decode_tick_values

    parts = [p for p, recs in fetched.items() if recs]
    values: list[bytes] = []
    offsets: list[I64] = []
    bounds = [0]
    for p in parts:
        recs = fetched[p]
        values.extend(b"" if v is None else v for _, v in recs)
        offsets.append(np.fromiter((o for o, _ in recs), dtype=np.int64, count=len(recs)))
        bounds.append(len(values))
    decoded = decode_tick_values(values)
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
        )
    return out
