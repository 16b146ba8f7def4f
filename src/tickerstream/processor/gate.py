"""The reference gate: what of the pending ticks the engine may be fed now, and what progress to publish.

A pegged asset (WBTC) is judged against its reference (BTC) as of the pegged tick's event time, and
BTC's partition may be owned by another instance. :class:`RefGate` keeps the bookkeeping that makes a
Kafka run give the replay's verdicts (the argument is in ``refprices``' docstring):

* **progress** of a reference's partition: every tick of it with a smaller ts is processed. Ours when
  we own the partition, else what its owner published on the group's refprices topic;
* **the cut limit**: pending ticks are fed only up to ``min(progress of each gating reference) + wait``;
* **stale references**: a reference whose progress does not move for ``ref_gate_timeout_ms`` of wall
  time stops gating (counted and logged) until it moves again, so a dead owner cannot stall the group;
* **publishing**: reference points and progress records of the partitions we own, for the others.

The gate does no I/O: it returns the records to send, and the :class:`Processor` sends them.
"""

from __future__ import annotations

import time

import numpy as np

from tickerstream.engine import Engine
from tickerstream.log import get_logger
from tickerstream.processor.config import ProcessorStats
from tickerstream.processor.ownership import Ownership
from tickerstream.processor.pending import Cut, PendingTicks
from tickerstream.processor.refprices import UNKNOWN, RefFollower, encode_ref, gate_limit, reference_ticks

log = get_logger(__name__)

#: A record for the refprices topic: (ticks partition it belongs to, value, key).
RefRecord = tuple[int, bytes, bytes]


class RefGate:
    def __init__(
        self,
        engine: Engine,
        ref_partition: dict[str, int],
        dependents: dict[str, set[int]],
        follower: RefFollower,
        owned: Ownership,
        pending: PendingTicks,
        stats: ProcessorStats,
        *,
        timeout_ms: int,
    ) -> None:
        """``ref_partition``: each reference symbol's ticks partition. ``dependents``: for each
        reference, the partitions of the symbols pegged to it (they wait for it when we own one)."""
        self.engine = engine
        self.ref_partition = ref_partition
        self.dependents = dependents
        self.follower = follower
        self.owned = owned
        self.pending = pending
        self.stats = stats
        self.timeout_ms = timeout_ms
        self._published_until: dict[str, int] = {}
        #: References that stopped gating after a time-out, with the horizon they were stuck at.
        self._stale: dict[str, int] = {}
        self._blocked_since: float | None = None

    def progress(self, ref: str) -> int:
        """What we may promise about ``ref``'s partition (published): every tick of it with a smaller ts
        is processed. Ours if we own it (the first unprocessed ts, else the last processed), else the
        owner's published progress."""
        remote = self.follower.until.get(ref, UNKNOWN)
        p = self.ref_partition[ref]
        if p not in self.owned:
            return remote
        first = self.pending.first_ts(p)
        return max(remote, first if first is not None else self.owned[p].last_ts)

    def horizon(self, ref: str) -> int:
        """How far ``ref``'s points are known for the gate. For a partition we own, every fetched tick
        counts: a cut is merged by event time, so its reference ticks precede the later ticks in it."""
        p = self.ref_partition[ref]
        last = self.pending.last_key(p) if p in self.owned else None
        return self.progress(ref) if last is None else max(last, self.progress(ref))

    def cut(self) -> Cut | None:
        """The pending ticks the engine may take now (None: nothing may go yet, or nothing pending)."""
        if not self.pending:
            return None
        owned = self.owned.parts.keys()
        gating = [r for r, deps in self.dependents.items() if deps & owned]
        until = {r: self.horizon(r) for r in gating}
        for r in [r for r, u in self._stale.items() if until.get(r, UNKNOWN) > u]:
            del self._stale[r]  # it moves again: it gates again
        # Up to the horizon itself, not horizon + ref_max_wait_s: a tick the watermark releases is
        # judged with the reference's first point after it too (within the wait; engine/pegref.py),
        # so all of the reference's points up to ts + wait must be known by then, as in a replay.
        cut = self.pending.cut(gate_limit(gating, until, 0, set(self._stale)))
        if cut is not None:
            if len(cut):
                self._blocked_since = None
            return cut
        self.stats.gate_blocked_steps += 1
        now = time.monotonic()
        if self._blocked_since is None:
            self._blocked_since = now
        elif (now - self._blocked_since) * 1000 >= self.timeout_ms:
            for r in gating:
                self._stale.setdefault(r, until.get(r, UNKNOWN))
            self.stats.gate_timeouts += 1
            log.warning("process.ref_gate_timeout", refs=sorted(gating), until=until)
            self._blocked_since = None
            return self.pending.cut(None)
        return None

    def reset(self) -> None:
        """Forget the blocked time (a rebalance: what was fetched is gone)."""
        self._blocked_since = None

    def points_of(self, cut: Cut) -> list[RefRecord]:
        """Reference ticks of ``cut`` on their own partitions (ours): note how far each partition got,
        and return the points to publish, in stream order."""
        b = cut.batch
        for p in {p for p in self.ref_partition.values() if p in cut.positions}:
            rows = cut.partition_of_row == p
            if rows.any():
                self.owned[p].last_ts = max(self.owned[p].last_ts, int(np.max(b.ts[rows])))
        records: list[RefRecord] = []
        # Only the ticks the engine took as reference points (BTC of the pinned coin, in USD): a BTC
        # tick in EUR, or of another coin sharing the ticker, must not move WBTC's judgement.
        is_point = self.engine.last_reference_mask
        if is_point.shape[0] != len(b):
            raise RuntimeError("points_of must follow engine.process of the same cut")
        for i in reference_ticks(b.symbols, cut.partition_of_row, self.ref_partition, set(cut.positions)):
            if not is_point[i]:
                continue
            s, t = b.symbols[i], int(b.ts[i])
            records.append((int(cut.partition_of_row[i]), encode_ref(s, t, float(b.price[i]), t), s.encode()))
        return records

    def progress_records(self) -> list[RefRecord]:
        """For each reference on a partition we own, a progress record when its progress advanced."""
        refs = self.engine.pegs.refs
        records: list[RefRecord] = []
        for ref, p in self.ref_partition.items():
            if p not in self.owned:
                continue
            u = self.progress(ref)
            if u <= self._published_until.get(ref, UNKNOWN):
                continue
            self._published_until[ref] = u
            hist = refs[ref]
            ts, px = (hist.ts[-1], hist.price[-1]) if hist.ts else (None, None)
            records.append((p, encode_ref(ref, ts, px, u), ref.encode()))
        return records
