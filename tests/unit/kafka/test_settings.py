"""Kafka settings from one config file with tables per part, and TLS settings refused with one line
(issue #9, item 7: ``--config`` refused ``[kafka]`` and ``sasl_password``; a missing ``ssl_cafile``
was a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.errors import ConfigError
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.processor.config import ProcessorConfig

ONE_FILE = """
[moves]
zscore_k = 5.0

[kafka]
bootstrap_servers = "broker:9093"
security_protocol = "SASL_PLAINTEXT"
sasl_mechanism = "SCRAM-SHA-512"
sasl_username = "ticker"
sasl_password = "from-the-file"

[process]
group = "desk"
"""


def test_one_file_serves_every_part(tmp_path: Path) -> None:
    path = tmp_path / "tickerstream.toml"
    path.write_text(ONE_FILE)
    kafka = load_settings(KafkaSettings, path, env={}, file_section="kafka")
    assert kafka.bootstrap_servers == "broker:9093" and kafka.sasl_password == "from-the-file"
    assert load_settings(ProcessorConfig, path, env={}, file_section="process").group == "desk"
    assert load_settings(EngineConfig, path, env={}).moves.zscore_k == 5.0


def test_a_flat_kafka_file_still_works(tmp_path: Path) -> None:
    path = tmp_path / "kafka.toml"
    path.write_text('bootstrap_servers = "broker:9093"\n')
    assert load_settings(KafkaSettings, path, env={}, file_section="kafka").bootstrap_servers == "broker:9093"


def test_the_environment_still_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tickerstream.toml"
    path.write_text(ONE_FILE)
    env = {"TICKER_KAFKA__SASL_PASSWORD": "from-env"}
    kafka = load_settings(KafkaSettings, path, env=env, env_section="KAFKA", file_section="kafka")
    assert kafka.sasl_password == "from-env"


def test_a_missing_ca_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ssl_cafile .*missing\.pem is not a file"):
        load_settings(KafkaSettings, env={}, overrides=[f'ssl_cafile="{tmp_path / "missing.pem"}"'])


def test_a_ca_file_without_certificates_is_one_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    settings = KafkaSettings(security_protocol="SSL", ssl_cafile=str(junk))
    with pytest.raises(ConfigError, match="not a usable CA bundle"):
        settings.client_kwargs()
