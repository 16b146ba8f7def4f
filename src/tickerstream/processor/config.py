"""Settings and counters of one ``ticker-process`` (``--set process.KEY=V``, ``TICKER_PROCESS__*``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tickerstream.processor.future import DEFAULT_MAX_FUTURE_MS


@dataclass(frozen=True)
class ProcessorConfig:
    """How one processor consumes, commits and waits; loadable with ``load_settings``."""

    group: str = "tickerstream"
    #: Clock-skew allowance: ticks whose event time is more than this ahead of the wall clock are
    #: dead letters (``invalid_tick``, the detail says how far ahead and to fix the source's clock or
    #: time zone). The engine drops every tick of a series older than the newest it accepted, so one
    #: tick stamped hours ahead would drop its series' ticks as late for those hours; a tick inside
    #: the allowance holds its series back for at most this long (processor/future.py). 0 disables
    #: the check.
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS
    exactly_once: bool = False
    #: How often sends are settled (at-least-once: all acks awaited) or transactions committed
    #: (exactly-once, each with a checkpoint of its partition and the offsets).
    commit_interval_ms: int = 1000
    #: At-least-once: how often partitions are checkpointed and their offsets committed (also on
    #: revoke and shutdown). A crash repeats at most this much work (same events, same ids).
    checkpoint_interval_ms: int = 5_000
    #: Checkpoint topic; empty = ``<ticks topic>.<group>.checkpoints`` (compacted, one partition per ticks
    #: partition; per group, since checkpoints are a group's state).
    checkpoint_topic: str = ""
    #: Reference-price topic; empty = ``<kafka.topics.refprices>.<group>`` (compacted, one partition;
    #: per group, since the reference points and their progress are a group's state too).
    refprices_topic: str = ""
    poll_timeout_ms: int = 100
    max_records: int = 20_000
    #: A partition with more fetched-but-unprocessed ticks than this is paused until they drain.
    max_pending_rows: int = 60_000
    #: Wall time a reference may make no progress while it alone holds pegged ticks back before it
    #: stops holding them (counted in ``gate_timeouts``; they are judged with what is known).
    ref_gate_timeout_ms: int = 30_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    #: Compressed bytes per partition per fetch. Kept small so that partitions interleave (getmany
    #: drains the fetch buffer partition by partition) and the event-time merge is not starved; a
    #: larger record (a 1 MB poison message) is still returned whole by the broker (KIP-74).
    max_partition_fetch_bytes: int = 1024 * 1024
    transactional_id_prefix: str = "tickerstream"
    #: How often the consumer refreshes topic metadata even when nothing failed. A ticks topic that was
    #: deleted and re-created is noticed (and its partitions assigned again) within this time; the
    #: client's default (5 min) would leave the group idle that long.
    metadata_max_age_ms: int = 30_000

    def __post_init__(self) -> None:
        positive = (
            "commit_interval_ms",
            "checkpoint_interval_ms",
            "max_records",
            "max_pending_rows",
            "poll_timeout_ms",
            "session_timeout_ms",
            "heartbeat_interval_ms",
            "max_poll_interval_ms",
            "max_partition_fetch_bytes",
            "metadata_max_age_ms",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("max_future_ms", "ref_gate_timeout_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
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
    quality: int = 0  # events sent to the quality topic: 24 h checks and source (frozen/resumed) events
    ref_points_in: int = 0
    ref_records_out: int = 0
    commits: int = 0
    checkpoints: int = 0
    checkpoint_bytes: int = 0
    restores: int = 0
    cold_starts: int = 0
    #: Partitions started over from their beginning: checkpoint/commit beyond the end (topic re-created).
    offset_resets: int = 0
    rebalances: int = 0
    #: Steps in which a reference's progress alone held pegged ticks back (the watermark had passed
    #: their ts + wait). Nothing else waits: every step takes all fetched ticks.
    gate_blocked_steps: int = 0
    gate_timeouts: int = 0
    aborts: int = 0
    last_step_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def checkpoint_topic_for(ticks_topic: str, group: str) -> str:
    """The default checkpoint topic of ``group`` reading ``ticks_topic``: ``<ticks>.<group>.checkpoints``."""
    return f"{ticks_topic}.{group}.checkpoints"


def refprices_topic_for(refprices_topic: str, group: str) -> str:
    """The default reference-price topic of ``group``: ``<refprices>.<group>``."""
    return f"{refprices_topic}.{group}"
