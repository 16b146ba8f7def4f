"""``Producer``: ``ticker-produce`` as a library, shaped like the :class:`~tickerstream.processor.Processor`.

Lifecycle: ``async with Producer(...) as producer: await producer.run(inputs)``. Entering checks (or
creates) the ticks and rejects topics and connects; :meth:`request_stop` (SIGTERM) makes ``run``
return between two sends; leaving the block sends everything already accepted and waits for the
broker's acks. ``ticker-produce`` and ``tickerstream run --bootstrap-servers`` both run this class.

A delivery that fails for good raises :class:`~tickerstream.errors.ProduceError` from ``run`` or from
leaving the block, after :attr:`stats` has counted what was acknowledged; the caller reports both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, BinaryIO, Self

from aiokafka.errors import KafkaError

from tickerstream.errors import ProduceError, describe
from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.metrics import AnyMetrics, NoMetrics
from tickerstream.producer.archive import ArchiveSink
from tickerstream.producer.follow import follow_all
from tickerstream.producer.once import produce_once
from tickerstream.producer.progress import batch_observer, log_progress, sync_metrics, sync_totals
from tickerstream.producer.tick_producer import ProducerConfig, ProduceStats, TickProducer


@dataclass(frozen=True, slots=True)
class ProduceInputs:
    """What one run reads, and how (the options of ``ticker-produce`` that are about input)."""

    #: Files, directories (recursive, sorted) and '-' for stdin, in the order they are read.
    paths: list[str] = field(default_factory=lambda: ["-"])
    #: Keep reading: files as they grow, directories for new files, stdin as a stream.
    follow: bool = False
    #: Event time of every snapshot (not with ``follow``: followed text is timed as it is read).
    ts_override: int | None = None
    #: With ``follow``: skip a file's existing content.
    from_end: bool = False
    poll_interval_s: float = 0.5
    #: Processes parsing page files ("auto" or a count as text; "0" parses in this process).
    parse_workers: str = "auto"


def producer_config(settings: KafkaSettings, **tuning: Any) -> ProducerConfig:
    """The :class:`ProducerConfig` of ``settings`` (brokers, topics, security), with batching ``tuning``."""
    return ProducerConfig(
        bootstrap_servers=settings.bootstrap_servers,
        ticks_topic=settings.topics.ticks,
        rejects_topic=settings.topics.rejects,
        client_options=settings.client_kwargs(),
        **tuning,
    )


class Producer:
    def __init__(
        self,
        settings: KafkaSettings,
        config: ProducerConfig | None = None,
        *,
        create_topics: bool = True,
        archive: BinaryIO | ArchiveSink | None = None,
        metrics: AnyMetrics | None = None,
        progress_interval_s: float = 0.0,
    ) -> None:
        """``archive``: also append the JSON of every tick Kafka acknowledged to this file (or hand it
        to this sink: Parquet), in the order the ticks were read (ticks never acknowledged stay
        out). ``metrics``: Prometheus totals mirrored every second (default none).
        ``progress_interval_s``: a progress log line every that many seconds (0: none)."""
        self.settings = settings
        self.config = config or producer_config(settings)
        self.create_topics = create_topics
        self.metrics: AnyMetrics = metrics if metrics is not None else NoMetrics()
        self.progress_interval_s = progress_interval_s
        self.stats = ProduceStats()
        self._ticks = TickProducer(
            self.config, stats=self.stats, archive=archive, on_acked=batch_observer(self.metrics)
        )
        self._stop = asyncio.Event()
        self._timers: list[asyncio.Task[None]] = []

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop reading; what was accepted is still sent when the block is left."""
        self._stop.set()

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check (or create) the ticks and rejects topics, connect, start the progress timers."""
        wanted = (self.config.ticks_topic, self.config.rejects_topic)
        specs = [s for s in topic_specs_for(self.settings) if s.name in wanted]
        await ensure_topics(
            self.settings.bootstrap_servers,
            specs,
            create=self.create_topics,
            client_kwargs=self.settings.client_kwargs(),
        )
        await self._ticks.start()
        if self.progress_interval_s > 0:
            self._timers.append(asyncio.create_task(log_progress(self.stats, self.progress_interval_s)))
        if not isinstance(self.metrics, NoMetrics):
            self._timers.append(asyncio.create_task(sync_metrics(self.stats, self.metrics)))

    async def stop(self) -> None:
        """Send everything accepted and wait for the acks; then stop the timers and sync the totals."""
        try:
            async with self._delivery():
                await self._ticks.stop()
        finally:
            for task in self._timers:
                task.cancel()
            for task in self._timers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._timers.clear()
            sync_totals(self.stats, self.metrics)  # the last acks, for a scrape before the endpoint closes

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- work ------------------------------------------------------------------------------------

    async def run(self, inputs: ProduceInputs) -> None:
        """Read ``inputs`` (once, or following them) and hand their ticks and rejects to Kafka."""
        async with self._delivery():
            if inputs.follow:
                await follow_all(
                    self._ticks, inputs.paths, inputs.poll_interval_s, inputs.from_end, self._stop
                )
            else:
                await produce_once(
                    self._ticks, inputs.paths, inputs.ts_override, self._stop, inputs.parse_workers
                )

    @contextlib.asynccontextmanager
    async def _delivery(self) -> AsyncIterator[None]:
        """Kafka failures while sending become one :class:`ProduceError` saying what failed."""
        try:
            yield
        except ProduceError as exc:
            raise ProduceError(f"Kafka delivery failed: {describe(exc)}") from exc
        except (KafkaError, OSError) as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise ProduceError(f"Kafka delivery failed: {describe(exc)}") from exc
