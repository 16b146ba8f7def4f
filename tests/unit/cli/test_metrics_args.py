"""The metrics flags every long-running command shares (``cli.metrics_args``): defaults from the
environment, ranges, the per-symbol allowlist and top N."""

from __future__ import annotations

import argparse

import pytest

from tickerstream.cli.metrics_args import add_market_args, add_metrics_args, market_config_from_args
from tickerstream.errors import UsageError


def test_metrics_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKER_METRICS_PORT", raising=False)
    monkeypatch.setenv("TICKER_METRICS_HOST", "0.0.0.0")
    parser = argparse.ArgumentParser()
    add_metrics_args(parser, default_port=9322)
    args = parser.parse_args([])
    assert (args.metrics_host, args.metrics_port, args.no_metrics) == ("0.0.0.0", 9322, False)
    assert parser.parse_args(["--metrics-port", "0", "--no-metrics"]).metrics_port == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--metrics-port", "70000"])


def test_market_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKER_METRICS_TOP_N", "7")
    parser = argparse.ArgumentParser()
    add_market_args(parser)
    cfg = market_config_from_args(parser.parse_args(["--metrics-symbols", "btc, usdc,"]))
    assert cfg.allowlist == {"BTC", "USDC"} and cfg.top_n == 7
    with pytest.raises(UsageError):
        market_config_from_args(parser.parse_args(["--metrics-top-n", "-1"]))
    monkeypatch.setenv("TICKER_METRICS_TOP_N", "many")
    bad = argparse.ArgumentParser()
    add_market_args(bad)
    with pytest.raises(SystemExit):  # a bad environment value is a usage error too, not a traceback
        bad.parse_args([])
