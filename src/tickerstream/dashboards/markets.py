"""The "Markets" dashboard: prices, moves, peg deviation with warn/critical bands, peg state timeline.

Market series are per symbol and may briefly come from two processors during a rebalance, so
every per-symbol query aggregates ``by (symbol)``. Peg bands are the engine's default thresholds
(``PegConfig``); assets with their own thresholds in pegs.toml still change state by theirs,
which the state timeline shows.
"""

from __future__ import annotations

from tickerstream.dashboards.panels import (
    Json,
    Layout,
    Q,
    Steps,
    bargauge,
    dashboard,
    query_variable,
    row,
    stat,
    state_timeline,
    table,
    timeseries,
    value_mappings,
)
from tickerstream.engine.config import PegConfig
from tickerstream.metrics.core import PEG_STATE_VALUES

UID = "tickerstream-markets"
SYM = 'symbol=~"$symbol"'
PEG = 'symbol=~"$peg_symbol"'
INST = 'instance=~"$instance"'
PEG_COLOURS = {"ok": "green", "warn": "orange", "critical": "red", "unknown": "purple"}


def peg_bands(cfg: PegConfig | None = None) -> Steps:
    """Deviation bands in bps, both signs: red beyond critical, orange beyond warn, green inside."""
    cfg = cfg or PegConfig()
    w, c = cfg.warn_bps, cfg.critical_bps
    return ((None, "red"), (-c, "orange"), (-w, "green"), (w, "orange"), (c, "red"))


