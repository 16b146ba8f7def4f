"""deploy/grafana: committed dashboards equal the generator's output, pass a lint, use only metrics
that exist, and parse as PromQL (promtool); provisioning names the datasource the panels use."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO
from tests.support.tools import promtool
from tickerstream.dashboards import DASHBOARDS, DATASOURCE_UID, render
from tickerstream.dashboards.__main__ import main as generate
from tickerstream.dashboards.markets import peg_bands
from tickerstream.dashboards.queries import (
    panel_queries,
    panels,
    resolved_queries,
    substitute,
    variable_queries,
)
from tickerstream.engine.config import PegConfig
from tickerstream.metrics import create_metrics

GRAFANA = REPO / "deploy" / "grafana"
CURRENT_TYPES = {"timeseries", "stat", "state-timeline", "table", "bargauge", "row"}
BUILTIN_VARS = {"__rate_interval", "__interval", "__range"}


def committed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / "dashboards" / f"{name}.json").read_text("utf-8"))
    return data


ALL = {name: committed(name) for name in DASHBOARDS}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_json_is_the_generators_output(name: str) -> None:
    text = (GRAFANA / "dashboards" / f"{name}.json").read_text("utf-8")
    assert text == render(name), "out of date: run .venv/bin/python -m tickerstream.dashboards"


def test_generator_check_mode(tmp_path: Path) -> None:
    assert generate(["--out", str(tmp_path), "--check"]) == 1  # nothing there yet
    assert generate(["--out", str(tmp_path)]) == 0
    assert generate(["--out", str(tmp_path), "--check"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["markets.json", "pipeline.json"]


def test_dashboard_uids_and_titles_are_unique() -> None:
    uids = [d["uid"] for d in ALL.values()]
    titles = [d["title"] for d in ALL.values()]
    assert len(set(uids)) == len(uids) and all(uids)
    assert len(set(titles)) == len(titles) and all(titles)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_lint(name: str) -> None:
    dash = ALL[name]
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    problems: list[str] = []
    for p in panels(dash):
        where = f"{name}: panel {p.get('id')} {p.get('title')!r}"
        if p["type"] not in CURRENT_TYPES:
            problems.append(f"{where}: deprecated or unknown type {p['type']}")
        if not p.get("title"):
            problems.append(f"{where}: no title")
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != DATASOURCE_UID:
            problems.append(f"{where}: panel datasource is not {DATASOURCE_UID}")
        if not p.get("description"):
            problems.append(f"{where}: no description")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{where}: no unit")
        targets = p.get("targets", [])
        if not any(t.get("expr") for t in targets):
            problems.append(f"{where}: no target with an expr")
        for t in targets:
            if t.get("datasource", {}).get("uid") != DATASOURCE_UID:
                problems.append(f"{where}: target {t.get('refId')} datasource is not {DATASOURCE_UID}")
        refs = [t["refId"] for t in targets]
        if len(refs) != len(set(refs)):
            problems.append(f"{where}: duplicate refIds")
    for v in dash["templating"]["list"]:
        if v.get("datasource", {}).get("uid") != DATASOURCE_UID:
            problems.append(f"{name}: variable {v['name']} datasource is not {DATASOURCE_UID}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_fit_the_grid_without_overlap(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    for p in panels(ALL[name]):
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, p["title"]
        cells = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & taken, f"{p['title']} overlaps another panel"
        taken |= cells


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_variable_used_is_defined(name: str) -> None:
    dash = ALL[name]
    defined = {v["name"] for v in dash["templating"]["list"]} | BUILTIN_VARS
    used = {m for q in panel_queries(dash) for m in re.findall(r"\$\{?(\w+)", q.expr)}
    assert used <= defined, used - defined
    assert set(variable_queries(dash)) == defined - BUILTIN_VARS


def known_series_names() -> set[str]:
    """Every series name our metrics and the standard collectors expose (incl. histogram parts)."""
    names = {"up"}
    for fam in create_metrics(process=True).registry.collect():
        if fam.type == "counter":
            names.add(f"{fam.name}_total")
        elif fam.type == "histogram":
            names |= {f"{fam.name}_bucket", f"{fam.name}_sum", f"{fam.name}_count"}
        else:
            names.add(fam.name)
    return names


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_queries_use_only_metrics_that_exist(name: str) -> None:
    known = known_series_names()
    dash = ALL[name]
    exprs = [q.expr for q in panel_queries(dash)] + [sel for sel, _ in variable_queries(dash).values()]
    names = re.compile(r"\b((?:ticker|process|python)_\w+|up)\b(?=\s*[{\[)]|\s|$)")
    used = {m for e in exprs for m in names.findall(e)}
    assert used and used <= known, used - known


@pytest.mark.promtool
def test_queries_parse_as_promql(tmp_path: Path) -> None:
    """promtool parses each substituted panel query as a recording rule: a syntax error in a
    dashboard fails here, before anyone opens Grafana."""
    rules = [
        {"record": f"panel:{dash_name}:{i}", "expr": expr}
        for dash_name, dash in ALL.items()
        for i, (_, expr) in enumerate(resolved_queries(dash))
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}), "utf-8")
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_peg_deviation_bands_are_the_engine_defaults() -> None:
    cfg = PegConfig()
    (dev,) = [p for p in panels(ALL["markets"]) if p["title"] == "Peg deviation"]
    steps = dev["fieldConfig"]["defaults"]["thresholds"]["steps"]
    w, c = cfg.warn_bps, cfg.critical_bps
    assert [s["value"] for s in steps] == [None, -c, -w, w, c]
    assert [s["color"] for s in steps] == ["red", "orange", "green", "orange", "red"]
    assert dev["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line+area"
    assert peg_bands(PegConfig(warn_bps=100, critical_bps=300))[1:3] == ((-300, "orange"), (-100, "green"))


def test_peg_state_timeline_maps_every_state() -> None:
    (timeline,) = [p for p in panels(ALL["markets"]) if p["type"] == "state-timeline"]
    options = timeline["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {k: v["text"] for k, v in options.items()} == {
        "0": "ok",
        "1": "warn",
        "2": "critical",
        "3": "unknown",
    }


def test_substitution() -> None:
    values = {"symbol": "BTC|ETH", "instance": ".*"}
    expr = 'rate(x{symbol=~"$symbol", i=~"${instance}", j=~"[[instance]]"}[$__rate_interval]) offset $__range'
    assert substitute(expr, values, rate_interval="10s", range_="30s") == (
        'rate(x{symbol=~"BTC|ETH", i=~".*", j=~".*"}[10s]) offset 30s'
    )
    with pytest.raises(KeyError, match="nope"):
        substitute("x{a=~'$nope'}", values)


def test_provisioning_names_the_dashboards_datasource() -> None:
    ds = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text("utf-8"))
    (source,) = ds["datasources"]
    assert (source["uid"], source["type"], source["url"]) == (
        DATASOURCE_UID,
        "prometheus",
        "http://prometheus:9090",
    )
    prov = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "tickerstream.yml").read_text("utf-8"))
    (provider,) = prov["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"
    scrape = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text("utf-8"))
    assert source["jsonData"]["timeInterval"] == scrape["global"]["scrape_interval"]
