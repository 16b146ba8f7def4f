"""The consumer-group member of ``ticker-process``: ticks from Kafka through the engine to event topics.

:class:`Processor` runs the loop (``processor``); ``pending`` buffers fetched ticks and cuts them by
event time, ``gate`` holds back what waits for a reference price published by another instance
(``refprices``), ``commit`` and ``checkpoints`` make progress durable, ``recovery`` and ``ownership``
restore partitions after a rebalance or a crash, ``dlq`` turns bad records into dead letters.
``main_job`` runs the whole pipeline through Kafka in one process (``tickerstream run``).
Design: docs/processing.md.
"""

from tickerstream.processor.config import ProcessorConfig, ProcessorStats
from tickerstream.processor.processor import Processor

__all__ = ["Processor", "ProcessorConfig", "ProcessorStats"]
