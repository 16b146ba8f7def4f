"""``Processor``: one member of the ``ticker-process`` consumer group (design: docs/processing.md).

Per poll: ``getmany`` -> one batch decode for all partitions -> pending buffer -> a cut merged by event
time and limited by the reference gate -> one ``Engine.process`` -> events (key = symbol) to the moves
and pegs topics, dead letters to the rejects topic, reference points and progress to the refprices
topic. Every ``commit_interval_ms``: wait for the acks, checkpoint, commit the offsets (at-least-once),
or checkpoint + offsets + commit inside each partition's transaction (exactly-once).

Lifecycle: ``async with Processor(...) as proc: await proc.run()``; :meth:`request_stop` (SIGTERM)
makes ``run`` return after the current step, and leaving the block commits and leaves the group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from tickerstream.engine import Engine, EngineConfig
from tickerstream.events import Event
from tickerstream.kafka.admin import TopicSpec, ensure_topics, topic_specs_for
from tickerstream.kafka.checkpoint import CHECKPOINT_TOPIC_CONFIGS, read_checkpoint, write_checkpoint
from tickerstream.kafka.dlq import reject_for
from tickerstream.kafka.outputs import AtLeastOnceOutput, TransactionalOutput
from tickerstream.kafka.partitioner import KeyRouter
from tickerstream.kafka.pending import Cut, PendingTicks, decode_fetch
from tickerstream.kafka.refprices import UNKNOWN, RefFollower, encode_ref, gate_limit
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ProcessorConfig:
    """How one processor consumes, commits and waits; loadable with ``load_settings``."""

    group: str = "tickerstream"
    exactly_once: bool = False
    #: Offsets (and, in exactly-once mode, transactions) are committed this often.
    commit_interval_ms: int = 1000
    #: At-least-once: checkpoints this often (and on revoke/shutdown). Exactly-once checkpoints
    #: every partition it commits, inside the transaction.
    checkpoint_interval_ms: int = 10_000
    #: Checkpoint topic; empty = ``<ticks topic>.checkpoints`` (compacted, one partition per ticks partition).
    checkpoint_topic: str = ""
    poll_timeout_ms: int = 100
    max_records: int = 20_000
    #: A partition with more fetched-but-gated ticks than this is paused until they drain.
    max_pending_rows: int = 200_000
    #: Wall time a reference may make no progress while gating before it stops gating (counted).
    ref_gate_timeout_ms: int = 10_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    #: Large enough that a 1 MB poison message does not stall its partition.
    max_partition_fetch_bytes: int = 4 * 1024 * 1024
    transactional_id_prefix: str = "tickerstream"

    def __post_init__(self) -> None:
        for name in ("commit_interval_ms", "checkpoint_interval_ms", "max_records", "max_pending_rows"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if not self.group:
            raise ValueError("group must not be empty")


@dataclass(slots=True)
class ProcessorStats:
    """Counters per processor, updated once per step (the hook for Prometheus metrics)."""

    steps: int = 0
    records: int = 0
    ticks: int = 0
    rejects: int = 0
    moves: int = 0
    pegs: int = 0
    ref_points_in: int = 0
    ref_records_out: int = 0
    commits: int = 0
    checkpoints: int = 0
    checkpoint_bytes: int = 0
    restores: int = 0
    cold_starts: int = 0
    rebalances: int = 0
    gate_blocked_steps: int = 0
    gate_timeouts: int = 0
    aborts: int = 0
    last_step_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(slots=True)
class _PartitionState:
    position: int | None = None  # next offset to process
    committed: int | None = None
    checkpointed: int | None = None
    slot: str = "b"  # slot of the latest checkpoint; the next one goes to the other
    dirty: bool = False  # events since the last checkpoint without a position change
    last_ts: int = UNKNOWN  # largest processed tick ts (for reference progress)
    symbols: set[str] = field(default_factory=set)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, proc: Processor) -> None:
        self.proc = proc

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.proc._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.proc._on_assigned(assigned)


class Processor:
    def __init__(
        self,
        kafka: KafkaSettings,
        engine_config: EngineConfig | None = None,
        config: ProcessorConfig | None = None,
        on_step: Callable[[ProcessorStats], None] | None = None,
    ) -> None:
        self.kafka = kafka
        self.config = cfg = config or ProcessorConfig()
        self.engine = Engine(engine_config)
        self.stats = ProcessorStats()
        self._on_step = on_step
        t = kafka.topics
        self.ticks_topic = t.ticks
        self.checkpoint_topic = cfg.checkpoint_topic or f"{t.ticks}.checkpoints"
        self._router = KeyRouter(kafka.ticks_partitions)
        by_ref = self.engine.pegs.by_ref
        self._ref_partition = {r: self._router.route(r)[1] for r in by_ref}
        self._dependents = {r: {self._router.route(s)[1] for s in syms} for r, syms in by_ref.items()}
        bootstrap = kafka.bootstrap_servers
        if cfg.exactly_once:
            prefix = f"{cfg.transactional_id_prefix}.{cfg.group}.{t.ticks}"
            self.output: AtLeastOnceOutput | TransactionalOutput = TransactionalOutput(bootstrap, prefix)
        else:
            self.output = AtLeastOnceOutput(bootstrap)
        self._follower = RefFollower(bootstrap, t.refprices, by_ref)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=cfg.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=cfg.max_partition_fetch_bytes,
            fetch_max_bytes=max(52_428_800, cfg.max_partition_fetch_bytes),
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            max_poll_interval_ms=cfg.max_poll_interval_ms,
        )
        self._cp_reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._parts: dict[int, _PartitionState] = {}  # owned and restored
        self._to_restore: set[int] = set()
        self._previously_owned: set[int] = set()
        self._revoke_clean = True
        self._part_of: dict[str, int] = {}
        self._pending = PendingTicks()
        self._paused: set[int] = set()
        self._published_until: dict[str, int] = {}
        self._stale: dict[str, int] = {}
        self._blocked_since: float | None = None
        self._last_commit = time.monotonic()
        self._last_checkpoint = time.monotonic()
        self._started = False

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        specs = [
            *topic_specs_for(self.kafka),
            TopicSpec(
                self.checkpoint_topic,
                self.kafka.ticks_partitions,
                self.kafka.replication_factor,
                CHECKPOINT_TOPIC_CONFIGS,
            ),
        ]
        await ensure_topics(self.kafka.bootstrap_servers, specs, create=self.kafka.create_topics)
        await self.output.start()
        await self._follower.start()
        await self._cp_reader.start()
        self._consumer.subscribe([self.ticks_topic], listener=_Listener(self))
        await self._consumer.start()
        self._started = True
        log.info(
            "process.started",
            group=self.config.group,
            exactly_once=self.config.exactly_once,
            ticks=self.ticks_topic,
            checkpoints=self.checkpoint_topic,
        )

    async def stop(self) -> None:
        """Graceful: commit what was processed (with checkpoints), leave the group, close clients."""
        if self._started:
            async with self._lock:
                try:
                    await self._commit(checkpoint=True)
                except (KafkaError, CommitFailedError) as exc:
                    log.warning("process.final_commit_failed", error=str(exc))
            await self._consumer.stop()  # sends LeaveGroup: the others rebalance at once
            self._started = False
        await self._cp_reader.stop()
        await self._follower.stop()
        await self.output.stop()
        log.info("process.stopped", **self.stats.as_dict())

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def request_stop(self) -> None:
        self._stop.set()

    # --- main loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        cfg = self.config
        while not self._stop.is_set():
            if self._to_restore:
                async with self._lock:
                    await self._restore_assigned()
            timeout = 10 if self._blocked_since is not None else cfg.poll_timeout_ms
            fetched = await self._consumer.getmany(timeout_ms=timeout, max_records=cfg.max_records)
            async with self._lock:
                self._add(fetched)
                await self._step()
                if (time.monotonic() - self._last_commit) * 1000 >= cfg.commit_interval_ms:
                    await self._commit()

    def _add(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        chosen: dict[int, list[tuple[int, bytes | None]]] = {}
        for tp, records in fetched.items():
            state = self._parts.get(tp.partition)
            if state is None or tp.topic != self.ticks_topic or not records:
                continue  # revoked meanwhile, or not restored yet
            floor = state.position if state.position is not None else -1
            chosen[tp.partition] = [(r.offset, r.value) for r in records if r.offset >= floor]
        if not any(chosen.values()):
            return
        self.stats.records += sum(len(v) for v in chosen.values())
        for p, seg in decode_fetch(chosen).items():
            self._pending.add(p, seg)
            if self._pending.rows(p) > self.config.max_pending_rows and p not in self._paused:
                self._consumer.pause(TopicPartition(self.ticks_topic, p))
                self._paused.add(p)

    async def _step(self) -> None:
        t0 = time.perf_counter()
        events: list[Event] = []
        refs = self._follower.drain()
        if len(refs):
            events.extend(self._observe(refs.symbols, refs.ts, refs.price))
        cut = self._cut()
        if cut is not None:
            events.extend(await self._process(cut))
        if events:
            await self._emit(events)
        await self._publish_progress()
        for p in [p for p in self._paused if self._pending.rows(p) <= self.config.max_pending_rows // 2]:
            self._consumer.resume(TopicPartition(self.ticks_topic, p))
            self._paused.discard(p)
        if cut is not None or events:
            self.stats.steps += 1
            self.stats.last_step_ms = (time.perf_counter() - t0) * 1000
            if self._on_step is not None:
                self._on_step(self.stats)

    def _observe(self, symbols: list[str], ts: list[int], price: list[float]) -> list[Event]:
        """Feed reference points the engine does not have yet (own partitions' points come back too)."""
        refs = self.engine.pegs.refs
        keep = [
            i
            for i, (s, t) in enumerate(zip(symbols, ts, strict=True))
            if not refs[s].ts or t > refs[s].ts[-1]
        ]
        self.stats.ref_points_in += len(keep)
        if not keep:
            return []
        return self.engine.observe_reference(
            [symbols[i] for i in keep], [ts[i] for i in keep], [price[i] for i in keep]
        )

    # --- the reference gate ----------------------------------------------------------------------

    def _until(self, ref: str) -> int:
        remote = self._follower.until.get(ref, UNKNOWN)
        state = self._parts.get(self._ref_partition[ref])
        if state is None:
            return remote
        first = self._pending.first_ts(self._ref_partition[ref])
        return max(remote, first if first is not None else state.last_ts)

    def _cut(self) -> Cut | None:
        if not self._pending:
            return None
        gating = [r for r, deps in self._dependents.items() if deps & self._parts.keys()]
        until = {r: self._until(r) for r in gating}
        for r in [r for r, u in self._stale.items() if until.get(r, UNKNOWN) > u]:
            del self._stale[r]  # it moves again: it gates again
        wait_ms = self.engine.config.pegs.ref_max_wait_s * 1000
        limit = gate_limit(gating, until, wait_ms, set(self._stale))
        cut = self._pending.cut(limit)
        if cut is not None and len(cut):
            self._blocked_since = None
            return cut
        if cut is None:
            self.stats.gate_blocked_steps += 1
            now = time.monotonic()
            if self._blocked_since is None:
                self._blocked_since = now
            elif (now - self._blocked_since) * 1000 >= self.config.ref_gate_timeout_ms:
                for r in gating:
                    self._stale.setdefault(r, until.get(r, UNKNOWN))
                self.stats.gate_timeouts += 1
                log.warning("process.ref_gate_timeout", refs=sorted(gating), until=until)
                self._blocked_since = None
                return self._pending.cut(None)
        return cut

    # --- processing and output -------------------------------------------------------------------

    async def _process(self, cut: Cut) -> list[Event]:
        n_symbols = self.engine.stats.symbols
        events = self.engine.process(cut.batch) if len(cut) else []
        if self.engine.stats.symbols != n_symbols:
            self._register_symbols(cut.symbols_by_partition)
        for p, pos in cut.positions.items():
            self._parts[p].position = pos
        await self._publish_ref_points(cut)
        for bad in cut.bad:
            key, value = reject_for(self.ticks_topic, bad)
            await self.output.send(bad.partition, self.kafka.topics.rejects, value, key)
        self.stats.ticks += len(cut)
        self.stats.rejects += len(cut.bad)
        return events

    def _register_symbols(self, by_partition: dict[int, list[str]]) -> None:
        for p, symbols in by_partition.items():
            new = set(symbols) - self._part_of.keys()
            if new:
                self._parts[p].symbols |= new
                self._part_of.update(dict.fromkeys(new, p))

    async def _publish_ref_points(self, cut: Cut) -> None:
        """Every tick of a reference symbol on an owned partition becomes a point on the refprices topic;
        also track each partition's largest processed ts (reference progress)."""
        ref_parts = {p for p in self._ref_partition.values() if p in cut.positions}
        if not ref_parts or not len(cut):
            return
        topic = self.kafka.topics.refprices
        refs = self._ref_partition
        part = cut.partition_of_row
        for p in ref_parts:
            rows = (part == p).nonzero()[0]
            if rows.size == 0:
                continue
            state = self._parts[p]
            state.last_ts = max(state.last_ts, int(cut.batch.ts[rows].max()))
            syms = cut.batch.symbols
            for i in rows.tolist():
                s = syms[i]
                if s in refs and refs[s] == p:
                    t, px = int(cut.batch.ts[i]), float(cut.batch.price[i])
                    await self.output.send(p, topic, encode_ref(s, t, px, t), s.encode())
                    self.stats.ref_records_out += 1

    async def _publish_progress(self) -> None:
        """For each reference on an owned partition: a progress record when its progress advanced."""
        refs = self.engine.pegs.refs
        for ref, p in self._ref_partition.items():
            if p not in self._parts:
                continue
            u = self._until(ref)
            if u <= self._published_until.get(ref, UNKNOWN):
                continue
            self._published_until[ref] = u
            hist = refs[ref]
            ts, px = (hist.ts[-1], hist.price[-1]) if hist.ts else (None, None)
            await self.output.send(p, self.kafka.topics.refprices, encode_ref(ref, ts, px, u), ref.encode())
            self.stats.ref_records_out += 1

    async def _emit(self, events: list[Event]) -> None:
        topics = self.kafka.topics
        for ev in events:
            p = self._part_of.get(ev.symbol)
            if p is None or p not in self._parts:
                p = self._router.route(ev.symbol)[1]
            state = self._parts.get(p)
            if state is not None:
                state.dirty = True
            elif self.output.transactional:
                p = min(self._parts)  # an owned partition's transaction must carry it
            topic = topics.moves if ev.type == "move" else topics.pegs
            await self.output.send(p, topic, ev.to_json(), ev.symbol.encode())
            if ev.type == "move":
                self.stats.moves += 1
            else:
                self.stats.pegs += 1

    # --- commit, checkpoint ----------------------------------------------------------------------

    async def _commit(self, checkpoint: bool = False) -> None:
        self._last_commit = time.monotonic()
        if not self._parts:
            return
        if isinstance(self.output, TransactionalOutput):
            await self._commit_transactions(self.output)
            return
        await self.output.settle()
        due = (time.monotonic() - self._last_checkpoint) * 1000 >= self.config.checkpoint_interval_ms
        if checkpoint or due:
            await asyncio.gather(*(self._checkpoint(p) for p in self._checkpoint_candidates()))
            self._last_checkpoint = time.monotonic()
        offsets = {
            TopicPartition(self.ticks_topic, p): s.position
            for p, s in self._parts.items()
            if s.position is not None and s.position != s.committed
        }
        if offsets:
            await self._consumer.commit(offsets)
            for tp, pos in offsets.items():
                self._parts[tp.partition].committed = pos
            self.stats.commits += 1

    def _checkpoint_candidates(self) -> list[int]:
        return [
            p
            for p, s in self._parts.items()
            if s.position is not None and (s.position != s.checkpointed or s.dirty)
        ]

    async def _checkpoint(self, p: int) -> None:
        state = self._parts[p]
        assert state.position is not None
        slot = "a" if state.slot == "b" else "b"
        data = self.engine.snapshot(state.symbols)
        if isinstance(self.output, TransactionalOutput):
            producer = await self.output.begin(p)
        else:
            producer = self.output.producer(p)
        size = await write_checkpoint(producer, self.checkpoint_topic, p, state.position, slot, data)
        state.slot, state.checkpointed, state.dirty = slot, state.position, False
        self.stats.checkpoints += 1
        self.stats.checkpoint_bytes += size

    async def _commit_transactions(self, output: TransactionalOutput) -> None:
        todo = [p for p in self._checkpoint_candidates() if p in self._parts] + [
            p for p in output.owned() if output.in_transaction(p) and p in self._parts
        ]
        todo = sorted(set(todo))
        if not todo:
            return
        try:
            await output.settle()

            async def one(p: int) -> None:
                state = self._parts[p]
                if state.position is not None:
                    await self._checkpoint(p)
                    tp = TopicPartition(self.ticks_topic, p)
                    await output.commit(p, {tp: state.position}, self.config.group)
                    state.committed = state.position
                else:  # nothing consumed yet, only output (cannot happen before a position exists)
                    await output.commit(p, {}, self.config.group)

            await asyncio.gather(*(one(p) for p in todo))
            self.stats.commits += 1
        except (KafkaError, CommitFailedError) as exc:
            log.error("process.transaction_failed", error=str(exc), partitions=todo)
            self.stats.aborts += 1
            await output.abort()
            self._rewind_all()

    def _rewind_all(self) -> None:
        """After an aborted transaction: forget all state, restore every partition from its checkpoint."""
        owned = sorted(self._parts)
        self._forget(owned)
        self._to_restore |= set(owned)
        for p in owned:
            self._consumer.pause(TopicPartition(self.ticks_topic, p))

    def _forget(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            state = self._parts.pop(p, None)
            if state is not None:
                self.engine.drop(state.symbols)
                for s in state.symbols:
                    self._part_of.pop(s, None)
            self._pending.discard([p])
            self._paused.discard(p)

    # --- rebalance -------------------------------------------------------------------------------

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self.stats.rebalances += 1
            self._previously_owned = set(self._parts)
            self._revoke_clean = True
            try:
                await self._commit(checkpoint=True)
            except (KafkaError, CommitFailedError) as exc:
                log.warning("process.revoke_commit_failed", error=str(exc))
                self._revoke_clean = False
            # Positions restart at the committed offsets after the rebalance: fetched records go.
            self._pending.clear()
            self._paused.clear()
            self._blocked_since = None

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._lock:
            mine = {tp.partition for tp in assigned if tp.topic == self.ticks_topic}
            kept = mine & set(self._parts) if self._revoke_clean else set()
            lost = set(self._parts) - kept
            self._forget(lost)
            if isinstance(self.output, TransactionalOutput):
                for p in lost - mine:
                    await self.output.close(p)
            new = mine - kept
            self._to_restore = (self._to_restore & mine) | new
            for p in self._to_restore:
                self._consumer.pause(TopicPartition(self.ticks_topic, p))
            log.info("process.assigned", partitions=sorted(mine), kept=sorted(kept), restore=sorted(new))

    async def _restore_assigned(self) -> None:
        """Restore state for newly assigned partitions: fence (exactly-once), checkpoint, seek, resume."""
        todo = sorted(self._to_restore)
        self._to_restore = set()
        assigned = {tp.partition for tp in self._consumer.assignment() if tp.topic == self.ticks_topic}
        for p in todo:
            if p not in assigned:
                continue
            tp = TopicPartition(self.ticks_topic, p)
            if isinstance(self.output, TransactionalOutput):
                await self.output.open(p)  # fences the previous owner before we read its commits
            before = set(self.engine.symbols())
            cp = await read_checkpoint(self._cp_reader, self.checkpoint_topic, p)
            committed = await self._consumer.committed(tp)
            state = _PartitionState(committed=committed)
            if cp is not None:
                self.engine.restore(cp.data)
                state.symbols = set(self.engine.symbols()) - before
                state.position = state.checkpointed = cp.offset
                state.slot = cp.slot
                self._consumer.seek(tp, cp.offset)
                self.stats.restores += 1
            else:
                state.position = committed
                if committed is not None:
                    self.stats.cold_starts += 1
                    log.warning("process.no_checkpoint", partition=p, committed=committed)
            self._part_of.update(dict.fromkeys(state.symbols, p))
            self._parts[p] = state
            log.info(
                "process.restored",
                partition=p,
                checkpoint=None if cp is None else cp.offset,
                committed=committed,
                symbols=len(state.symbols),
            )
        # Reference points published before the checkpoints were taken must be in before we go on.
        await self._follower.catch_up(timeout_s=30.0)
        resume = [TopicPartition(self.ticks_topic, p) for p in todo if p in self._parts]
        if resume:
            self._consumer.resume(*resume)
