"""Grafana dashboards as code: ``python -m tickerstream.dashboards`` writes deploy/grafana/dashboards/.

The committed JSON is generated, never edited by hand (a unit test compares the two); edit
``markets.py`` / ``pipeline.py`` and regenerate. ``queries`` gives every panel's PromQL with the
variables substituted, for the live test against a real Prometheus.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tickerstream.dashboards import markets, pipeline
from tickerstream.dashboards.panels import DATASOURCE_UID, Json

#: File name (without .json) -> builder.
DASHBOARDS: dict[str, Callable[[], Json]] = {"markets": markets.build, "pipeline": pipeline.build}


def render(name: str) -> str:
    """The exact text of deploy/grafana/dashboards/<name>.json."""
    return json.dumps(DASHBOARDS[name](), indent=2, ensure_ascii=False) + "\n"


__all__ = ["DASHBOARDS", "DATASOURCE_UID", "render"]
