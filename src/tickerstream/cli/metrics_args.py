"""The command-line flags of the ``/metrics`` endpoint and of the per-symbol market gauges.

Defaults come from the environment (``TICKER_METRICS_*``) and go through the same checks as flags.
"""

from __future__ import annotations

import argparse
import os

from tickerstream.errors import UsageError
from tickerstream.metrics import MarketGaugeConfig

#: Symbols always exported by default; deploy/prometheus/rules alert when one of them stops ticking,
#: so keep the two lists in step.
DEFAULT_SYMBOLS = "BTC,ETH,USDT,USDC"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {value}")
    return value


def add_metrics_args(parser: argparse.ArgumentParser, default_port: int) -> None:
    """``--metrics-host``, ``--metrics-port`` and ``--no-metrics`` for a long-running command.
    Defaults from the environment go through the same checks as flags (argparse converts them)."""
    group = parser.add_argument_group("metrics")
    group.add_argument(
        "--metrics-host",
        default=os.environ.get("TICKER_METRICS_HOST", "127.0.0.1"),
        help="address to serve /metrics on (env TICKER_METRICS_HOST; default 127.0.0.1, "
        "0.0.0.0 in containers)",
    )
    group.add_argument(
        "--metrics-port",
        type=_port,
        default=os.environ.get("TICKER_METRICS_PORT", str(default_port)),
        help=f"port for /metrics, 0 = any free port (env TICKER_METRICS_PORT; default {default_port})",
    )
    group.add_argument(
        "--no-metrics", action="store_true", help="serve no metrics and skip every metric update"
    )


def _symbols(text: str) -> frozenset[str]:
    return frozenset(s.strip().upper() for s in text.split(",") if s.strip())


def add_market_args(parser: argparse.ArgumentParser) -> None:
    """Flags bounding the per-symbol market series (``MarketGaugeConfig``), for ticker-process."""
    group = parser.add_argument_group("per-symbol metrics")
    group.add_argument(
        "--metrics-symbols",
        type=_symbols,
        default=os.environ.get("TICKER_METRICS_SYMBOLS", DEFAULT_SYMBOLS),
        metavar="SYM,SYM",
        help="symbols always exported (env TICKER_METRICS_SYMBOLS; default %(default)s)",
    )
    group.add_argument(
        "--metrics-top-n",
        type=int,
        default=os.environ.get("TICKER_METRICS_TOP_N", "50"),
        help="how many other symbols, most active first, get price series "
        "(env TICKER_METRICS_TOP_N; default %(default)s)",
    )
    group.add_argument(
        "--metrics-stale-after",
        type=float,
        default=os.environ.get("TICKER_METRICS_STALE_AFTER", "900"),
        metavar="SECONDS",
        help="drop a non-listed symbol's series after this long without a tick "
        "(env TICKER_METRICS_STALE_AFTER; default %(default)s)",
    )


def market_config_from_args(args: argparse.Namespace) -> MarketGaugeConfig:
    """The ``MarketGaugeConfig`` of ``add_market_args``' flags; a bad value is a ``UsageError``."""
    try:
        return MarketGaugeConfig(
            allowlist=args.metrics_symbols, top_n=args.metrics_top_n, stale_after_s=args.metrics_stale_after
        )
    except ValueError as exc:
        raise UsageError(f"per-symbol metrics: {exc}") from None
