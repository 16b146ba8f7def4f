"""The "Pipeline" dashboard: throughput, latency percentiles, consumer lag per partition, rejects
and dead letters, rebalances and state restores, process health.

``$instance`` filters every panel (producer and processors); rates use ``$__rate_interval`` so
they stay correct whatever the scrape interval (the datasource's ``timeInterval``).
"""

from __future__ import annotations

from tickerstream.dashboards.panels import (
    Json,
    Layout,
    Q,
    bargauge,
    dashboard,
    query_variable,
    row,
    stat,
    timeseries,
    value_mappings,
)

UID = "tickerstream-pipeline"
INST = 'instance=~"$instance"'


def rate(metric: str, by: str = "", fn: str = "rate") -> str:
    """``sum [by (...)] (rate(metric{instance=~"$instance"}[$__rate_interval]))``."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} ({fn}({metric}{{{INST}}}[$__rate_interval]))"


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.9, 0.99)) -> list[Q]:
    """``histogram_quantile`` over the selected instances, per ``by`` label if given."""
    keys = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return [
        Q(
            f"histogram_quantile({q}, sum by ({keys}) (rate({metric}_bucket{{{INST}}}[$__rate_interval])))",
            f"p{q * 100:g}{suffix}",
        )
        for q in qs
    ]


def build() -> Json:
    lay = Layout()
    up_map = value_mappings({0: ("down", "red"), 1: ("up", "green")})

    lay.add(row("Health"))
    lay.add(
        stat(
            "Processes up",
            "Whether Prometheus can scrape each producer and processor.",
            [Q(f'up{{job=~"ticker-.*", {INST}}}', "{{instance}}", instant=True)],
            "none",
            steps=((None, "red"), (1, "green")),
            mappings=up_map,
            color_mode="background",
        ),
        w=12,
        h=4,
    )
    lay.add(
        stat(
            "Reject ratio",
            "Rejected ticker lines / (rejects + ticks acknowledged by the broker), from rates over the rate "
            "interval. Alert: over 5 % on 10 min rates for 15 min.",
            [
                Q(
                    f"{rate('ticker_rejects_total')} / ({rate('ticker_rejects_total')} "
                    f"+ {rate('ticker_ticks_produced_total')})",
                    "reject ratio",
                )
            ],
            "percentunit",
            steps=((None, "green"), (0.01, "orange"), (0.05, "red")),
        ),
        w=6,
        h=4,
    )
    lay.add(
        stat(
            "Assigned partitions",
            "Partitions of the ticks topic assigned to each processor at its last rebalance (including "
            "those still being restored).",
            [Q(f"ticker_assigned_partitions{{{INST}}}", "{{instance}}", instant=True)],
            "short",
        ),
        w=6,
        h=4,
    )

    lay.add(row("Throughput"))
    lay.add(
        timeseries(
            "Throughput",
            "Per second: lines read and ticks acknowledged by the broker (ticker-produce); records of the "
            "ticks topic processed (ticks and dead letters) and events handed to the Kafka producer (the "
            "processors).",
            [
                Q(rate("ticker_lines_read_total"), "lines read"),
                Q(rate("ticker_ticks_produced_total"), "ticks produced"),
                Q(rate("ticker_records_consumed_total"), "records consumed"),
                Q(rate("ticker_events_total", "type"), "events: {{type}}"),
            ],
            "cps",
            min_value=0,
        ),
        w=16,
    )
    lay.add(
        timeseries(
            "Batch size",
            "Records (ticks and dead letters) per processing step: every record fetched since the last "
            "step, merged over partitions; not a poll. p50 and p99 within coarse buckets "
            "(1, 10, 100, 500, 1k, ...).",
            quantiles("ticker_batch_records", qs=(0.5, 0.99)),
            "short",
            min_value=0,
        ),
        w=8,
    )

    lay.add(row("Latency"))
    lay.add(
        timeseries(
            "Batch processing duration",
            "Wall time of one processing step that took records: the cut, the engine, and handing "
            "reference points, dead letters and events to the Kafka producer (acks are awaited only when "
            "too many are outstanding). Decoding happens at fetch time and is not included.",
            quantiles("ticker_batch_duration_seconds"),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "End-to-end latency (tick → event)",
            "From the Kafka append time of the newest tick record in the step that caused an event to the "
            "end of that step, after the event was handed to the Kafka producer; by event type. All events "
            "of a step share that start. Events released by reference prices alone are not observed.",
            quantiles("ticker_event_latency_seconds", by="type", qs=(0.5, 0.99)),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Produce batch duration",
            "Time from ticker-produce handing one record batch (ticks or rejects topic) to the Kafka "
            "client until the broker acknowledged it. Parsing and linger are not included.",
            quantiles("ticker_produce_batch_duration_seconds"),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Commit duration",
            "Duration of processor commits that committed offsets: waiting for the acks of everything "
            "sent, writing the changed partitions' checkpoints, then the offset commit (exactly-once: the "
            "partition transactions). Commits with nothing to commit are not observed.",
            quantiles("ticker_commit_duration_seconds", qs=(0.5, 0.99)),
            "s",
            min_value=0,
        ),
        w=12,
    )

    lay.add(row("Consumer group"))
    lay.add(
        timeseries(
            "Consumer lag per partition",
            "Per partition: its high watermark as last fetched minus the next offset to process (fetched, "
            "unprocessed records count), checked at most once a second; max over processors, so a "
            "partition keeps one line when it moves. Alert (ticker.ticks): growing over 10 min and over "
            "1000, for 10 min.",
            [
                Q(
                    f"max by (topic, partition) (ticker_consumer_lag_records{{{INST}}})",
                    "{{topic}} [{{partition}}]",
                )
            ],
            "short",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Rebalances",
            "Partition assignments (rebalances, the first join included) received by each processor: "
            "count per rate interval (increase, at least 4 scrapes = 1 min), not per second.",
            [Q(rate("ticker_rebalances_total", "instance", "increase"), "{{instance}}")],
            "short",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "State restore time",
            # Cumulative sum/count, not rates: a processor restores a few times in its life, often
            # before its first scrape, and a rate over such a counter is 0/0 (an empty panel).
            "Mean duration of a restore, per processor, since it started: reading and loading the "
            "checkpoints of the newly assigned partitions (exactly-once: fencing first), seeking, catching "
            "up on reference prices; one observation per restore of one or more partitions. Records "
            "re-read from the checkpoint on are processed afterwards and not included.",
            [
                Q(
                    f"sum by (instance) (ticker_state_restore_duration_seconds_sum{{{INST}}})"
                    f" / sum by (instance) (ticker_state_restore_duration_seconds_count{{{INST}}} > 0)",
                    "{{instance}}",
                )
            ],
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Records replayed for restores",
            "Records between a restored checkpoint and the group's committed offset, which the processor "
            "re-reads after the restore (normally 0: offsets are committed only at checkpoints); count per "
            "rate interval (increase), per processor.",
            [Q(rate("ticker_state_restore_records_total", "instance", "increase"), "{{instance}}")],
            "short",
            min_value=0,
        ),
        w=12,
    )

    lay.add(row("Errors"))
    lay.add(
        timeseries(
            "Rejects by reason",
            "Ticker lines the parser refused, per second, by reason, counted when ticker-produce queues "
            "them for the rejects topic (ticker.rejects by default), not when acknowledged.",
            [Q(rate("ticker_rejects_total", "reason"), "{{reason}}")],
            "cps",
            stack=True,
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Dead letters by reason",
            "Records of the ticks topic the processors could not use, sent as dead letters to the rejects "
            "topic, per second, by reason.",
            [Q(rate("ticker_dead_letters_total", "reason"), "{{reason}}")],
            "cps",
            stack=True,
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Produce errors",
            "Record batches that failed for good (after the Kafka client's own retries), per second. A "
            "failure ends ticker-produce and its /metrics endpoint, so this shows only if a scrape lands "
            "before the exit; look at Processes up too.",
            [Q(rate("ticker_produce_errors_total"), "errors")],
            "cps",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Ticks dropped by the engine",
            "Ticks the engine dropped, per second: late (older than the symbol's newest accepted tick) and "
            "duplicate (same symbol and event time as an accepted tick).",
            [Q(rate("ticker_engine_dropped_ticks_total", "reason"), "{{reason}}")],
            "cps",
            stack=True,
            min_value=0,
        ),
        w=12,
    )

    lay.add(row("Resources"))
    lay.add(
        bargauge(
            "CPU",
            "CPU time per second used by each process, over the rate interval (100 % = one core). "
            "ticker-produce's parse workers are separate processes and not included.",
            [
                Q(
                    f'rate(process_cpu_seconds_total{{job=~"ticker-.*", {INST}}}[$__rate_interval])',
                    "{{instance}}",
                    instant=True,
                )
            ],
            "percentunit",
            steps=((None, "green"), (0.8, "orange"), (0.95, "red")),
        ),
        w=12,
        h=6,
    )
    lay.add(
        timeseries(
            "Resident memory",
            "Resident set size per process (ticker-produce's parse workers not included).",
            [Q(f'process_resident_memory_bytes{{job=~"ticker-.*", {INST}}}', "{{instance}}")],
            "bytes",
            min_value=0,
        ),
        w=12,
        h=6,
    )

    variables = [query_variable("instance", "Instance", 'label_values(up{job=~"ticker-.*"}, instance)')]
    return dashboard(
        UID,
        "tickerstream / Pipeline",
        "Health, throughput, latency, consumer lag and errors of ticker-produce and ticker-process.",
        lay.panels,
        variables,
    )
