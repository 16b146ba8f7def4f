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
    """``histogram_quantile`` over all instances, per ``by`` label if given."""
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
            "Rejected ticker lines / all ticker lines (ticks + rejects) over the rate interval. Alert: 5 %.",
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
            "Partitions of the ticks topic owned by each processor.",
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
            "Lines read and ticks produced by ticker-produce; records consumed and events emitted by "
            "the processors; per second.",
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
            "Records per consumed poll batch (percentiles).",
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
            "Time to decode, run through the engine and publish one poll batch.",
            quantiles("ticker_batch_duration_seconds"),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "End-to-end latency (tick → event)",
            "From a tick reaching Kafka (its record's append time) to the publication of the event it "
            "caused, by event type.",
            quantiles("ticker_event_latency_seconds", by="type", qs=(0.5, 0.99)),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Produce batch duration",
            "Time for ticker-produce to parse a batch and have the broker acknowledge it.",
            quantiles("ticker_produce_batch_duration_seconds"),
            "s",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Commit duration",
            "Offset commit round trips of the processors.",
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
            "Records behind the end of each partition (max over processors: after a rebalance the "
            "old owner's series disappears). Alert: growing for 10 min and over 1000.",
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
            "Consumer group rebalances seen by each processor.",
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
            "Mean time to rebuild engine state after an assignment, per processor, since it started.",
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
            "Records read to rebuild state, per processor.",
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
            "Ticker lines the parser refused, per second, by reason (ticker.rejects holds them).",
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
            "Messages of the ticks topic the processors could not use, per second, by reason.",
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
            "Record batches that failed for good (after the Kafka client's own retries); a failure ends "
            "the run, so a non-zero rate means a producer is restarting.",
            [Q(rate("ticker_produce_errors_total"), "errors")],
            "cps",
            min_value=0,
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Ticks dropped by the engine",
            "Late (older than the symbol's newest) and duplicate ticks, per second.",
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
            "CPU time per second used by each process (1 = one core).",
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
            "Resident set size per process.",
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
