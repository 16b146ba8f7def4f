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
