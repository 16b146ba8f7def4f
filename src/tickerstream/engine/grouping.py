"""A batch grouped by series: the accepted ticks of each row as one contiguous segment, in event-time
order, with the late ticks and duplicates taken out; and the per-segment recurrence the volatility
estimate runs on. ``windows.py`` and the detectors work on these segments.

Policy for ticks that do not extend a symbol's series (counted, never merged):
- **duplicate**: same series and ts as the latest accepted tick: dropped, the first one wins;
- **late**: ts older than the latest accepted ts: dropped. Ticks arrive per series in event-time
  order (Kafka keys by symbol); an older tick is a replayed or re-scraped snapshot, and inserting it
  into the past would rewrite moves already published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: ``last_ts`` of a row with no points: older than any valid ts (ts >= 0).
NO_TS = -1


@dataclass(frozen=True, slots=True)
class Grouped:
    """The accepted ticks of a batch, grouped by row (segments) in event-time order within a row."""

    order: I64  # positions in the batch, in grouped order
    rows: I64
    ts: I64
    price: F64
    quantum: F64  # per tick: the quantum in effect (shown digits, else the series' estimate); 0 = none
    starts: I64  # index of each segment's first tick
    ends: I64  # one past each segment's last tick
    seg_rows: I64
    seg_of: I64  # per tick: index of its segment
    rank: I64  # per tick: position within its segment
    late: int
    duplicates: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def per_tick(self, per_segment: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """``per_segment[seg_of]``: segments are contiguous runs, so a repeat (a few copies per
        segment) instead of a gather per tick, about 4x cheaper."""
        return np.repeat(per_segment, self.ends - self.starts)


def stable_order(rows: I64) -> I64:
    """``np.argsort(rows, kind="stable")``, computed on 16-bit keys when the rows fit: numpy sorts
    8/16-bit integers stably by radix sort, O(n), about 3x faster than the merge sort it uses for
    int64 at 100,000 ticks. A stable order is unique, so the result is the same either way."""
    if rows.size and int(rows.max()) < 2**16:
        out: I64 = np.argsort(rows.astype(np.uint16), kind="stable")
    else:
        out = np.argsort(rows, kind="stable")
    return out


def group_and_accept(rows: I64, ts: I64, price: F64, quantum: F64, last_ts: I64) -> Grouped:
    """Group a batch by row (stable, keeping stream order) and drop late ticks and duplicates."""
    order = stable_order(rows)
    r = rows[order]
    t = ts[order]
    n = r.shape[0]
    first, starts, ends = segments(r)
    # The running max of earlier ts in the row; while a row's ts never decrease within the batch
    # (the normal case) that is simply the previous tick's ts, or the row's last accepted ts (one
    # gather per row, repeated over its ticks: cheaper than a gather per tick).
    prev_max = np.empty(n, dtype=np.int64)
    prev_max[1:] = t[:-1]
    prev_max[first] = NO_TS
    np.maximum(prev_max, np.repeat(last_ts[r[starts]], ends - starts), out=prev_max)
    decreasing = np.flatnonzero(~first[1:] & (t[1:] < t[:-1])) + 1
    if decreasing.size:
        for s in np.unique(np.searchsorted(starts, decreasing, side="right") - 1):
            lo = int(starts[s])
            hi = int(ends[s])
            run = np.maximum.accumulate(t[lo:hi])
            prev_max[lo + 1 : hi] = np.maximum(run[:-1], last_ts[r[lo]])
    accepted = t > prev_max
    duplicates = int(np.count_nonzero(t == prev_max))
    late = n - int(np.count_nonzero(accepted)) - duplicates
    if late or duplicates:  # the common case drops nothing: no regrouping, no gathers per tick
        keep = np.flatnonzero(accepted)
        order = order[keep]
        return grouped(order, r[keep], t[keep], price[order], quantum[order], late, duplicates)
    return grouped(order, r, t, price[order], quantum[order], late, duplicates, (first, starts, ends))


def segments(r: I64) -> tuple[npt.NDArray[np.bool_], I64, I64]:
    """Runs of equal values in ``r`` (sorted): which position starts one, their starts and ends."""
    first = np.empty(r.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(r[1:], r[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return first, starts, np.append(starts[1:], r.shape[0])


def grouped(
    order: I64,
    r: I64,
    t: I64,
    price: F64,
    quantum: F64,
    late: int,
    duplicates: int,
    segs: tuple[npt.NDArray[np.bool_], I64, I64] | None = None,
) -> Grouped:
    """A :class:`Grouped` of ticks already in row order (``segs``: their ``segments``, if known)."""
    first, starts, ends = segments(r) if segs is None else segs
    seg_of = np.cumsum(first) - 1
    rank = np.arange(r.shape[0], dtype=np.int64) - np.repeat(starts, ends - starts)
    return Grouped(order, r, t, price, quantum, starts, ends, r[starts], seg_of, rank, late, duplicates)


#: Below this many segments still running, the recurrence continues in plain Python (cheaper
#: than a numpy call per position for a handful of elements).
_PY_TAIL_SEGMENTS = 32


def segmented_recurrence(a: F64, b: F64, starts: I64, lens: I64) -> F64:
    """``x[i] = a[i] * x[i-1] + b[i]`` within each segment; ``x[start] = b[start]``.

    Evaluated in exactly the sequential order, one position of all segments per numpy step, so
    the floats are bit-identical however the stream was cut into batches (a parallel prefix scan
    regroups the products and differs in the last bits). The few long segments that remain when
    most have ended finish in plain Python, so one long run costs O(n) Python steps, not numpy calls.
    """
    x = b.copy()
    by_len = np.argsort(-lens, kind="stable")
    s_starts = starts[by_len]
    s_lens = lens[by_len]
    neg_lens = -s_lens
    k = 1
    max_len = int(s_lens[0]) if s_lens.size else 0
    while k < max_len:
        active = int(np.searchsorted(neg_lens, -k, side="left"))  # segments with len > k
        if active < _PY_TAIL_SEGMENTS:
            break
        idx = s_starts[:active] + k
        x[idx] = a[idx] * x[idx - 1] + b[idx]
        k += 1
    if k < max_len:
        for s0, n in zip(s_starts.tolist(), s_lens.tolist(), strict=True):
            if n <= k:
                break
            lo = s0 + k - 1
            xs = x[lo : s0 + n].tolist()
            aa = a[lo : s0 + n].tolist()
            bb = b[lo : s0 + n].tolist()
            for i in range(1, len(xs)):
                xs[i] = aa[i] * xs[i - 1] + bb[i]
            x[lo : s0 + n] = xs
    return x
