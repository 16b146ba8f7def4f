from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    threshold: float = 5.0
    horizons: tuple[int, ...] = (3600, 86400)
    label: str | None = None


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    enabled: bool = True


def test_defaults_when_nothing_is_set() -> None:
    assert load_settings(Outer, env={}) == Outer()


def test_layers_file_then_env_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("enabled = false\n[inner]\nthreshold = 1.5\nlabel = 'file'\n")
    env = {"TICKER_INNER__THRESHOLD": "2.5", "TICKER_INNER__LABEL": "env"}
    got = load_settings(Outer, file, env=env, overrides=["inner.label=flag", "inner.horizons=[60, 120]"])
    assert got == Outer(Inner(threshold=2.5, horizons=(60, 120), label="flag"), enabled=False)


def test_env_section_ignores_other_commands_variables() -> None:
    env = {"TICKER_LOG_LEVEL": "DEBUG", "TICKER_ENGINE__ENABLED": "false"}
    assert load_settings(Outer, env=env, env_section="ENGINE") == Outer(enabled=False)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("inner.thresh=1", "unknown setting inner.thresh"),
        ("inner.threshold=abc", "inner.threshold expects a number"),
        ("enabled=1", "enabled expects true or false"),
        ("inner=3", "inner is a section"),
        ("noequals", "--set expects key=value"),
        ("inner.horizons=5", "expects a list"),
    ],
)
def test_mistakes_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(Outer, env={}, overrides=[override])


def test_missing_and_broken_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(Outer, tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[inner\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(Outer, bad, env={})


def test_engine_config_validation_errors_surface_as_config_errors() -> None:
    with pytest.raises(ConfigError, match="moves"):
        load_settings(EngineConfig, env={}, overrides=["moves.threshold_pct=[1.0]"])
    cfg = load_settings(EngineConfig, env={}, overrides=["moves.zscore_k=4", "pegs.warn_bps=40"])
    assert cfg.moves.zscore_k == 4.0 and cfg.pegs.warn_bps == 40.0
