"""Prometheus metrics: every metric defined once (``core``), bounded per-symbol market gauges
(``markets``), a no-op twin for ``--no-metrics`` (``noop``), and the ``/metrics`` endpoint (``server``).

Typical wiring in a long-running command::

    metrics = default_metrics()                       # or NoMetrics() with --no-metrics
    server = start_metrics_server(args.metrics_host, args.metrics_port, metrics.registry)
    markets = MarketGauges(metrics, MarketGaugeConfig(allowlist=frozenset({"BTC", "USDC"})))
    ...per poll batch: metrics.observe_batch(n, dt); metrics.count_events(events, now_s=time.time());
       metrics.update_engine(engine.stats); markets.refresh(engine)
"""

from tickerstream.metrics.core import (
    BATCH_DURATION_BUCKETS,
    BATCH_SIZE_BUCKETS,
    COMMIT_BUCKETS,
    LATENCY_BUCKETS,
    PEG_STATE_VALUES,
    RESTORE_BUCKETS,
    Metrics,
    create_metrics,
    default_metrics,
)
from tickerstream.metrics.markets import EngineView, MarketGaugeConfig, MarketGauges
from tickerstream.metrics.noop import NoMarketGauges, NoMetrics
from tickerstream.metrics.server import PROCESSOR_PORT, PRODUCER_PORT, MetricsServer, start_metrics_server

#: What producers and processors hold: real metrics or the no-op twin.
AnyMetrics = Metrics | NoMetrics
AnyMarketGauges = MarketGauges | NoMarketGauges

__all__ = [
    "BATCH_DURATION_BUCKETS",
    "BATCH_SIZE_BUCKETS",
    "COMMIT_BUCKETS",
    "LATENCY_BUCKETS",
    "PEG_STATE_VALUES",
    "PROCESSOR_PORT",
    "PRODUCER_PORT",
    "RESTORE_BUCKETS",
    "AnyMarketGauges",
    "AnyMetrics",
    "EngineView",
    "MarketGaugeConfig",
    "MarketGauges",
    "Metrics",
    "MetricsServer",
    "NoMarketGauges",
    "NoMetrics",
    "create_metrics",
    "default_metrics",
    "start_metrics_server",
]
