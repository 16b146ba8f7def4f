"""Ground truth: documented historical depegs and the reference-outage cases, each with its expected
episode sequence (scenarios and their sources: ``peg_scenarios.py``; the table: docs/pegs.md)."""

from __future__ import annotations

import pytest

from tests.unit.engine.peg_scenarios import SCENARIOS, Scenario, episodes, first_alert_latency_s, run


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_gives_the_expected_episodes(scenario: Scenario) -> None:
    events = run(scenario)
    scenario.check(events, episodes(events))
    assert scenario.sources  # every scenario says where its numbers come from


def test_every_event_of_every_scenario_is_schema_valid(validate_record) -> None:  # type: ignore[no-untyped-def]
    import orjson

    for s in SCENARIOS:
        for ev in run(s):
            validate_record("peg", orjson.loads(ev.to_json()))


def test_historical_depegs_alert_within_one_page_of_crossing_warn() -> None:
    """Confirmation (2 min for USD stables) costs one page at a 10-minute page cadence, no more."""
    for s in SCENARIOS[:4]:
        latency = first_alert_latency_s(s, run(s))
        assert latency is not None and 0 <= latency <= 600, (s.name, latency)


def test_the_docs_table_is_what_the_engine_reports() -> None:
    from tests.support.paths import REPO
    from tests.unit.engine.peg_scenarios import table

    assert table() in (REPO / "docs" / "pegs.md").read_text("utf-8"), (
        "docs/pegs.md is stale: PYTHONPATH=src python -m tests.unit.engine.peg_scenarios"
    )
