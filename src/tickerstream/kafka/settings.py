"""Where the broker is and what the topics are called: the Kafka part of tickerstream's settings.

Plain dataclasses with defaults, so :func:`tickerstream.config.load_settings` can layer a TOML file,
``TICKER_*`` variables and ``--set`` flags over them like every other settings section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


@dataclass(frozen=True)
class TopicNames:
    """The topic names of the design's contracts (docs: DESIGN.md, "Topics")."""

    ticks: str = "ticker.ticks"  # Tick JSON, key = symbol
    moves: str = "ticker.moves"  # Move events
    pegs: str = "ticker.pegs"  # PegEvent events
    rejects: str = "ticker.rejects"  # dead letters: raw input + reason + source
    refprices: str = "ticker.refprices"  # compacted, key = symbol; every processor reads it in full


@dataclass(frozen=True)
class KafkaSettings:
    """Broker address and topic layout.

    ``ticks_partitions`` is part of the recovery design: processor state is kept per input partition
    and symbols are assigned to partitions by key hash, so a ticks topic with another partition count is
    refused at start-up (see :class:`tickerstream.kafka.admin.TopicMismatch`) rather than used.
    """

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    topics: TopicNames = field(default_factory=TopicNames)
    ticks_partitions: int = 6
    events_partitions: int = 1
    replication_factor: int = 1
    ticks_retention_ms: int = 7 * 24 * 3600 * 1000
    events_retention_ms: int = 30 * 24 * 3600 * 1000
    rejects_retention_ms: int = 14 * 24 * 3600 * 1000
    create_topics: bool = True

    def __post_init__(self) -> None:
        for name in ("ticks_partitions", "events_partitions", "replication_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
