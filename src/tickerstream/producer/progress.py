"""What a long ``ticker-produce`` run reports while it runs: progress log lines and Prometheus totals.

Both are timers that read :class:`~tickerstream.producer.tick_producer.ProduceStats`, which the producer and
the readers keep per batch anyway: the hot path never logs and never touches a metric per tick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tickerstream.log import get_logger
from tickerstream.metrics import AnyMetrics, NoMetrics
from tickerstream.producer.tick_producer import ProduceStats

log = get_logger(__name__)

#: How often the producer's totals (``ProduceStats``) are copied into the Prometheus counters.
METRICS_SYNC_S = 1.0


async def log_progress(stats: ProduceStats, interval: float) -> None:
    """Every ``interval`` s: totals so far and the ack rate since the previous line."""
    last_t, last_n = time.monotonic(), 0
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        rate = (stats.ticks_acked - last_n) / max(now - last_t, 1e-9)
        log.info(
            "produce.progress",
            ticks_acked=stats.ticks_acked,
            ticks_per_s=round(rate),
            rejects_acked=stats.rejects_acked,
            snapshots=stats.snapshots,
            mb_read=round(stats.bytes_read / 1e6, 1),
        )
        last_t, last_n = now, stats.ticks_acked


def batch_observer(metrics: AnyMetrics) -> Callable[[int, float], None] | None:
    """The producer's ``on_acked`` hook: one latency observation per acknowledged record batch
    (the counters come from :func:`sync_totals`); ``None`` without metrics, so nothing is called."""
    if isinstance(metrics, NoMetrics):
        return None

    def on_acked(records: int, seconds: float) -> None:
        metrics.observe_produce_batch(lines=0, ticks=0, duration_s=seconds)

    return on_acked


def sync_totals(stats: ProduceStats, metrics: AnyMetrics) -> None:
    metrics.sync_totals(
        lines_read=stats.lines_read,
        ticks_produced=stats.ticks_acked,
        rejects=stats.rejects_by_reason,
        produce_errors=stats.delivery_errors,
    )


async def sync_metrics(stats: ProduceStats, metrics: AnyMetrics, interval: float = METRICS_SYNC_S) -> None:
    """Mirror the totals ``ProduceStats`` keeps anyway, on a timer: nothing per tick or per batch."""
    while True:
        sync_totals(stats, metrics)
        await asyncio.sleep(interval)
