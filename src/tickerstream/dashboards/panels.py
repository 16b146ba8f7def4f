"""Plain-Python builders for Grafana dashboard JSON (schema 39, Grafana 10/11).

Plain dicts instead of a dashboards-as-code library: two dashboards do not justify a dependency,
and the output is exactly the JSON Grafana stores, so a diff of the committed files reads like a
diff of the dashboards. Only current panel types (timeseries, stat, state-timeline, table,
bargauge); every panel and target names the provisioned datasource by its fixed uid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The uid of the Prometheus datasource in deploy/grafana/provisioning/datasources/.
DATASOURCE_UID = "tickerstream-prom"
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": DATASOURCE_UID}
SCHEMA_VERSION = 39
GRID_WIDTH = 24

Json = dict[str, Any]
#: Threshold steps: (value or None for the base step, colour), ascending.
Steps = Sequence[tuple[float | None, str]]


@dataclass(frozen=True, slots=True)
class Q:
    """One PromQL target: ``legend`` is Grafana's legendFormat, ``instant`` for tables/stats."""

    expr: str
    legend: str = ""
    instant: bool = False


def targets(queries: Sequence[Q], table: bool = False) -> list[Json]:
    out: list[Json] = []
    for i, q in enumerate(queries):
        t: Json = {
            "refId": chr(ord("A") + i),
            "datasource": dict(DATASOURCE),
            "editorMode": "code",
            "expr": q.expr,
            "legendFormat": q.legend or "__auto",
            "range": not q.instant,
            "instant": q.instant,
        }
        if table:
            t["format"] = "table"
        out.append(t)
    return out


def thresholds(steps: Steps = ((None, "green"),)) -> Json:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def value_mappings(mapping: Mapping[int, tuple[str, str]]) -> list[Json]:
    """Numeric value -> (text, colour), e.g. the peg state gauge."""
    options = {
        str(value): {"text": text, "color": color, "index": i}
        for i, (value, (text, color)) in enumerate(mapping.items())
    }
    return [{"type": "value", "options": options}]


def _base(
    kind: str, title: str, description: str, queries: Sequence[Q], unit: str, table: bool = False
) -> Json:
    defaults: Json = {"unit": unit, "thresholds": thresholds(), "mappings": []}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": dict(DATASOURCE),
        "targets": targets(queries, table),
        "fieldConfig": {"defaults": defaults, "overrides": []},
    }


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Q],
    unit: str,
    *,
    steps: Steps | None = None,
    threshold_style: str = "off",
    log_scale: bool = False,
    stack: bool = False,
    min_value: float | None = None,
) -> Json:
    p = _base("timeseries", title, description, queries, unit)
    custom: Json = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10 if stack else 0,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "thresholdsStyle": {"mode": threshold_style},
        "scaleDistribution": {"type": "log", "log": 10} if log_scale else {"type": "linear"},
    }
    defaults = p["fieldConfig"]["defaults"]
    defaults["custom"] = custom
    defaults["color"] = {"mode": "palette-classic"}
    if steps is not None:
        defaults["thresholds"] = thresholds(steps)
    if min_value is not None:
        defaults["min"] = min_value
    p["options"] = {
        "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return p


def stat(
    title: str,
    description: str,
    queries: Sequence[Q],
    unit: str,
    *,
    steps: Steps = ((None, "green"),),
    mappings: list[Json] | None = None,
    color_mode: str = "value",
) -> Json:
    p = _base("stat", title, description, queries, unit)
    defaults = p["fieldConfig"]["defaults"]
    defaults["thresholds"] = thresholds(steps)
    defaults["color"] = {"mode": "thresholds"}
    if mappings:
        defaults["mappings"] = mappings
    p["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": color_mode,
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
    }
    return p


def state_timeline(
    title: str, description: str, queries: Sequence[Q], mappings: list[Json], steps: Steps
) -> Json:
    p = _base("state-timeline", title, description, queries, "none")
    defaults = p["fieldConfig"]["defaults"]
    defaults["mappings"] = mappings
    defaults["thresholds"] = thresholds(steps)
    defaults["color"] = {"mode": "thresholds"}
    defaults["custom"] = {"fillOpacity": 80, "lineWidth": 0}
    p["options"] = {
        "showValue": "never",
        "mergeValues": True,
        "alignValue": "left",
        "rowHeight": 0.9,
        "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return p


def bargauge(
    title: str, description: str, queries: Sequence[Q], unit: str, *, steps: Steps = ((None, "green"),)
) -> Json:
    p = _base("bargauge", title, description, queries, unit)
    defaults = p["fieldConfig"]["defaults"]
    defaults["thresholds"] = thresholds(steps)
    defaults["color"] = {"mode": "thresholds"}
    p["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "basic",
        "showUnfilled": True,
        "valueMode": "color",
        "namePlacement": "left",
    }
    return p


def table(
    title: str, description: str, queries: Sequence[Q], unit: str, *, column_units: Mapping[str, str]
) -> Json:
    """One row per series label set, one column per query (merged); ``column_units`` maps a
    query's refId to its unit (its column is ``Value #<refId>``)."""
    p = _base("table", title, description, queries, unit, table=True)
    p["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": f"Value #{ref}"},
            "properties": [{"id": "unit", "value": u}],
        }
        for ref, u in column_units.items()
    ]
    p["transformations"] = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": {}}},
    ]
    p["options"] = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    return p


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


@dataclass(slots=True)
class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping to a new line; a row
    starts a new line of its own. Panel ids are assigned in order (stable across regenerations)."""

    panels: list[Json] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _line_h: int = 0

    def add(self, panel: Json, w: int = GRID_WIDTH, h: int = 8) -> None:
        if panel["type"] == "row":
            self._newline()
            w, h = GRID_WIDTH, 1
        elif self._x + w > GRID_WIDTH:
            self._newline()
        panel = {"id": len(self.panels) + 1, "gridPos": {"x": self._x, "y": self._y, "w": w, "h": h}, **panel}
        self.panels.append(panel)
        self._x += w
        self._line_h = max(self._line_h, h)
        if panel["type"] == "row":
            self._newline()

    def _newline(self) -> None:
        self._y += self._line_h
        self._x = self._line_h = 0


def query_variable(name: str, label: str, query: str, *, multi: bool = True) -> Json:
    """A variable filled from ``label_values(...)``; "All" means the regex ``.*``, so panels use
    ``label=~"$name"``."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(DATASOURCE),
        "query": query,
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
    }


def dashboard(uid: str, title: str, description: str, panels: list[Json], variables: list[Json]) -> Json:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["tickerstream"],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "links": [
            {
                "type": "dashboards",
                "title": "tickerstream",
                "tags": ["tickerstream"],
                "asDropdown": False,
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {"list": variables},
        "panels": panels,
    }