def build() -> Json:
    bands = peg_bands()
    state_map = value_mappings({v: (s, PEG_COLOURS[s]) for s, v in PEG_STATE_VALUES.items()})
    state_steps: Steps = ((None, "green"), (1, "orange"), (2, "red"), (3, "purple"))
    deviation_bps = f"10000 * avg by (symbol) (ticker_peg_deviation_ratio{{{PEG}}})"
    lay = Layout()

    lay.add(row("Prices"))
    lay.add(
        timeseries(
            "Last price",
            "Last accepted price per exported symbol, in its quote currency: shown in $ because almost "
            "every quote is USD; a symbol quoted in another currency is in that currency. Log scale: BTC "
            "and stablecoins share the axis.",
            [Q(f"max by (symbol) (ticker_last_price{{{SYM}}})", "{{symbol}}")],
            "currencyUSD",
            log_scale=True,
        ),
        w=16,
        h=9,
    )
    lay.add(
        table(
            "Latest prices",
            "Last accepted price (quote currency, shown in $) and the age of the last accepted tick per "
            "exported symbol: now - its event time (the page's snapshot time, so it includes how old the "
            "page was).",
            [
                Q(f"max by (symbol) (ticker_last_price{{{SYM}}})", instant=True),
                Q(f"time() - max by (symbol) (ticker_last_update_timestamp_seconds{{{SYM}}})", instant=True),
            ],
            "currencyUSD",
            column_units={"A": "currencyUSD", "B": "s"},
        ),
        w=8,
        h=9,
    )
    lay.add(
        bargauge(
            "Change over the time range",
            "Change of the last price in percent from the start of the dashboard's time range to its end "
            "(symbols without a price series at the start show nothing).",
            [
                Q(
                    f"100 * (max by (symbol) (ticker_last_price{{{SYM}}}) "
                    f"/ max by (symbol) (ticker_last_price{{{SYM}}} offset $__range) - 1)",
                    "{{symbol}}",
                    instant=True,
                )
            ],
            "percent",
            steps=((None, "red"), (0, "green")),
        ),
        w=8,
        h=9,
    )
    lay.add(
        timeseries(
            "Events",
            "Move events (large price changes) and peg state changes the processors emitted, by type, "
            "stacked: count per rate interval (increase, at least 4 scrapes = 1 min), not per second.",
            [Q(f"sum by (type) (increase(ticker_events_total{{{INST}}}[$__rate_interval]))", "{{type}}")],
            "short",
            stack=True,
            min_value=0,
        ),
        w=16,
        h=9,
    )

    lay.add(row("Pegs"))
    lay.add(
        timeseries(
            "Peg deviation",
            f"Signed deviation from the peg at the last judged tick, in basis points, of the price as "
            f"shown. Bands: warn at ±{PegConfig().warn_bps:g} bps, critical at "
            f"±{PegConfig().critical_bps:g} bps (engine defaults; some assets have their own thresholds "
            "in pegs.toml). The engine judges the smallest deviation consistent with a price rounded to "
            "cents (prices ≥ 1) and leaves a state only below its exit level, so the Peg state panel can "
            "be lower than the band.",
            [Q(deviation_bps, "{{symbol}}")],
            "suffix: bps",
            steps=bands,
            threshold_style="line+area",
        ),
        w=16,
        h=10,
    )
    lay.add(
        stat(
            "Deviation now",
            "Deviation at the last judged tick per pegged symbol, in basis points, coloured by the "
            "default bands (the engine's state may differ: per-asset thresholds, rounding, exit "
            "hysteresis).",
            [Q(deviation_bps, "{{symbol}}", instant=True)],
            "suffix: bps",
            steps=bands,
            color_mode="background",
        ),
        w=8,
        h=10,
    )
    lay.add(
        state_timeline(
            "Peg state",
            "The engine's peg state per pegged symbol: ok, warn, critical (with confirmation and exit "
            "hysteresis), and unknown: no sound judgement for pegs.unknown_after_s because the "
            "reference price was missing or too old for its volatility, or its pages disagree (the "
            "'Sources disagree' panel below; docs/pegs.md).",
            [Q(f"max by (symbol) (ticker_peg_state{{{PEG}}})", "{{symbol}}")],
            state_map,
            state_steps,
        ),
        w=24,
        h=10,
    )

    lay.add(
        stat(
            "Worst deviation in the episode",
            "Deviation with the largest magnitude since the running depeg episode began (0 when the "
            "asset is ok), in basis points of the price as shown, coloured by the default bands.",
            [
                Q(
                    f"10000 * avg by (symbol) (ticker_peg_worst_deviation_ratio{{{PEG}}})",
                    "{{symbol}}",
                    instant=True,
                )
            ],
            "suffix: bps",
            steps=bands,
            color_mode="background",
        ),
        w=12,
        h=8,
    )
    lay.add(
        timeseries(
            "Reference age",
            "Referenced pegs (WBTC -> BTC, stETH -> ETH): event time between the pegged asset's last "
            "tick and the nearest reference price the judgement used (or the newest one, when none was "
            "usable). How old a reference may be scales with its volatility; past that the peg goes "
            "unknown. 0 = the reference was on the same page.",
            [Q(f"max by (symbol) (ticker_peg_reference_age_seconds{{{PEG}}})", "{{symbol}}")],
            "s",
            min_value=0,
        ),
        w=12,
        h=8,
    )
    lay.add(
        table(
            "Pegged ticks",
            "Age of each pegged asset's last tick, with its peg (USD or the reference symbol): now - "
            "its event time, which includes how old the page was. A stablecoin whose ticks stopped "
            "shows here first; the TickerStablecoinTicksStopped alert watches the same series.",
            [
                Q(
                    f"time() - max by (symbol, peg) (ticker_peg_last_tick_timestamp_seconds{{{PEG}}})",
                    instant=True,
                ),
            ],
            "s",
            column_units={"A": "s"},
        ),
        w=12,
        h=8,
    )
    lay.add(
        timeseries(
            "Unjudged pegged ticks",
            "Pegged ticks the engine could not judge, by reason, per rate interval: no_reference (no "
            "reference price within pegs.ref_max_age_s), stale_reference (one too old for its "
            "volatility) or ambiguous_ticks (no coin id on a ticker another coin shares). A steady "
            "rate means a reference symbol is missing from the pages, or a pegged coin's pages lost "
            "their coin id.",
            [
                Q(
                    "sum by (reason) (increase(ticker_engine_peg_unjudged_ticks_total"
                    f"{{{INST}}}[$__rate_interval]))",
                    "{{reason}}",
                )
            ],
            "short",
            stack=True,
            min_value=0,
        ),
        w=12,
        h=8,
    )

    lay.add(
        stat(
            "Sources disagree",
            "Per pegged symbol: 'disagree' while its peg is unknown because its pages disagree "
            "(unknown_reason sources_disagree): for half an hour, pages beyond the critical level at "
            "changing prices kept coming between more pages at the peg, typically a live site off "
            "the peg beside a mirror stuck at it. Which source is right is for a person to check; "
            "the TickerPegSourcesDisagree alert watches the same series.",
            [Q(f"max by (symbol) (ticker_peg_sources_disagree{{{PEG}}})", "{{symbol}}", instant=True)],
            "none",
            steps=((None, "green"), (1, "orange")),
            mappings=value_mappings({0: ("agree", "green"), 1: ("disagree", "orange")}),
            color_mode="background",
        ),
        w=24,
        h=4,
    )

    lay.add(row("Coverage"))
    lay.add(
        stat(
            "Symbols",
            "Symbols with state in the selected processors' engines, those with per-symbol price series, "
            "and those with ticks left out by the cardinality bound (--metrics-symbols, --metrics-top-n, "
            "--metrics-stale-after); summed over processors.",
            [
                Q('sum(ticker_engine_symbols{instance=~"$instance"})', "tracked"),
                Q('sum(ticker_symbols_exported{instance=~"$instance"})', "exported"),
                Q('sum(ticker_symbols_not_exported{instance=~"$instance"})', "not exported"),
            ],
            "short",
        ),
        w=12,
        h=5,
    )
    lay.add(
        timeseries(
            "Window fill",
            "Mean fraction of the per-symbol ring capacity in use, per processor.",
            [Q('ticker_window_fill_ratio{instance=~"$instance"}', "{{instance}}")],
            "percentunit",
            min_value=0,
        ),
        w=12,
        h=5,
    )

    variables = [
        query_variable("symbol", "Symbol", "label_values(ticker_last_price, symbol)"),
        query_variable("peg_symbol", "Pegged symbol", "label_values(ticker_peg_state, symbol)"),
        query_variable("instance", "Processor", 'label_values(up{job="ticker-processor"}, instance)'),
    ]
    return dashboard(
        UID,
        "tickerstream / Markets",
        "Prices, moves and pegs as the tickerstream processors see them (event time).",
        lay.panels,
        variables,
    )
