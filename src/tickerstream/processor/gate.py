"""The reference gate: how far each reference's points are known, what that lets the engine judge, and
what progress to publish.

A pegged asset (WBTC) is judged against its reference (BTC) as of the pegged tick's event time, and
BTC's partition may be owned by another instance. Every fetched tick goes to the engine in the next
step, whatever the references' progress: only the pegged ticks wait, inside the engine, which holds
them until their reference's points are known (#12: holding back the whole cut instead fragmented
every instance's steps and made a second instance slower than one). :class:`RefGate` keeps the
bookkeeping that makes a Kafka run give the replay's verdicts (argument: docs/processing.md):

* **progress** of a reference's partition: every tick of it with a smaller ts is processed. Ours when
  we own the partition, else what its owner published on the group's refprices topic;
* **horizons**: each step hands the engine every reference's progress (``set_reference_horizons``);
  a held pegged tick at T is released by the watermark only once T + wait is below it;
* **stale references**: a reference whose horizon alone holds ticks back and does not move for
  ``ref_gate_timeout_ms`` of wall time stops capping (counted and logged) until it moves again, so a
  dead owner cannot hold the pegs of the group forever;
* **publishing**: reference points and progress records of the partitions we own, for the others.

The gate does no I/O: it returns the records to send and the events to emit, and the
:class:`Processor` sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from tickerstream.engine import Engine
from tickerstream.events import Event
from tickerstream.log import get_logger
from tickerstream.processor.config import ProcessorStats
from tickerstream.processor.ownership import Ownership
from tickerstream.processor.pending import Cut, PendingTicks
from tickerstream.processor.refprices import UNKNOWN, RefFollower, encode_ref, reference_ticks

log = get_logger(__name__)

#: A record for the refprices topic: (ticks partition it belongs to, value, key).
RefRecord = tuple[int, bytes, bytes]


class RefGate:
    def __init__(
        self,
        engine: Engine,
        ref_partition: dict[str, int],
        follower: RefFollower,
        owned: Ownership,
        pending: PendingTicks,
        stats: ProcessorStats,
        *,
        timeout_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``ref_partition``: each reference symbol's ticks partition. ``clock``: seconds, for the
        stale time-out (tests pass their own)."""
        self.engine = engine
        self.ref_partition = ref_partition
        self.follower = follower
        self.owned = owned
        self.pending = pending
        self.stats = stats
        self.timeout_ms = timeout_ms
        self._clock = clock
        self._published_until: dict[str, int] = {}
        #: References that stopped capping after a time-out, with the horizon they were stuck at.
        self._stale: dict[str, int] = {}
        #: References holding pegged ticks back: since when (clock) and at which horizon.
        self._blocked: dict[str, tuple[float, int]] = {}

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

    def release(self) -> list[Event]:
        """Hand the engine every reference's horizon (call after the follower's points are in, before
        the step's cut): the pegged ticks it now allows are judged, and their events returned.

        The horizon is the *processed* progress, not what has been fetched: the cut feeds every
        fetched tick, and the watermark it reaches may pass a held tick's ts + wait before the
        reference's fetched points come up in it; points below the progress are already in."""
        until = {r: self.progress(r) for r in self.ref_partition}
        for r in [r for r, u in self._stale.items() if until[r] > u]:
            del self._stale[r]  # it moves again: it caps again
        events = self.engine.set_reference_horizons(
            {r: None if r in self._stale else u for r, u in until.items()}
        )
        stale = self._watch(until)
        if stale:  # judged now with what is known (the engine's own rule)
            events += self.engine.set_reference_horizons(dict.fromkeys(stale))
        return events

    def _watch(self, until: dict[str, int]) -> list[str]:
        """Count steps in which a reference holds pegged ticks back; after ``timeout_ms`` of wall time
        without its horizon moving, mark it stale (its ticks are then judged with what is known)."""
        blocked = self.engine.blocked_references()
        for r in [r for r in self._blocked if r not in blocked]:
            del self._blocked[r]
        if not blocked:
            return []
        self.stats.gate_blocked_steps += 1
        now = self._clock()
        timed_out = []
        for r in sorted(blocked):
            since, at = self._blocked.get(r, (now, until[r]))
            if until[r] != at:  # it moved: the wait starts again
                since, at = now, until[r]
            self._blocked[r] = (since, at)
            if (now - since) * 1000 >= self.timeout_ms:
                timed_out.append(r)
        if timed_out:
            for r in timed_out:
                self._stale[r] = until[r]
                del self._blocked[r]
            self.stats.gate_timeouts += 1
            log.warning("process.ref_gate_timeout", refs=timed_out, until={r: until[r] for r in timed_out})
        return timed_out

    def cut(self) -> Cut | None:
        """Every pending tick, merged by event time (None: nothing pending). Nothing of the cut waits
        for a reference here: pegged ticks wait inside the engine (``release``)."""
        if not self.pending:
            return None
        return self.pending.cut()

    def reset(self) -> None:
        """Forget the blocked times (a rebalance: what was fetched is gone)."""
        self._blocked.clear()

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
        points = reference_ticks(
            b.symbols, cut.partition_of_row, self.ref_partition, set(cut.positions), is_point
        )
        for i in points:
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
