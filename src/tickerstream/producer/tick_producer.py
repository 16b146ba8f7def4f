"""``TickProducer``: ticks and rejects to Kafka, batched per partition, idempotent, with bounded memory.

Why not ``AIOKafkaProducer.send()`` per tick: every call creates a future, takes the accumulator's
path for one record and costs several microseconds of Python; at hundreds of thousands of ticks a
second that is the whole budget. Instead the producer routes each tick itself (Kafka's murmur2
partitioner, :mod:`tickerstream.kafka.partitioner`, so every client agrees where a symbol lives),
appends it to an open record batch of its partition (``create_batch()`` / ``append()``), and hands
whole batches to aiokafka (``send_batch()``): one future per batch, not per record.

Delivery:

* idempotence on, ``acks=all``: retries inside aiokafka never duplicate or reorder a partition's records;
* a batch is submitted when it is full, when :meth:`TickProducer.flush` is called, or ``linger_ms`` after
  its first record (so a slow trickle of ticks is not held back);
* per partition, batches are submitted in the order they were closed (one FIFO queue for all closes), so
  a symbol's ticks keep their order on the topic;
* outages: a batch whose delivery failed with an error that may pass (a time-out, a lost connection,
  a leader change) is sent again, in the order of the failures and before any new batch, with
  exponential backoff, for up to ``delivery_timeout_s``
  from its first failure (default 10 min; 0 = never retry). Only then, or on an error that cannot pass
  (authorisation, a record too large), does the producer fail. A retry may repeat a batch the broker
  had written without acknowledging it: repeats are identical ticks (at-least-once, like the
  processor's), never gaps. A batch handed over while an earlier one's failure was not yet reported
  may land before that one's retry (per-partition order is best effort across an outage);
* back-pressure: at most ``max_in_flight`` submitted batches wait for their acks; past that,
  ``send_ticks`` awaits the oldest, so a slow broker slows the reader instead of growing memory.
  Memory is bounded by about ``(max_in_flight + 2 x partitions) x batch_bytes``.
* the record timestamp we send is the tick's event time ``ts``. Topics created by tickerstream
  replace it with the broker's append time (LogAppendTime, so retention counts from when a tick was
  written; see docs/kafka.md); on a CreateTime topic of someone else's it is kept, except for a ``ts``
  further in the future than the broker accepts (Kafka 4 refuses CreateTime more than
  ``log.message.timestamp.after.max.ms``, 1 h, ahead, and with it the whole batch): such records get the
  wall-clock time instead. The tick's JSON always keeps its ``ts``.

Typical use::

    async with TickProducer(ProducerConfig(bootstrap_servers="127.0.0.1:9092")) as producer:
        await producer.send_ticks(result.ticks)        # or send_encoded(symbols, ts, json_values)
        await producer.send_rejects(result.rejects)
    # leaving the block flushed everything and waited for the acks

Counters live in :class:`ProduceStats` (a hook for metrics: count per batch, never per tick).
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, BinaryIO, Self

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError
from aiokafka.record.default_records import DefaultRecordBatch

from tickerstream.errors import ProduceError
from tickerstream.kafka.partitioner import KeyRouter
from tickerstream.kafka.settings import DEFAULT_BOOTSTRAP, TopicNames
from tickerstream.log import get_logger
from tickerstream.model import TICK_SCHEMA_VERSION, TICK_SCHEMA_VERSIONS, Reject, Tick
from tickerstream.producer.archive import AckedArchive, ArchiveSink
from tickerstream.producer.clock import DEFAULT_MAX_FUTURE_MS
from tickerstream.producer.encoding import SYMBOL_SOURCE_VERSION, page_symbols_only, tick_encoder

log = get_logger(__name__)

#: Compression codecs aiokafka knows; all but gzip need the ``cramjam`` package.
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
#: Record timestamps may be at most this far ahead of the wall clock (below Kafka 4's 1 h default).
MAX_FUTURE_TS_MS = 30 * 60 * 1000


def default_codec() -> str:
    """zstd when ``cramjam`` is installed (fast and smallest on tick JSON: docs/benchmarks.md), else gzip.

    aiokafka compresses lz4 at level 9 (slow) and gzip at ~70 MB/s; zstd runs at ~1 GB/s with ratio ~11.
    """
    return "zstd" if importlib.util.find_spec("cramjam") is not None else "gzip"


@dataclass(frozen=True)
class ProducerConfig:
    """Where to produce and how to batch. Defaults are the measured ones (docs/benchmarks.md)."""

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    ticks_topic: str = TopicNames.ticks
    rejects_topic: str = TopicNames.rejects
    #: ``none``, ``gzip``, ``snappy``, ``lz4``, ``zstd``; ``None`` picks :func:`default_codec`.
    compression: str | None = None
    #: Uncompressed bytes per record batch (aiokafka ``max_batch_size``); the broker caps a batch at
    #: ``message.max.bytes`` (1 MiB) after compression.
    batch_bytes: int = 512 * 1024
    #: Longest a record waits in a partly filled batch before the batch is sent anyway.
    linger_ms: int = 20
    #: Submitted batches awaiting their ack before ``send_ticks`` waits (back-pressure).
    max_in_flight: int = 16
    request_timeout_ms: int = 30_000
    #: How long a batch whose delivery failed with a passing error (time-out, broker down) is retried,
    #: counted from its first failure. An outage shorter than this loses nothing; 0 = fail at once.
    delivery_timeout_s: float = 600.0
    #: Longest pause between two retries (they start at 0.5 s and double).
    retry_backoff_max_s: float = 10.0
    client_id: str = "ticker-produce"
    #: Schema version of every tick record written (topic and archive): 3, or 2 or 1 for consumers
    #: that validate against a frozen schema (``--tick-version``; README "Tick schema versions").
    tick_version: int = TICK_SCHEMA_VERSION
    #: Clock-skew allowance: a snapshot (or a recorded tick) stamped more than this ahead of this
    #: machine's clock is not sent; its ticks become ``invalid_tick`` rejects saying where the time
    #: came from (file name, mtime, ``--ts``) and what to fix (``producer/clock.py``). 0: no check.
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS
    #: Connection security for aiokafka (``KafkaSettings.client_kwargs()``); holds the SASL password.
    client_options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.compression is not None and self.compression not in CODECS:
            raise ValueError(f"compression must be one of {', '.join(CODECS)}, got {self.compression!r}")
        if self.batch_bytes < 1024:
            raise ValueError(f"batch_bytes must be at least 1024, got {self.batch_bytes}")
        if self.linger_ms < 0 or self.max_in_flight < 1:
            raise ValueError("linger_ms must be >= 0 and max_in_flight >= 1")
        if not self.delivery_timeout_s >= 0 or not self.retry_backoff_max_s > 0:
            raise ValueError("delivery_timeout_s must be >= 0 and retry_backoff_max_s > 0")
        if self.max_future_ms < 0:
            raise ValueError(f"max_future_ms must be >= 0, got {self.max_future_ms}")
        if self.tick_version not in TICK_SCHEMA_VERSIONS:
            versions = ", ".join(map(str, TICK_SCHEMA_VERSIONS))
            raise ValueError(f"tick_version must be one of {versions}, got {self.tick_version!r}")


@dataclass
class ProduceStats:
    """What a producer has done so far. ``*_acked`` counts records the broker has acknowledged.

    Updated per batch or per call, never per tick, so reading it (progress logs, Prometheus) is free.
    ``snapshots``, ``lines_read`` and ``bytes_read`` are the reader's side, kept here so one object
    describes a whole ``ticker-produce`` run.
    """

    snapshots: int = 0
    lines_read: int = 0
    bytes_read: int = 0
    ticks_sent: int = 0
    ticks_acked: int = 0
    rejects_sent: int = 0
    rejects_acked: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    batches_sent: int = 0
    batches_acked: int = 0
    #: Bytes of acknowledged record batches as sent (after compression).
    bytes_sent: int = 0
    delivery_errors: int = 0
    #: Batches sent again after a delivery failure that could pass (an outage).
    batches_retried: int = 0
    #: Records whose event time was too far ahead of the clock to be the Kafka timestamp.
    future_ts_clamped: int = 0
    #: Snapshots stamped further ahead of the clock than ``max_future_ms``: their ticks became rejects.
    future_snapshots: int = 0


@dataclass
class _Route:
    """One topic's routing state: its partitions' open batches and the key router."""

    topic: str
    router: KeyRouter
    open: dict[int, Any] = field(default_factory=dict)  # partition -> aiokafka BatchBuilder


class TickProducer:
    """Async producer of ticks (to the ticks topic, key = symbol) and rejects (to the rejects topic).

    Lifecycle: ``await start()`` ... ``await stop()``, or ``async with``. ``stop()`` flushes first: every
    record accepted by ``send_ticks``/``send_rejects`` is sent and acknowledged (or a
    :class:`ProduceError` is raised). Not thread-safe; use it from one event loop.
    """

    def __init__(
        self,
        config: ProducerConfig | None = None,
        *,
        stats: ProduceStats | None = None,
        archive: BinaryIO | ArchiveSink | None = None,
        on_acked: Callable[[int, float], None] | None = None,
    ) -> None:
        """``archive``: a binary file that receives each tick's JSON as one line (the replay format),
        or an :class:`~tickerstream.producer.archive.ArchiveSink` (Parquet), once Kafka has
        acknowledged it, in the order the ticks were accepted; ticks of a batch that is never
        acknowledged stay out (:class:`~tickerstream.producer.archive.AckedArchive`).
        ``on_acked(records, seconds)`` is called once per acknowledged record batch with the time from
        handing it to aiokafka to the ack (for metrics)."""
        self.config = config or ProducerConfig()
        self.stats = stats or ProduceStats()
        self.archive = AckedArchive(archive) if archive is not None else None
        self._on_acked = on_acked
        self.compression = self.config.compression or default_codec()
        #: Encodes one tick as a record of ``config.tick_version`` (what ``send_encoded`` expects).
        self.encode: Callable[[Tick], bytes] = tick_encoder(self.config.tick_version)
        self._producer: Any = None
        self._ticks: _Route | None = None
        self._rejects: _Route | None = None
        # Closed batches waiting to be handed to aiokafka, in close order: (topic, partition, batch,
        # record count, is-ticks). One queue for every close keeps each partition's batches in order.
        self._ready: deque[tuple[str, int, Any, int, bool]] = deque()
        #: Batches whose delivery failed but may be retried: (topic, partition, batch, count, is-ticks,
        #: monotonic time of the first failure, the batch as first built), in failure order (per
        #: partition: submission order). The first build names the batch for the archive across retries.
        self._failed: deque[tuple[str, int, Any, int, bool, float, Any]] = deque()
        self._retry_round = 0
        self._last_retry_log = 0.0
        self._retry_task: asyncio.Task[None] | None = None
        self._in_flight: deque[asyncio.Future[Any]] = deque()
        self._pump_lock = asyncio.Lock()
        self._linger_handle: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, and learn the partition counts of both topics (they must exist)."""
        if self._producer is not None:
            raise RuntimeError("TickProducer already started")
        cfg = self.config
        producer = AIOKafkaProducer(
            bootstrap_servers=cfg.bootstrap_servers,
            client_id=cfg.client_id,
            enable_idempotence=True,
            acks="all",
            compression_type=None if self.compression == "none" else self.compression,
            max_batch_size=cfg.batch_bytes,
            max_request_size=max(cfg.batch_bytes, 1024 * 1024),
            linger_ms=0,  # batching is ours; a batch handed over is ready to go
            request_timeout_ms=cfg.request_timeout_ms,
            **cfg.client_options,
        )
        await producer.start()
        try:
            ticks_partitions = await _partition_count(producer, cfg.ticks_topic)
            rejects_partitions = await _partition_count(producer, cfg.rejects_topic)
        except BaseException:
            await producer.stop()
            raise
        self._ticks = _Route(cfg.ticks_topic, KeyRouter(ticks_partitions))
        self._rejects = _Route(cfg.rejects_topic, KeyRouter(rejects_partitions))
        self._producer = producer
        log.info(
            "produce.started",
            bootstrap=cfg.bootstrap_servers,
            ticks_topic=cfg.ticks_topic,
            partitions=self._ticks.router.partitions,
            compression=self.compression,
            batch_bytes=cfg.batch_bytes,
            linger_ms=cfg.linger_ms,
        )

    async def stop(self) -> None:
        """Flush everything accepted, wait for the acks, then close the connection."""
        if self._producer is None:
            return
        try:
            await self.flush()
        finally:
            if self._linger_handle is not None:
                self._linger_handle.cancel()
            if self._retry_task is not None and not self._retry_task.done():
                self._retry_task.cancel()
            producer, self._producer = self._producer, None
            try:
                await producer.stop()  # settles what is still in flight (acked or failed)
            finally:
                # Batches never settled (not sent after a failure, or a forced stop) stay out.
                self._close_archive()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def partitions(self) -> int:
        """Partition count of the ticks topic (known after ``start``)."""
        return self._route(True).router.partitions

    # -- sending -------------------------------------------------------------------------------------

    async def send_ticks(self, ticks: Sequence[Tick]) -> None:
        """Accept ticks: each goes to partition murmur2(symbol) of the ticks topic, keyed by symbol.

        Returns once the batches this call filled are handed to aiokafka and no more than
        ``max_in_flight`` batches await acks; the rest sits in open batches until full, ``linger_ms``
        or :meth:`flush`. Raises :class:`ProduceError` if an earlier batch failed. Written as v1 or v2,
        a tick whose symbol the coin registry mapped is a reject instead (``page_symbols_only``).
        """
        if self.config.tick_version < SYMBOL_SOURCE_VERSION:
            first_ts = ticks[0].ts if ticks else None
            ticks, left_out = page_symbols_only(ticks, self.config.tick_version)
            if left_out:
                await self.send_rejects(left_out, ts=first_ts)
        values = list(map(self.encode, ticks))
        await self.send_encoded([t.symbol for t in ticks], [t.ts for t in ticks], values)

    async def send_encoded(self, symbols: Sequence[str], ts: Sequence[int], values: list[bytes]) -> None:
        """:meth:`send_ticks` for ticks already encoded as records of ``config.tick_version``
        (``values[i] = self.encode(tick_i)``, or :func:`~tickerstream.producer.encoding.recode_values`),
        e.g. by a worker process: ``symbols[i]`` is the key, ``ts[i]`` the event time (ms). ``values``
        is consumed (it may be modified)."""
        self._raise_if_failed()
        if not values:
            return
        route = self._route(True)
        now_ms = int(time.time() * 1000)
        limit = now_ms + MAX_FUTURE_TS_MS
        clamped = 0
        opened = route.open
        routing = route.router.route
        archive = self.archive
        # With an archive, the batch of every tick, so that only acknowledged ones are archived.
        owners: list[object] | None = None if archive is None else []
        create = self._producer.create_batch
        if archive is not None:
            create = _tracked_by(archive, create)
        for symbol, stamp, value in zip(symbols, ts, values, strict=True):
            key, partition = routing(symbol)
            if stamp > limit:
                stamp = now_ms
                clamped += 1
            batch = opened.get(partition)
            if batch is None:
                batch = opened[partition] = create()
            if batch.append(timestamp=stamp, key=key, value=value) is None:
                self._close(route, partition, True)
                batch = opened[partition] = create()
                batch.append(timestamp=stamp, key=key, value=value)
            if owners is not None:
                owners.append(batch)
        self.stats.ticks_sent += len(values)
        self.stats.future_ts_clamped += clamped
        if archive is not None and owners is not None:
            archive.accept(values, owners)
        self._arm_linger()
        await self._pump()

    async def send_rejects(self, rejects: Sequence[Reject], *, ts: int | None = None) -> None:
        """Accept rejects for the dead-letter topic, keyed by their source; ``ts`` (ms) is the Kafka
        timestamp (e.g. the snapshot's event time), default now."""
        self._raise_if_failed()
        if not rejects:
            return
        route = self._route(False)
        now_ms = int(time.time() * 1000)
        stamp = now_ms if ts is None or ts > now_ms + MAX_FUTURE_TS_MS else ts
        by_reason = self.stats.rejects_by_reason
        for reject in rejects:
            key, partition = route.router.route(reject.source)
            value = reject.to_json()
            batch = route.open.get(partition)
            if batch is None:
                batch = route.open[partition] = self._producer.create_batch()
            if batch.append(timestamp=stamp, key=key, value=value) is None:
                self._close(route, partition, False)
                batch = route.open[partition] = self._producer.create_batch()
                batch.append(timestamp=stamp, key=key, value=value)
            by_reason[reject.reason.value] = by_reason.get(reject.reason.value, 0) + 1
        self.stats.rejects_sent += len(rejects)
        self._arm_linger()
        await self._pump()

    async def flush(self) -> None:
        """Send every open batch and wait until all submitted batches are acknowledged.

        Raises :class:`ProduceError` if any batch failed.
        """
        if self._producer is None:
            return
        self._close_all()
        await self._pump()
        while self._in_flight or self._failed:
            while self._in_flight:
                await asyncio.wait([self._in_flight.popleft()])
            if self._failed:
                await self._pump()  # sends the failed batches again (after a backoff)
        if self.archive is not None:
            self.archive.flush()
        self._raise_if_failed()

    def _close_archive(self) -> None:
        """Write what the archive still holds; ticks whose batch never settled stay out, logged."""
        if self.archive is None:
            return
        self.archive.close()
        if self.archive.left_out:
            log.warning(
                "produce.archive_left_out",
                ticks=self.archive.left_out,
                archived=self.archive.written,
                detail="ticks Kafka did not acknowledge are not in the archive",
            )

    # -- internals -----------------------------------------------------------------------------------

    def _route(self, ticks: bool) -> _Route:
        route = self._ticks if ticks else self._rejects
        if route is None or self._producer is None:
            raise RuntimeError("TickProducer is not started (call start() or use `async with`)")
        return route

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise ProduceError(f"delivery to Kafka failed: {self._error!r}") from self._error

    def _close(self, route: _Route, partition: int, is_ticks: bool) -> None:
        batch = route.open.pop(partition)
        batch.close()
        self._ready.append((route.topic, partition, batch, batch.record_count(), is_ticks))

    def _close_all(self) -> None:
        for route, is_ticks in ((self._ticks, True), (self._rejects, False)):
            if route is not None:
                for partition in list(route.open):
                    self._close(route, partition, is_ticks)

    def _arm_linger(self) -> None:
        """Make sure partly filled batches go out ``linger_ms`` from now at the latest."""
        if self._linger_handle is None and (self._ticks_open() or self._rejects_open()):
            loop = asyncio.get_running_loop()
            self._linger_handle = loop.call_later(self.config.linger_ms / 1000, self._on_linger)

    def _ticks_open(self) -> bool:
        return bool(self._ticks and self._ticks.open)

    def _rejects_open(self) -> bool:
        return bool(self._rejects and self._rejects.open)

    def _on_linger(self) -> None:
        self._linger_handle = None
        if self._producer is None:
            return
        self._close_all()  # synchronously: the close order is the submission order
        task = asyncio.get_running_loop().create_task(self._pump_quietly())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _pump_quietly(self) -> None:
        try:
            await self._pump()
        except Exception as exc:  # recorded; raised by the next send/flush
            self._error = self._error or exc

    async def _pump(self) -> None:
        """Hand the ready batches to aiokafka in order (failed ones first, after a backoff); then wait
        while too many await their acks."""
        async with self._pump_lock:
            if self._failed:
                await self._requeue_failed()
            while self._ready:
                topic, partition, batch, count, is_ticks = self._ready.popleft()
                await self._submit(topic, partition, batch, count, is_ticks, None, batch)
                while len(self._in_flight) > self.config.max_in_flight:
                    await asyncio.wait([self._in_flight.popleft()])
        self._raise_if_failed()

    async def _submit(
        self,
        topic: str,
        partition: int,
        batch: Any,
        count: int,
        is_ticks: bool,
        failed_at: float | None,
        origin: Any,
    ) -> None:
        handed = time.perf_counter()
        try:
            future = await self._producer.send_batch(batch, topic, partition=partition)
        except Exception as exc:
            self.stats.delivery_errors += 1
            self._error = self._error or exc
            raise ProduceError(f"could not queue a batch for {topic}[{partition}]: {exc!r}") from exc
        self.stats.batches_sent += 1
        future.add_done_callback(
            self._acked_callback(topic, partition, batch, count, is_ticks, handed, failed_at, origin)
        )
        self._in_flight.append(future)

    async def _requeue_failed(self) -> None:
        """Send the failed batches again, rebuilt from their bytes (a sent batch cannot be re-sent),
        in the order they failed, after an exponential backoff (0.5 s doubling up to the maximum)."""
        delay = min(0.5 * 2**self._retry_round, self.config.retry_backoff_max_s)
        self._retry_round += 1
        await asyncio.sleep(delay)
        failed, self._failed = self._failed, deque()
        for topic, partition, old, count, is_ticks, failed_at, origin in failed:
            batch = self._producer.create_batch()
            for record in DefaultRecordBatch(bytes(old._build())):
                batch.append(timestamp=record.timestamp, key=record.key, value=record.value)
            batch.close()
            self.stats.batches_retried += 1
            await self._submit(topic, partition, batch, count, is_ticks, failed_at, origin)

    def _retriable(self, exc: BaseException, failed_at: float) -> bool:
        """May this failure pass (broker down, leader moving), and is there time left to wait for it?"""
        passing = isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and exc.retriable)
        return passing and time.monotonic() - failed_at < self.config.delivery_timeout_s

    def _acked_callback(
        self,
        topic: str,
        partition: int,
        batch: Any,
        count: int,
        is_ticks: bool,
        handed: float,
        failed_at: float | None,
        origin: Any,
    ) -> Any:
        def done(future: asyncio.Future[Any]) -> None:
            if future.cancelled():
                exc: BaseException | None = asyncio.CancelledError()
            else:
                exc = future.exception()
            if exc is not None:
                self.stats.delivery_errors += 1
                first = time.monotonic() if failed_at is None else failed_at
                if self._error is None and self._retriable(exc, first):
                    self._failed.append((topic, partition, batch, count, is_ticks, first, origin))
                    self._log_retry(exc)
                    self._schedule_retry()
                    return
                self._error = self._error or exc
                log.error("produce.batch_failed", records=count, error=repr(exc))
                if is_ticks and self.archive is not None:
                    self.archive.abandoned(origin)
                return
            self._retry_round = 0
            self.stats.batches_acked += 1
            self.stats.bytes_sent += batch.size()  # built by now: the compressed size on the wire
            if is_ticks:
                self.stats.ticks_acked += count
                if self.archive is not None:
                    self.archive.acked(origin)
            else:
                self.stats.rejects_acked += count
            if self._on_acked is not None:
                self._on_acked(count, time.perf_counter() - handed)

        return done

    def _schedule_retry(self) -> None:
        """Retry even when no send or flush comes (``--follow`` waiting for input): one pump task."""
        if self._retry_task is None or self._retry_task.done():
            self._retry_task = asyncio.get_running_loop().create_task(self._pump_quietly())

    def _log_retry(self, exc: BaseException) -> None:
        """One warning per 10 s at most: an outage fails every in-flight batch at once, and again
        on every retry; one line says it all (the count is in ``stats.batches_retried``)."""
        now = time.monotonic()
        if now - self._last_retry_log >= 10.0:
            self._last_retry_log = now
            log.warning(
                "produce.delivery_retrying",
                error=repr(exc),
                waiting_batches=len(self._failed),
                retried_so_far=self.stats.batches_retried,
                gives_up_after_s=self.config.delivery_timeout_s,
            )


def _tracked_by(archive: AckedArchive, create: Callable[[], Any]) -> Callable[[], Any]:
    """``create`` whose new batches are made known to ``archive``, which holds their ticks until
    the batch is acknowledged."""

    def create_tracked() -> Any:
        batch = create()
        archive.track(batch)
        return batch

    return create_tracked


async def _partition_count(producer: Any, topic: str) -> int:
    partitions = await producer.partitions_for(topic)
    if not partitions:
        raise ProduceError(f"topic {topic} has no partitions (does it exist?)")
    count = len(partitions)
    if sorted(partitions) != list(range(count)):
        raise ProduceError(f"topic {topic} has partitions {sorted(partitions)}, expected 0..{count - 1}")
    return count
