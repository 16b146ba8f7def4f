"""What one ``ticker-process`` reports to Prometheus: fed once per step, commit, rebalance and restore.

The processor calls this module at the few points where it already holds the numbers (a cut, the events
of a step, a commit's duration); nothing here runs per record. Which metric means what is in
docs/observability.md; the two definitions that need the processor's knowledge:

* **End-to-end latency** (``ticker_event_latency_seconds``): from the Kafka timestamp of the newest tick
  record in the step that caused an event (our ticks topics stamp LogAppendTime, so: when the broker
  appended it) to the moment the event is handed to the producer. The tick's own ``ts`` is the scraped
  page's time, which says how old the page was, not how fast the pipeline is. When a step catches up on
  a backlog, its newest record is old too, so the latency shows the backlog. Events released by
  reference prices alone (no ticks in the step) are counted without a latency.
* **Consumer lag** (``ticker_consumer_lag_records``): per owned partition, the partition's high
  watermark as last seen by the consumer's fetches minus the next offset to *process* (fetched but
  not yet processed records count as lag). Updated at most once per ``lag_interval_s``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from aiokafka import TopicPartition

from tickerstream.metrics import AnyMarketGauges, AnyMetrics, NoMarketGauges, NoMetrics

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from tickerstream.engine import Engine
    from tickerstream.events import Event
    from tickerstream.processor.ownership import Ownership
    from tickerstream.processor.pending import Cut


class ProcessorMetrics:
    """The processor's side of ``Metrics``: a few calls per step, each O(partitions + events)."""

    def __init__(
        self,
        topic: str,
        metrics: AnyMetrics | None = None,
        markets: AnyMarketGauges | None = None,
        lag_interval_s: float = 1.0,
    ) -> None:
        self.topic = topic
        self.metrics: AnyMetrics = metrics if metrics is not None else NoMetrics()
        self.markets: AnyMarketGauges = markets if markets is not None else NoMarketGauges()
        self.enabled = not isinstance(self.metrics, NoMetrics)
        self.lag_interval_s = lag_interval_s
        self._next_lag = 0.0

    def step(self, engine: Engine, cut: Cut | None, events: list[Event], duration_s: float) -> None:
        """One processing step done: its records, dead letters, events (after they were sent)."""
        if not self.enabled:
            return
        m = self.metrics
        if cut is not None:
            m.observe_batch(len(cut) + len(cut.bad), duration_s)
            if cut.bad:
                m.count_dead_letters(Counter(b.reason.value for b in cut.bad))
        if events:
            if cut is not None and cut.appended >= 0:
                m.count_events(events, now_s=time.time(), tick_time_s=cut.appended / 1000.0)
            else:
                m.count_events(events)
        m.update_engine(engine.stats)
        self.markets.refresh(engine)

    def lag(self, consumer: AIOKafkaConsumer, owned: Ownership) -> None:
        """Lag of every owned partition, at most once per ``lag_interval_s`` (cheap: no request)."""
        now = time.monotonic()
        if not self.enabled or now < self._next_lag:
            return
        self._next_lag = now + self.lag_interval_s
        lags: dict[int, int] = {}
        for p, state in owned.parts.items():
            high = consumer.highwater(TopicPartition(self.topic, p))
            if high is not None and state.position is not None:
                lags[p] = max(0, high - state.position)
        self.metrics.set_lag(lags, self.topic)

    def rebalanced(self, assigned: list[int]) -> None:
        self.metrics.rebalanced(assigned, self.topic)

    def committed(self, duration_s: float) -> None:
        self.metrics.observe_commit(duration_s)

    def restored(self, duration_s: float, records: int) -> None:
        self.metrics.observe_restore(duration_s, records)

    def offset_reset(self) -> None:
        self.metrics.count_offset_reset()
