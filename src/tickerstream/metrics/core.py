"""Every Prometheus metric tickerstream exports, defined once, and the batch-level calls that feed them.

The producer and the processor never touch a metric object directly: they call one method of
``Metrics`` per batch (or per rebalance, commit, restore) with counts they already keep, so the hot
path pays a few microseconds per *batch*, never anything per tick. Names follow the Prometheus
conventions (``ticker_`` prefix, base units, ``_total`` counters); docs/observability.md lists them.

Metrics live on a dedicated ``CollectorRegistry`` so tests build fresh ones (``create_metrics``) and
one process can never register a name twice; ``default_metrics()`` is the process-wide instance
the console scripts serve. Per-symbol series exist only on the market gauges, which
``tickerstream.metrics.markets.MarketGauges`` keeps bounded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from tickerstream.model import RejectReason

if TYPE_CHECKING:
    from tickerstream.engine.stats import EngineStats
    from tickerstream.events import Event

# ``*_created`` series double the series count and nothing here reads them (rate() and increase()
# handle counter resets on their own); off for the whole process, which this module owns.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream

# --- buckets (upper bounds, seconds unless named otherwise) --------------------------------------

#: One poll/produce batch of 1 .. 100k ticks: ~0.5 ms for a small batch, seconds for a huge one
#: on a loaded machine; past 10 s something is wrong and +Inf says so.
BATCH_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Records per batch: a quiet topic gives single records, catching up gives full 100k polls.
BATCH_SIZE_BUCKETS = (1, 10, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000)
#: Tick record appended to Kafka to event published: milliseconds when live, minutes when catching up.
LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
)
#: A commit (acks, checkpoints, then offsets or the transaction): ms locally, seconds under strain.
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Rebuilding a partition's state replays up to a window horizon of ticks: sub-second to minutes.
RESTORE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

#: Reject / dead-letter reasons are a closed set; anything else is counted as ``other`` so a bug
#: upstream cannot grow the label's cardinality.
REASONS: frozenset[str] = frozenset(r.value for r in RejectReason)
OTHER_REASON = "other"
#: Event types, also a closed set (``Move.type``, ``PegEvent.type``).
EVENT_TYPES = ("move", "peg", "quality", "source")
#: ``ticker_peg_state`` values; the dashboards' value mappings and the alert rules use them.
#: ``unknown`` (no sound judgement: reference missing or too stale) is 3, above critical, so that
#: ``max by (symbol)`` across two processors never hides it behind an ``ok``.
PEG_STATE_VALUES: dict[str, int] = {"ok": 0, "warn": 1, "critical": 2, "unknown": 3}
#: Reasons a pegged tick was not judged (``ticker_engine_peg_unjudged_ticks_total``).
UNJUDGED_REASONS = ("no_reference", "stale_reference", "ambiguous_ticks")
#: The topic whose lag ``set_lag`` reports when the caller names none.
DEFAULT_LAG_TOPIC = "ticker.ticks"


class Metrics:
    """All tickerstream metrics on one registry, plus the per-batch calls that update them.

    The metric objects are public for tests and the market gauges; application code should use
    the methods, which take the counts a batch already has and do O(labels) work, not O(ticks).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = r = registry
        # -- producer ------------------------------------------------------------------------------
        self.lines_read = Counter("ticker_lines_read", "Input text lines read by the producer.", registry=r)
        self.ticks_produced = Counter(
            "ticker_ticks_produced", "Ticks written to the ticks topic (acknowledged).", registry=r
        )
        self.rejects = Counter(
            "ticker_rejects", "Ticker lines the parser refused, by reason.", ["reason"], registry=r
        )
        self.produce_errors = Counter(
            "ticker_produce_errors",
            "Produce requests that failed for good (after retries).",
            registry=r,
        )
        self.produce_duration = Histogram(
            "ticker_produce_batch_duration_seconds",
            "Time from handing one record batch to the Kafka client until the broker acknowledged it.",
            buckets=BATCH_DURATION_BUCKETS,
            registry=r,
        )
        # -- processor -----------------------------------------------------------------------------
        self.records_consumed = Counter(
            "ticker_records_consumed",
            "Records of the ticks topic processed (ticks and dead letters).",
            registry=r,
        )
        self.batch_size = Histogram(
            "ticker_batch_records",
            "Records per processing step (everything fetched since the last one, all partitions).",
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_duration = Histogram(
            "ticker_batch_duration_seconds",
            "Time of one processing step: the cut, the engine, and handing its output to the producer.",
            buckets=BATCH_DURATION_BUCKETS,
            registry=r,
        )
        self.events = Counter("ticker_events", "Events emitted, by type.", ["type"], registry=r)
        self.event_latency = Histogram(
            "ticker_event_latency_seconds",
            "From a tick reaching Kafka (its record's append time) to the event it caused being "
            "published, by event type.",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dead_letters = Counter(
            "ticker_dead_letters",
            "Messages sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.engine_dropped = Counter(
            "ticker_engine_dropped_ticks",
            "Ticks the engine dropped: late (older than the series' last), duplicate (same ts) or "
            "ambiguous_series (no coin id, and its symbol has several coins' series in its quote) or "
            "series_limit (a new series beyond windows.max_series) or scale_jump (8x or an eighth of "
            "the series' previous tick, not confirmed: a misparsed page).",
            ["reason"],
            registry=r,
        )
        self.engine_symbols = Gauge(
            "ticker_engine_symbols", "Series (symbol, coin id, quote) with state in this engine.", registry=r
        )
        self.engine_ticks = Counter("ticker_engine_ticks", "Ticks given to the engine.", registry=r)
        self.engine_accepted = Counter(
            "ticker_engine_accepted_ticks",
            "Ticks the engine appended to a window (neither late nor duplicate).",
            registry=r,
        )
        self.engine_evicted = Counter(
            "ticker_engine_evicted_points",
            "Window points pushed out of a full per-symbol ring (capacity, not horizon): history lost "
            "before windows.horizon_s.",
            registry=r,
        )
        self.engine_peg_waits = Counter(
            "ticker_engine_peg_waits",
            "Pegged ticks that had to wait for their reference price (see ticker_engine_held_ticks).",
            registry=r,
        )
        self.engine_peg_unjudged = Counter(
            "ticker_engine_peg_unjudged_ticks",
            "Pegged ticks not judged: no reference price within pegs.ref_max_age_s (no_reference), "
            "one too uncertain for its age and volatility (stale_reference), or a page without a coin "
            "id on a ticker another coin shares (ambiguous_ticks).",
            ["reason"],
            registry=r,
        )
        self.engine_ref_late = Counter(
            "ticker_engine_reference_late",
            "Reference prices dropped as older than or equal to the reference's newest.",
            registry=r,
        )
        self.engine_held = Gauge(
            "ticker_engine_held_ticks",
            "Pegged ticks waiting for their reference price.",
            registry=r,
        )
        # -- consumer group ------------------------------------------------------------------------
        self.consumer_lag = Gauge(
            "ticker_consumer_lag_records",
            "Records between the next offset to process and the high watermark of each assigned partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.assigned_partitions = Gauge(
            "ticker_assigned_partitions",
            "Partitions of the ticks topic assigned to this process.",
            registry=r,
        )
        self.rebalances = Counter(
            "ticker_rebalances", "Consumer group rebalances this process took part in.", registry=r
        )
        self.commit_duration = Histogram(
            "ticker_commit_duration_seconds",
            "One commit: waiting for acks, writing checkpoints, then the offsets or the transaction.",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.restore_duration = Histogram(
            "ticker_state_restore_duration_seconds",
            "Time to rebuild engine state after an assignment (one observation per restore).",
            buckets=RESTORE_BUCKETS,
            registry=r,
        )
        self.restore_records = Counter(
            "ticker_state_restore_records",
            "Records between a checkpoint and the committed offset, re-read after a restore.",
            registry=r,
        )
        self.offset_resets = Counter(
            "ticker_offset_resets",
            "Ticks partitions whose checkpoint or position lay beyond the partition's end (the topic "
            "was deleted and re-created, or truncated): state dropped, read again from the beginning.",
            registry=r,
        )
        # -- markets (per-symbol series: only through MarketGauges, which bounds them) -------------
        self.last_price = Gauge(
            "ticker_last_price",
            "Last accepted price per exported symbol, in its quote currency.",
            ["symbol"],
            registry=r,
        )
        self.last_update = Gauge(
            "ticker_last_update_timestamp_seconds",
            "Event time (ts) of the last accepted tick per exported symbol, Unix seconds.",
            ["symbol"],
            registry=r,
        )
        self.peg_deviation = Gauge(
            "ticker_peg_deviation_ratio",
            "Signed deviation of a pegged symbol from its peg at its last judged tick (0.01 = 100 bps).",
            ["symbol"],
            registry=r,
        )
        self.peg_state = Gauge(
            "ticker_peg_state",
            "Peg state per pegged symbol: 0 ok, 1 warn, 2 critical, 3 unknown (no sound judgement).",
            ["symbol"],
            registry=r,
        )
        self.peg_worst = Gauge(
            "ticker_peg_worst_deviation_ratio",
            "Signed deviation with the largest magnitude in the running depeg episode (0 outside one).",
            ["symbol"],
            registry=r,
        )
        self.peg_sources_disagree = Gauge(
            "ticker_peg_sources_disagree",
            "1 while a pegged symbol is unknown because its pages disagree (some beyond the critical "
            "level, more at the peg: unknown_reason sources_disagree), else 0.",
            ["symbol"],
            registry=r,
        )
        self.peg_ref_age = Gauge(
            "ticker_peg_reference_age_seconds",
            "Event time between a referenced peg's last tick and the nearest reference price (the "
            "newest one when none was usable), referenced pegs with a reference seen.",
            ["symbol"],
            registry=r,
        )
        self.peg_last_tick = Gauge(
            "ticker_peg_last_tick_timestamp_seconds",
            "Event time of the last tick of each pegged symbol, Unix seconds; peg = USD or the reference.",
            ["symbol", "peg"],
            registry=r,
        )
        self.peg_last_accepted = Gauge(
            "ticker_peg_last_accepted_timestamp_seconds",
            "Wall-clock time, Unix seconds, at which this process last saw a new tick of each pegged "
            "symbol accepted (its event time advanced); ticks dropped as late or duplicate do not move "
            "it, so it stops when a tick stamped ahead of the others holds the series back. peg = USD "
            "or the reference.",
            ["symbol", "peg"],
            registry=r,
        )
        self.coarse_quantum = Gauge(
            "ticker_coarse_quantum_series",
            "Series whose price quantum (display step) is at least the smallest move threshold: "
            "their rounding is never reported as a move (each is logged once as engine.coarse_quantum).",
            registry=r,
        )
        self.change_checks = Counter(
            "ticker_change24h_checks",
            "Ticks whose source's own 24 h change was checked against the engine's day of history.",
            registry=r,
        )
        self.change_disagree = Counter(
            "ticker_change24h_disagreements",
            "Checked ticks whose source's 24 h change disagreed with the history beyond the rounding, "
            "drift and source allowance (engine/quality.py).",
            registry=r,
        )
        self.sign_recovered = Counter(
            "ticker_change24h_sign_recovered",
            "Unsigned 24 h changes (seed-style pages show only the magnitude) whose sign the history "
            "recovered.",
            registry=r,
        )
        self.change_mismatch = Gauge(
            "ticker_change24h_mismatch_series",
            "Series whose source's 24 h change currently disagrees with the history (each transition "
            "is a quality event on the quality topic).",
            registry=r,
        )
        self.peg_ambiguous = Gauge(
            "ticker_peg_ambiguous_symbols",
            "Pegged or reference symbols with ticks of several coins and no coin_id in pegs.toml: not "
            "judged until it names one (each is logged once as engine.peg_ambiguous).",
            registry=r,
        )
        self.window_fill = Gauge(
            "ticker_window_fill_ratio",
            "Mean fraction of the per-symbol window capacity in use.",
            registry=r,
        )
        self.symbols_exported = Gauge(
            "ticker_symbols_exported",
            "Symbols with per-symbol price series on this process.",
            registry=r,
        )
        self.symbols_not_exported = Gauge(
            "ticker_symbols_not_exported",
            "Symbols this process tracks but does not export per symbol (cardinality bound).",
            registry=r,
        )
        # Every closed-set label value exists from the start, so rate() has a series (at 0) to
        # work on and a dashboard shows "0 rejects" rather than "no data".
        for reason in sorted((*REASONS, OTHER_REASON)):
            self.rejects.labels(reason)
            self.dead_letters.labels(reason)
        for kind in EVENT_TYPES:
            self.events.labels(kind)
            self.event_latency.labels(kind)
        for why in ("late", "duplicate", "ambiguous_series", "series_limit", "scale_jump"):
            self.engine_dropped.labels(why)
        for why in UNJUDGED_REASONS:
            self.engine_peg_unjudged.labels(why)
        self._totals_seen: dict[tuple[Counter, str], int] = {}
        self._lag_series: set[tuple[str, str]] = set()

    # --- producer: once per produced batch ------------------------------------------------------

    def observe_produce_batch(
        self, lines: int, ticks: int, duration_s: float, rejects: Mapping[str, int] | None = None
    ) -> None:
        """A batch of input handled: ``lines`` read, ``ticks`` acknowledged by the broker, in
        ``duration_s``, with the parser's rejects by reason."""
        if lines:
            self.lines_read.inc(lines)
        if ticks:
            self.ticks_produced.inc(ticks)
        self.produce_duration.observe(duration_s)
        if rejects:
            self.count_rejects(rejects)

    def count_rejects(self, by_reason: Mapping[str, int]) -> None:
        _count_by_reason(self.rejects, by_reason)

    # --- processor: once per poll batch ---------------------------------------------------------

    def observe_batch(self, records: int, duration_s: float) -> None:
        """A poll batch of ``records`` messages consumed and fully handled in ``duration_s``."""
        if records:
            self.records_consumed.inc(records)
        self.batch_size.observe(records)
        self.batch_duration.observe(duration_s)

    def count_dead_letters(self, by_reason: Mapping[str, int]) -> None:
        _count_by_reason(self.dead_letters, by_reason)

    def count_events(
        self, events: Iterable[Event], now_s: float | None = None, tick_time_s: float | None = None
    ) -> None:
        """Events published, counted by type; with ``now_s`` (wall clock, Unix seconds, taken when
        they were published) also their end-to-end latency: from ``tick_time_s`` (when the ticks
        that caused them reached Kafka; ticker-process passes the record's append time) or, without
        it, from each event's ``ts`` (the tick's event time, the page's time).

        Pass ``now_s=None`` where event time is not wall time (replay of recorded data). Events are
        rare next to ticks (a handful per batch), so a loop over them costs nothing measurable.
        """
        by_type: dict[str, int] = {}
        for ev in events:
            by_type[ev.type] = by_type.get(ev.type, 0) + 1
            if now_s is not None:
                start = ev.ts / 1000.0 if tick_time_s is None else tick_time_s
                self.event_latency.labels(ev.type).observe(max(0.0, now_s - start))
        for kind, n in by_type.items():
            self.events.labels(kind).inc(n)

    def update_engine(self, stats: EngineStats) -> None:
        """Mirror the engine's own counters (cumulative) into Prometheus: increments since the last
        call. A counter that went down means a new engine; its whole value is then new."""
        self._mirror(self.engine_dropped, "late", stats.late)
        self._mirror(self.engine_dropped, "duplicate", stats.duplicates)
        self._mirror(self.engine_ticks, "", stats.ticks)
        self._mirror(self.engine_accepted, "", stats.accepted)
        self._mirror(self.engine_evicted, "", stats.evicted)
        self._mirror(self.engine_peg_waits, "", stats.held_total)
        self._mirror(self.engine_peg_unjudged, "no_reference", stats.released_without_ref)
        self._mirror(self.engine_peg_unjudged, "stale_reference", stats.ref_stale)
        self._mirror(self.engine_peg_unjudged, "ambiguous_ticks", stats.peg_ambiguous_pages)
        self._mirror(self.engine_ref_late, "", stats.ref_late)
        self._mirror(self.engine_dropped, "ambiguous_series", stats.ambiguous_series)
        self._mirror(self.engine_dropped, "series_limit", stats.series_limit)
        self._mirror(self.engine_dropped, "scale_jump", stats.scale_jumps)
        self._mirror(self.engine_dropped, "stale_repeat", stats.stale_repeats)
        self.engine_symbols.set(stats.symbols)
        self.engine_held.set(stats.held)
        self.coarse_quantum.set(stats.coarse_quantum)
        self.peg_ambiguous.set(stats.peg_ambiguous)
        self._mirror(self.change_checks, "", stats.change_checks)
        self._mirror(self.change_disagree, "", stats.change_disagree)
        self._mirror(self.sign_recovered, "", stats.sign_recovered)
        self.change_mismatch.set(stats.change_mismatch)

    def sync_totals(
        self,
        *,
        lines_read: int | None = None,
        ticks_produced: int | None = None,
        produce_errors: int | None = None,
        records_consumed: int | None = None,
        rebalances: int | None = None,
        restore_records: int | None = None,
        rejects: Mapping[str, int] | None = None,
        dead_letters: Mapping[str, int] | None = None,
        events: Mapping[str, int] | None = None,
    ) -> None:
        """Mirror process-lifetime totals kept elsewhere (``ProduceStats``, ``ProcessorStats``):
        each counter grows by the increase since the last call (a total that went down means its
        source restarted, so its whole value is new). Use either this or the per-batch method for
        a given counter, never both, or it is counted twice. Mappings are by reason / event type."""
        plain = (
            (self.lines_read, lines_read),
            (self.ticks_produced, ticks_produced),
            (self.produce_errors, produce_errors),
            (self.records_consumed, records_consumed),
            (self.rebalances, rebalances),
            (self.restore_records, restore_records),
        )
        for counter, total in plain:
            if total is not None:
                self._mirror(counter, "", total)
        for counter, by_label, allowed in (
            (self.rejects, rejects, REASONS),
            (self.dead_letters, dead_letters, REASONS),
            (self.events, events, frozenset(EVENT_TYPES)),
        ):
            for label, total in (by_label or {}).items():
                self._mirror(counter, label if label in allowed else OTHER_REASON, total, key=label)

    def _mirror(self, counter: Counter, label: str, total: int, key: str | None = None) -> None:
        """Increase ``counter`` (child ``label`` if non-empty) to follow a cumulative ``total``."""
        seen_key = (counter, label if key is None else key)
        prev = self._totals_seen.get(seen_key, 0)
        delta = total - prev if total >= prev else total
        self._totals_seen[seen_key] = total
        if delta > 0:
            (counter.labels(label) if label else counter).inc(delta)

    # --- consumer group: per lag check, rebalance, commit, restore ------------------------------

    def set_lag(self, lag_by_partition: Mapping[int, int], topic: str = DEFAULT_LAG_TOPIC) -> None:
        """The current lag of every partition of ``topic`` this process owns; series of partitions
        of that topic not in the mapping (revoked) are removed."""
        keep: set[tuple[str, str]] = set()
        for partition, lag in lag_by_partition.items():
            key = (topic, str(partition))
            self.consumer_lag.labels(*key).set(lag)
            keep.add(key)
        for key in [k for k in self._lag_series if k[0] == topic and k not in keep]:
            self.consumer_lag.remove(*key)
            self._lag_series.discard(key)
        self._lag_series |= keep

    def rebalanced(self, assigned: Collection[int], topic: str = DEFAULT_LAG_TOPIC) -> None:
        """Partitions of ``topic`` assigned after a rebalance (call from ``on_partitions_assigned``).
        Lag series of partitions this process no longer owns are removed right away, so two
        processes never report lag for the same partition."""
        self.rebalances.inc()
        self.assigned_partitions.set(len(assigned))
        owned = {str(p) for p in assigned}
        for key in [k for k in self._lag_series if k[0] == topic and k[1] not in owned]:
            self.consumer_lag.remove(*key)
            self._lag_series.discard(key)

    def observe_commit(self, duration_s: float) -> None:
        self.commit_duration.observe(duration_s)

    def observe_restore(self, duration_s: float, records: int) -> None:
        """State of newly assigned partitions rebuilt, replaying ``records`` records."""
        self.restore_duration.observe(duration_s)
        if records:
            self.restore_records.inc(records)

    def count_offset_reset(self) -> None:
        """One ticks partition started over from its beginning (see ``ticker_offset_resets``)."""
        self.offset_resets.inc()


def _count_by_reason(counter: Counter, by_reason: Mapping[str, int]) -> None:
    for reason, n in by_reason.items():
        if n:
            counter.labels(reason if reason in REASONS else OTHER_REASON).inc(n)


def create_metrics(registry: CollectorRegistry | None = None, *, process: bool = False) -> Metrics:
    """Every metric on ``registry`` (a fresh one if None). ``process=True`` adds the standard
    process, platform and GC collectors (CPU, memory, open files, Python version, GC pauses)."""
    registry = CollectorRegistry() if registry is None else registry
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return Metrics(registry)


@cache
def default_metrics() -> Metrics:
    """The process-wide metrics the console scripts serve (with process collectors)."""
    return create_metrics(CollectorRegistry(), process=True)
