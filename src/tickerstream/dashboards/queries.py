"""Every PromQL query of a dashboard, with Grafana's variables substituted, for checking the
dashboards against a real Prometheus (no Grafana server is needed to know a panel has data).

Grafana-only syntax is resolved the way Grafana would: ``$__rate_interval``, ``$__interval`` and
``$__range`` (and ``${name}`` / ``[[name]]`` forms) become durations, template variables their
"All" value (``.*``) unless given. ``label_values(metric, label)`` variable queries are returned
as (metric selector, label) so a test can ask Prometheus' series API for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$")


@dataclass(frozen=True, slots=True)
class PanelQuery:
    dashboard: str  # dashboard uid
    panel: str  # panel title
    ref_id: str
    expr: str  # as written in the dashboard, variables and all
    instant: bool

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


def panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def panel_queries(dashboard: Mapping[str, Any]) -> list[PanelQuery]:
    return [
        PanelQuery(dashboard["uid"], p["title"], t["refId"], t["expr"], bool(t.get("instant")))
        for p in panels(dashboard)
        for t in p.get("targets", [])
        if t.get("expr")
    ]


def variable_values(
    dashboard: Mapping[str, Any], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Template variables -> the value Grafana substitutes: ``overrides`` or the "All" value."""
    values = {v["name"]: v.get("allValue") or ".*" for v in dashboard.get("templating", {}).get("list", [])}
    values.update(overrides or {})
    return values


def substitute(
    expr: str,
    variables: Mapping[str, str],
    *,
    rate_interval: str = "1m",
    interval: str = "15s",
    range_: str = "1h",
) -> str:
    """``expr`` with every ``$variable`` replaced; an unknown variable is a ``KeyError``."""
    builtins = {"__rate_interval": rate_interval, "__interval": interval, "__range": range_}

    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name in builtins:
            return builtins[name]
        if name in variables:
            return variables[name]
        raise KeyError(f"undefined dashboard variable ${name} in {expr!r}")

    return _VAR.sub(value, expr)


def resolved_queries(
    dashboard: Mapping[str, Any],
    variables: Mapping[str, str] | None = None,
    *,
    rate_interval: str = "1m",
    interval: str = "15s",
    range_: str = "1h",
) -> list[tuple[PanelQuery, str]]:
    """Every panel query and its PromQL as Grafana would send it."""
    values = variable_values(dashboard, variables)
    return [
        (q, substitute(q.expr, values, rate_interval=rate_interval, interval=interval, range_=range_))
        for q in panel_queries(dashboard)
    ]


def variable_queries(dashboard: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Template variable name -> (series selector, label) of its ``label_values`` query."""
    out: dict[str, tuple[str, str]] = {}
    for v in dashboard.get("templating", {}).get("list", []):
        query = v.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query)
        m = _LABEL_VALUES.match(text)
        if m is None:
            raise ValueError(f"variable {v['name']}: not a label_values() query: {text!r}")
        out[v["name"]] = (m.group(1).strip(), m.group(2))
    return out
