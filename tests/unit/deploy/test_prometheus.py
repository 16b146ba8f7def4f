"""deploy/prometheus: promtool accepts the config and rules, the rule unit tests pass, and every alert
has a test that fires it and one that does not; ports and watched symbols agree with the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO
from tests.support.tools import promtool
from tickerstream.cli.metrics_args import DEFAULT_SYMBOLS
from tickerstream.metrics.server import PROCESSOR_PORT, PRODUCER_PORT

PROM = REPO / "deploy" / "prometheus"
RULES = sorted((PROM / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROM / "tests").glob("*.yml"))


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def alerts() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for f in RULES for g in load(f)["groups"] for r in g["rules"] if "alert" in r}


@pytest.mark.promtool
def test_promtool_check_config() -> None:
    result = promtool("check", "config", str(PROM / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULES)} rule files found" in result.stdout


@pytest.mark.promtool
def test_promtool_check_rules() -> None:
    assert RULES
    result = promtool("check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.promtool
def test_promtool_test_rules() -> None:
    assert RULE_TESTS
    result = promtool("test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in load(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = set(alerts())
    assert names == {
        "TickerPegWarn",
        "TickerPegCritical",
        "TickerPegSustained",
        "TickerPegReferenceStale",
        "TickerPegSourcesDisagree",
        "TickerPegAmbiguous",
        "TickerStablecoinTicksStopped",
        "TickerTickFromFuture",
        "TickerTicksDroppedLate",
        "TickerScaleJumps",
        "TickerSourceFrozen",
        "TickerSymbolStale",
        "TickerSymbolMissing",
        "TickerProcessDown",
        "TickerConsumerLagGrowing",
        "TickerRejectRatioHigh",
    }
    assert names - fired == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def test_every_alert_has_a_severity_and_a_summary() -> None:
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"], name


def test_scrape_targets_use_the_documented_ports() -> None:
    jobs = {j["job_name"]: j for j in load(PROM / "prometheus.yml")["scrape_configs"]}
    targets = {j: [t for sc in c["static_configs"] for t in sc["targets"]] for j, c in jobs.items()}
    assert targets["ticker-producer"] == [f"producer:{PRODUCER_PORT}"]
    assert targets["ticker-processor"] == [f"processor-1:{PROCESSOR_PORT}", f"processor-2:{PROCESSOR_PORT}"]


def test_watched_symbols_are_the_default_allowlist() -> None:
    """Allowlisted symbols keep their series when quiet; the stale/missing alerts rely on that."""
    default = set(DEFAULT_SYMBOLS.split(","))
    stale = alerts()["TickerSymbolStale"]["expr"]
    (pattern,) = re.findall(r'symbol=~"([^"]+)"', stale)
    assert set(pattern.split("|")) == default
    missing = alerts()["TickerSymbolMissing"]["expr"]
    assert set(re.findall(r'symbol="([^"]+)"', missing)) == default
