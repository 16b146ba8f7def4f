"""``Processor``: one member of the ``ticker-process`` consumer group (design: docs/processing.md).

Per poll: ``getmany`` -> one batch decode for all partitions -> pending buffer -> the references'
horizons to the engine (pegged ticks wait there, nothing else does) -> a cut of everything pending,
merged by event time -> one ``Engine.process`` -> events (key = symbol) to the moves
pegs and quality topics, dead letters to the rejects topic, reference points and progress to the group's
refprices topic. Then, every ``commit_interval_ms``: at-least-once waits for the acks (and every
``checkpoint_interval_ms`` checkpoints and commits the offsets); exactly-once commits each partition's
transaction with its checkpoint and offsets inside.

Lifecycle: ``async with Processor(...) as proc: await proc.run()``; :meth:`request_stop` (SIGTERM)
makes ``run`` return after the current step, and leaving the block commits (unless a step, a send or a
settle failed: then nothing is committed past the last good commit) and leaves the group.
Rebalances (``rebalance.py``): the listener commits everything on revoke and only *pauses* newly
assigned partitions; the main loop restores them from their checkpoints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from tickerstream.engine import Engine, EngineConfig
from tickerstream.errors import TopicError
from tickerstream.events import Event
from tickerstream.kafka.admin import (
    TopicSpec,
    ensure_topics,
    missing_topics,
    refprices_topic_spec,
    topic_specs_for,
)
from tickerstream.kafka.outputs import AtLeastOnceOutput, TransactionalOutput
from tickerstream.kafka.partitioner import KeyRouter
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.log import get_logger
from tickerstream.metrics import AnyMarketGauges, AnyMetrics
from tickerstream.processor.checkpoints import CHECKPOINT_TOPIC_CONFIGS
from tickerstream.processor.commit import Committer
from tickerstream.processor.config import (
    ProcessorConfig,
    ProcessorStats,
    checkpoint_topic_for,
    refprices_topic_for,
)
from tickerstream.processor.dlq import reject_for
from tickerstream.processor.gate import RefGate
from tickerstream.processor.metrics import ProcessorMetrics
from tickerstream.processor.ownership import Ownership
from tickerstream.processor.pending import Cut, PendingTicks, decode_fetch
from tickerstream.processor.rebalance import RebalanceListener, Rebalancing
from tickerstream.processor.recovery import Recovery
from tickerstream.processor.refprices import RefFollower

log = get_logger(__name__)

__all__ = ["Processor", "ProcessorConfig", "ProcessorStats", "checkpoint_topic_for", "refprices_topic_for"]

#: Poll time-out while fetched ticks are pending: come back soon to feed them. (A step takes all that
#: is pending, so this only matters if a step ever leaves rows behind.)
PENDING_POLL_MS = 10
#: Sends handed to the client but not yet acknowledged before a step waits for them (bounds memory).
MAX_UNSETTLED_SENDS = 50_000


class Processor(Rebalancing):
    def __init__(
        self,
        kafka: KafkaSettings,
        engine_config: EngineConfig | None = None,
        config: ProcessorConfig | None = None,
        on_step: Callable[[ProcessorStats], None] | None = None,
        *,
        metrics: AnyMetrics | None = None,
        markets: AnyMarketGauges | None = None,
    ) -> None:
        """``metrics``/``markets``: Prometheus metrics fed per step (default: none, ``NoMetrics``)."""
        self.kafka = kafka
        self.config = cfg = config or ProcessorConfig()
        self.engine = Engine(engine_config)
        self.stats = ProcessorStats()
        self._on_step = on_step
        t = kafka.topics
        self.ticks_topic = t.ticks
        self.metrics = ProcessorMetrics(t.ticks, metrics, markets)
        # One checkpoint topic per group: checkpoints are a group's state, and two groups on the same
        # ticks (say production and a staging config) must neither restore nor overwrite each other's.
        self.checkpoint_topic = cfg.checkpoint_topic or checkpoint_topic_for(t.ticks, cfg.group)
        # Reference points and progress are a group's state as well: another group (or a re-run under a
        # new group) reading a shared topic would find newer points and progress than its own, refuse
        # its older points and open its gate early, so its cross-partition pegs would differ from a replay.
        self.refprices_topic = cfg.refprices_topic or refprices_topic_for(t.refprices, cfg.group)
        router = KeyRouter(kafka.ticks_partitions)
        by_ref = self.engine.pegs.by_ref
        ref_partition = {r: router.route(r)[1] for r in by_ref}
        bootstrap = kafka.bootstrap_servers
        security = kafka.client_kwargs()
        if cfg.exactly_once:
            prefix = f"{cfg.transactional_id_prefix}.{cfg.group}.{t.ticks}"
            self.output: AtLeastOnceOutput | TransactionalOutput = TransactionalOutput(
                bootstrap, prefix, **security
            )
        else:
            self.output = AtLeastOnceOutput(bootstrap, **security)
        self._follower = RefFollower(bootstrap, self.refprices_topic, by_ref, **security)
        self._recovery = Recovery(bootstrap, self.checkpoint_topic, **security)
        self._consumer = AIOKafkaConsumer(
            **security,
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
            metadata_max_age_ms=cfg.metadata_max_age_ms,
        )
        self.owned = Ownership()  # owned and restored partitions
        self._committer = Committer(
            cfg, self.engine, self.owned, self.output, self._consumer, self._recovery, self.stats, t.ticks
        )
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._to_restore = set()
        self._to_verify = set()
        self._started_over = set()
        self._revoke_clean = True
        self._pending = PendingTicks()
        self._paused: set[int] = set()
        self._gate = RefGate(
            self.engine,
            ref_partition,
            self._follower,
            self.owned,
            self._pending,
            self.stats,
            timeout_ms=cfg.ref_gate_timeout_ms,
        )
        self._started = False
        #: Set when a step, a send or a settle raised: what was processed since the last commit may
        #: not all be out, so nothing may be committed on the way out (a successor repeats it).
        self.failed = False

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check/create the topics, read the reference prices, join the group."""
        checkpoints = TopicSpec(
            self.checkpoint_topic,
            self.kafka.ticks_partitions,
            self.kafka.replication_factor,
            CHECKPOINT_TOPIC_CONFIGS,
        )
        refprices = refprices_topic_spec(self.refprices_topic, self.kafka.replication_factor)
        specs = [*topic_specs_for(self.kafka), checkpoints, refprices]
        await ensure_topics(
            self.kafka.bootstrap_servers,
            specs,
            create=self.kafka.create_topics,
            client_kwargs=self.kafka.client_kwargs(),
        )
        await self.output.start()
        await self._follower.start()
        await self._recovery.start()
        self._consumer.subscribe([self.ticks_topic], listener=RebalanceListener(self))
        await self._consumer.start()
        self._started = True
        log.info(
            "process.started",
            group=self.config.group,
            exactly_once=self.config.exactly_once,
            ticks=self.ticks_topic,
            checkpoints=self.checkpoint_topic,
            refprices=self.refprices_topic,
        )

    async def stop(self) -> None:
        """Graceful: commit what was processed (with checkpoints), leave the group, close clients.

        After a failure (:attr:`failed`) nothing is committed: a failed delivery or a step cut in half
        means the output may lack events of ticks already processed, and committing their offsets (or
        an open transaction) would lose them for good. Exactly-once aborts its open transactions."""
        if self._started:
            async with self._lock:
                if self.failed:
                    log.warning("process.failed_no_final_commit", **self.stats.as_dict())
                    if isinstance(self.output, TransactionalOutput):
                        await self.output.abort()
                else:
                    try:
                        await self._commit(checkpoint=True)
                    except (KafkaError, CommitFailedError) as exc:
                        log.warning("process.final_commit_failed", error=str(exc))
            await self._consumer.stop()  # sends LeaveGroup: the others rebalance at once
            self._started = False
        else:  # start() failed part-way: close the client it built, so nothing leaks a warning
            await self._consumer.stop()
        await self._recovery.stop()
        await self._follower.stop()
        await self.output.stop()
        log.info("process.stopped", **self.stats.as_dict())

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()  # __aexit__ does not run when __aenter__ fails: close what start() opened
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def request_stop(self) -> None:
        self._stop.set()

    def assigned(self) -> list[int]:
        """Ticks partitions the group gave us (restored or still being restored)."""
        return sorted(tp.partition for tp in self._consumer.assignment() if tp.topic == self.ticks_topic)

    # --- main loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        cfg = self.config
        while not self._stop.is_set():
            if self._to_restore:  # assigned by the last rebalance (``rebalance.py``)
                async with self._lock:
                    await self._restore_assigned()
            timeout = PENDING_POLL_MS if self._pending else cfg.poll_timeout_ms
            fetched = await self._consumer.getmany(timeout_ms=timeout, max_records=cfg.max_records)
            async with self._lock:
                try:
                    self._add(fetched)
                    await self._step()
                    self.metrics.lag(self._consumer, self.owned)
                    if self._committer.due():
                        try:
                            await self._commit()
                        except CommitFailedError as exc:  # the group moved on; the revoke handles it
                            log.warning("process.commit_failed", error=str(exc))
                            self._revoke_clean = False
                except KafkaError as exc:
                    self.failed = True
                    await self._explain_failure(exc)
                    raise
                except BaseException:  # a send, a settle or the step itself (even cancelled half-way)
                    self.failed = True
                    raise

    async def _explain_failure(self, exc: KafkaError) -> None:
        """A delivery failed: if an output topic is gone (deleted while we run), say that instead of
        the client's ``NotLeaderForPartitionError`` or time-out, which reads like a broker fault."""
        t = self.kafka.topics
        outputs = [t.moves, t.pegs, t.quality, t.rejects, self.refprices_topic, self.checkpoint_topic]
        try:
            gone = await missing_topics(
                self.kafka.bootstrap_servers, outputs, client_kwargs=self.kafka.client_kwargs()
            )
        except (KafkaError, OSError, TimeoutError):
            return  # the broker itself is away: the original error says enough
        if gone:
            raise TopicError(
                f"output topic(s) {', '.join(gone)} no longer exist (deleted while ticker-process ran): "
                "nothing was committed past the last delivered step; re-create them (ticker-process "
                "creates missing topics at start) and restart"
            ) from exc

    def _add(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        chosen: dict[int, list[Any]] = {}
        for tp, records in fetched.items():
            if tp.partition not in self.owned or tp.topic != self.ticks_topic or not records:
                continue  # revoked meanwhile, or not restored yet
            pos = self.owned[tp.partition].position
            if pos is not None and records[0].offset < pos:
                if self._went_back(tp, pos, records[0].offset):
                    continue
                records = [r for r in records if r.offset >= pos]
            chosen[tp.partition] = records
        if not any(chosen.values()):
            return
        self.stats.records += sum(len(v) for v in chosen.values())
        now_ms = int(time.time() * 1000)
        for p, seg in decode_fetch(chosen, now_ms=now_ms, max_future_ms=self.config.max_future_ms).items():
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
        # Pegged ticks the references' progress now allows (before the cut: its watermark must meet
        # the new horizons), then every fetched tick: nothing of the cut waits for a reference.
        events.extend(self._gate.release())
        cut = self._gate.cut()
        if cut is not None:
            events.extend(await self._process(cut))
        if events:
            await self._emit(events)
        await self._send_refs(self._gate.progress_records())
        for p in [p for p in self._paused if self._pending.rows(p) <= self.config.max_pending_rows // 2]:
            self._consumer.resume(TopicPartition(self.ticks_topic, p))
            self._paused.discard(p)
        if self.output.inflight > MAX_UNSETTLED_SENDS:
            await self.output.settle()
        if cut is not None or events:
            took = time.perf_counter() - t0
            self.stats.steps += 1
            self.stats.last_step_ms = took * 1000
            self.metrics.step(self.engine, cut, events, took)
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

    # --- processing and output -------------------------------------------------------------------

    async def _process(self, cut: Cut) -> list[Event]:
        n_symbols = self.engine.stats.symbols
        events = self.engine.process(cut.batch)  # also when empty: points_of reads its reference mask
        if self.engine.stats.symbols != n_symbols:
            self.owned.register(cut.symbols_by_partition)
        for p, pos in cut.positions.items():
            self.owned[p].position = pos
        await self._send_refs(self._gate.points_of(cut))
        for bad in cut.bad:
            key, value = reject_for(self.ticks_topic, bad)
            await self.output.send(bad.partition, self.kafka.topics.rejects, value, key)
        self.stats.ticks += len(cut)
        self.stats.rejects += len(cut.bad)
        return events

    async def _send_refs(self, records: list[tuple[int, bytes, bytes]]) -> None:
        """Reference points and progress for the other instances (the gate says which)."""
        for partition, value, key in records:
            await self.output.send(partition, self.refprices_topic, value, key)
        self.stats.ref_records_out += len(records)

    async def _emit(self, events: list[Event]) -> None:
        topics = self.kafka.topics
        if not len(self.owned):  # cannot happen: events come from owned symbols only
            log.error("process.events_without_partitions", events=len(events))
            return
        first = self.owned.owned()[0]
        for ev in events:
            p = self.owned.charge(ev.symbol, fallback=first)
            # Source events (a frozen or resumed source) are data quality too: the quality topic.
            topic = {"move": topics.moves, "peg": topics.pegs}.get(ev.type, topics.quality)
            await self.output.send(p, topic, ev.to_json(), ev.symbol.encode())
            if ev.type == "move":
                self.stats.moves += 1
            elif ev.type == "peg":
                self.stats.pegs += 1
            else:
                self.stats.quality += 1

    # --- commit --------------------------------------------------------------------------------

    async def _commit(self, checkpoint: bool = False) -> None:
        commits, t0 = self.stats.commits, time.perf_counter()
        ok = await self._committer.commit(checkpoint)
        if self.stats.commits != commits:  # offsets (and their checkpoints) were committed
            self.metrics.committed(time.perf_counter() - t0)
        if not ok:
            self._rewind_all()

    def _rewind_all(self) -> None:
        """After an aborted transaction: forget all state, restore every partition from its checkpoint."""
        owned = self.owned.owned()
        self.owned.forget(owned, self.engine)
        self._pending.discard(owned)
        self._paused.clear()
        self._to_restore |= set(owned)
        self._consumer.pause(*(TopicPartition(self.ticks_topic, p) for p in owned))

    # --- a ticks topic that was re-created under us ----------------------------------------------

    def _went_back(self, tp: TopicPartition, pos: int, first: int) -> bool:
        """Records before our position: did the partition start over? If so, restore it afresh.

        The client resets a position beyond the partition's end to its beginning without a word
        (``auto_offset_reset``); dropping those records as "already processed" would skip the whole
        re-created topic. The high watermark (from the fetch, no request) below our position proves
        the records we processed are gone. Otherwise (never seen) the repeats are dropped, loudly."""
        high = self._consumer.highwater(tp)
        if high is None or high >= pos:
            log.warning("process.records_behind_position", partition=tp.partition, position=pos, first=first)
            return False
        log.error(
            "process.offset_beyond_end",
            partition=tp.partition,
            position=pos,
            end=high,
            detail="the ticks topic was re-created or truncated: this partition's state is dropped "
            "and it is read again from its beginning",
        )
        self.owned.forget([tp.partition], self.engine)
        self._pending.discard([tp.partition])
        self._paused.discard(tp.partition)
        self._to_restore.add(tp.partition)
        self._started_over.add(tp.partition)
        self._consumer.pause(tp)
        return True
