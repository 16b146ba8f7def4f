"""ticker-process settings (``processor.config``): loaded in layers, nonsense refused."""

from __future__ import annotations

import pytest

from tickerstream.config import load_settings
from tickerstream.errors import ConfigError
from tickerstream.processor.config import ProcessorConfig


def test_processor_config_loads_and_refuses_nonsense() -> None:
    cfg = load_settings(
        ProcessorConfig, env={"TICKER_PROCESS__COMMIT_INTERVAL_MS": "250"}, env_section="PROCESS"
    )
    assert cfg.commit_interval_ms == 250 and not cfg.exactly_once
    with pytest.raises(ConfigError, match="commit_interval_ms"):
        load_settings(ProcessorConfig, overrides=["commit_interval_ms=0"])
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(ProcessorConfig, overrides=["comit_interval_ms=10"])


@pytest.mark.parametrize(
    "override",
    [
        "poll_timeout_ms=-5",
        "poll_timeout_ms=0",
        "max_future_ms=-1",
        "ref_gate_timeout_ms=-1",
        "session_timeout_ms=0",
        "max_poll_interval_ms=-1",
        "metadata_max_age_ms=0",
    ],
)
def test_negative_or_zero_durations_are_refused(override: str) -> None:
    with pytest.raises(ConfigError, match=override.split("=")[0]):
        load_settings(ProcessorConfig, overrides=[override])


def test_zero_max_future_still_disables_the_check() -> None:
    assert load_settings(ProcessorConfig, overrides=["max_future_ms=0"]).max_future_ms == 0
