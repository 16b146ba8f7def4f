"""Reference prices across instances: the group's compacted ``ticker.refprices.<group>`` topic and the
event-time gate (one topic per consumer group: the points and progress are the group's state).

A pegged asset such as WBTC is judged against BTC's price *as of the WBTC tick's ts*; BTC's ticks may
live on a partition another instance owns. So the owner of a reference symbol's partition publishes,
key = the symbol, value (compact JSON)::

    {"v": 1, "symbol": "BTC", "ts": 1737331200000, "price": 104442.98, "until": 1737331200000}

* one record per accepted-or-not BTC tick it processes (``ts``/``price`` of that tick), in order, and
* a progress record whenever its progress on BTC's partition advanced (``ts``/``price`` repeat the
  latest point, null if it has none), so the compacted topic keeps the latest price *and* progress.

``until`` is the publisher's promise: every tick of that symbol's partition with ts < ``until`` has been
processed and its reference points published before this record. Every instance follows the topic
from the beginning (:class:`RefFollower`, no consumer group, ``read_committed``) and feeds the points
to ``Engine.observe_reference``.

**The gate** (``gate.RefGate``). The engine holds a pegged tick at ts T until it has seen the reference
at ts >= T, or until its watermark passes T + ``pegs.ref_max_wait_s``; then it judges T with the
reference's points around T (the newest <= T and the first after T within the wait). That verdict
equals the replay's exactly when every reference point <= T + wait is known at that moment. The
processor feeds every fetched tick at once, so its watermark may run far ahead of a reference owned
elsewhere; instead of holding the other ticks back, it caps the watermark per reference
(``Engine.set_reference_horizons``) at what this module's ``until`` promises. A held T is then
released only when T + wait < until(R), i.e. after all of R's points <= T + wait arrived. Progress
never waits for anything (a reference's own ticks are never held), so the group cannot deadlock; a
reference that holds ticks back and makes no progress for ``ref_gate_timeout_ms`` of wall time stops
capping (counted) until it moves again.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tickerstream.kafka.admin import partition_count
from tickerstream.log import get_logger

log = get_logger(__name__)

#: Progress of a partition nobody has reported yet.
UNKNOWN = -(2**62)


def encode_ref(symbol: str, ts: int | None, price: float | None, until: int) -> bytes:
    return orjson.dumps({"v": 1, "symbol": symbol, "ts": ts, "price": price, "until": until})


@dataclass(frozen=True, slots=True)
class RefRecord:
    symbol: str
    ts: int | None
    price: float | None
    until: int


def decode_ref(value: bytes | None) -> RefRecord | None:
    """A reference record, or None for anything else (tombstones, foreign or broken values)."""
    if not value:
        return None
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or obj.get("v") != 1:
        return None
    sym, ts, price, until = obj.get("symbol"), obj.get("ts"), obj.get("price"), obj.get("until")
    if not isinstance(sym, str) or type(until) is not int:
        return None
    if type(ts) is int and isinstance(price, (int, float)) and math.isfinite(price) and price > 0:
        return RefRecord(sym, ts, float(price), until)
    return RefRecord(sym, None, None, until)


@dataclass(slots=True)
class RefUpdates:
    """What the follower read since the last drain: new points (in topic order) and progress."""

    symbols: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    price: list[float] = field(default_factory=list)
    until: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.symbols)


class RefFollower:
    """Reads the reference-price topic from the beginning, then follows it; a background task.

    Points are de-duplicated per symbol by ts (the topic may hold the same point twice after a
    rebalance or an at-least-once retry: same input, same point). Progress (``until``) becomes visible
    to :meth:`drain` callers together with the points published before it.
    """

    def __init__(self, bootstrap: str, topic: str, symbols: Iterable[str], **consumer_kwargs: Any) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._client_kwargs = consumer_kwargs  # connection security, for the admin look-up too
        self.symbols = frozenset(symbols)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            **consumer_kwargs,
        )
        self._tps: list[TopicPartition] = []
        self._buf = RefUpdates()
        self._last_ts: dict[str, int] = {}
        self.until: dict[str, int] = {}
        self.records = 0
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()

    async def start(self, catch_up_timeout_s: float = 30.0) -> None:
        """Assign all partitions, read everything there is now, then follow in the background."""
        count = await partition_count(self._bootstrap, self.topic, client_kwargs=self._client_kwargs)
        if not count:
            raise RuntimeError(f"reference-price topic {self.topic} not found")
        await self._consumer.start()
        self._tps = [TopicPartition(self.topic, p) for p in range(count)]
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_beginning(*self._tps)
        self._task = asyncio.create_task(self._run(), name="refprices-follower")
        await self.catch_up(catch_up_timeout_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # it died before: drain()/catch_up() raised it already
                log.warning("refprices.follower_failed", topic=self.topic, error=repr(exc))
            self._task = None
        await self._consumer.stop()

    async def catch_up(self, timeout_s: float) -> bool:
        """Wait until everything in the topic as of now has been read (False on timeout)."""
        end = await self._consumer.end_offsets(self._tps)
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    self.check()  # raise what killed the follower
                    positions = [await self._consumer.position(tp) for tp in self._tps]
                    if all(pos >= end[tp] for pos, tp in zip(positions, self._tps, strict=True)):
                        return True
                    self._progress.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.2):
                            await self._progress.wait()
        except TimeoutError:
            log.warning("refprices.catch_up_timeout", topic=self.topic, timeout_s=timeout_s)
            return False

    def drain(self) -> RefUpdates:
        """Points and progress read since the last call (progress is also applied to ``until``).

        Raises what killed the background task, if it died: a dead follower would otherwise go
        unnoticed, the gate would time out every ``ref_gate_timeout_ms`` and references go stale."""
        self.check()
        out, self._buf = self._buf, RefUpdates()
        for sym, u in out.until.items():
            if u > self.until.get(sym, UNKNOWN):
                self.until[sym] = u
        return out

    def check(self) -> None:
        """Raise if the background task has ended (it only ends by an error, or by :meth:`stop`)."""
        task = self._task
        if task is None or not task.done():
            return
        exc = None if task.cancelled() else task.exception()
        raise RuntimeError(f"reference-price follower of {self.topic} stopped: {exc!r}") from exc

    async def _run(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=200)
            for records in fetched.values():
                for r in records:
                    self._take(decode_ref(r.value))
                self.records += len(records)
            self._progress.set()

    def _take(self, rec: RefRecord | None) -> None:
        if rec is None or rec.symbol not in self.symbols:
            return
        buf = self._buf
        if rec.ts is not None and rec.price is not None and rec.ts > self._last_ts.get(rec.symbol, UNKNOWN):
            self._last_ts[rec.symbol] = rec.ts
            buf.symbols.append(rec.symbol)
            buf.ts.append(rec.ts)
            buf.price.append(rec.price)
        if rec.until > buf.until.get(rec.symbol, UNKNOWN):
            buf.until[rec.symbol] = rec.until


def reference_ticks(
    symbols: list[str],
    partition_of_row: Any,
    ref_partition: dict[str, int],
    owned: set[int],
    among: Any = None,
) -> list[int]:
    """Rows of a merged cut that are ticks of a reference symbol on its own (owned) partition:
    the points this processor must publish, in stream order. ``among``: a mask of the rows worth
    looking at (the engine's reference points), so that the per-row check runs on those alone and
    not on every tick that shares a partition with a reference."""
    parts = [p for p in set(ref_partition.values()) if p in owned]
    if not parts:
        return []
    rows = np.isin(partition_of_row, parts)
    if among is not None:
        rows &= among
    return [
        i
        for i in np.flatnonzero(rows).tolist()
        if ref_partition.get(symbols[i], -1) == int(partition_of_row[i])
    ]
