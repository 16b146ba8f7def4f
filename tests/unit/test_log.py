"""Logging: secrets are redacted before rendering, settings never show the password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tickerstream.config import load_settings
from tickerstream.errors import ConfigError
from tickerstream.kafka.settings import KafkaSettings
from tickerstream.log import REDACTED, configure_logging, get_logger, redact_secrets

SECRET = "hunter2-xyz"


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_redact_secrets_replaces_secret_keys_also_nested() -> None:
    out = redact_secrets(
        None,
        "info",
        {
            "event": "x",
            "sasl_password": SECRET,
            "api_token": SECRET,
            "kafka": {"sasl_plain_password": SECRET, "bootstrap": "b:9092"},
            "clients": [{"client_secret": SECRET}],
            "topic": "t",
        },
    )
    assert SECRET not in repr(out)
    assert out["sasl_password"] == REDACTED and out["kafka"]["bootstrap"] == "b:9092" and out["topic"] == "t"


@pytest.mark.parametrize("json", [True, False])
def test_rendered_log_lines_carry_no_secret(
    json: bool, capsys: pytest.CaptureFixture[str], fresh_logging: None
) -> None:
    configure_logging("DEBUG", json=json)
    get_logger("t").info("kafka.connect", sasl_password=SECRET, options={"sasl_plain_password": SECRET})
    err = capsys.readouterr().err
    assert "kafka.connect" in err and SECRET not in err


def test_kafka_settings_hide_the_password_and_hand_it_to_clients() -> None:
    s = KafkaSettings(security_protocol="SASL_SSL", sasl_username="alice", sasl_password=SECRET)
    assert SECRET not in repr(s)
    kw = s.client_kwargs()
    assert kw["sasl_plain_password"] == SECRET and kw["sasl_mechanism"] == "PLAIN"
    assert kw["security_protocol"] == "SASL_SSL" and "ssl_context" in kw
    assert KafkaSettings().client_kwargs() == {}  # PLAINTEXT: clients built as before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (['security_protocol="SASL_PLAINTEXT"'], "needs sasl_username"),
        (['security_protocol="TLS"'], "security_protocol must be one of"),
        (['sasl_mechanism="GSSAPI"'], "sasl_mechanism must be one of"),
        ([f"sasl_password={12345}"], "sasl_password expects a string, got [redacted]"),
    ],
)
def test_bad_security_settings_are_config_errors(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as exc:
        load_settings(KafkaSettings, env={}, overrides=overrides)
    assert "12345" not in str(exc.value)


def test_repeated_library_lines_are_rate_limited_and_counted() -> None:
    """A deleted topic or an outage made aiokafka log the same line ~1,000 times a second."""
    import logging

    from tickerstream.log import RepeatLimiter

    now = [0.0]
    limiter = RepeatLimiter(interval_s=10.0, clock=lambda: now[0])

    def rec(msg: str) -> logging.LogRecord:
        return logging.LogRecord("aiokafka.cluster", logging.ERROR, "x", 1, msg, (), None)

    passed = [
        r for r in (rec("Topic %s not found in cluster metadata") for _ in range(1000)) if limiter.filter(r)
    ]
    assert len(passed) == 1
    assert limiter.filter(rec("another message"))  # a different line is not held back
    now[0] = 10.5
    late = rec("Topic %s not found in cluster metadata")
    assert limiter.filter(late) and "repeated 999 times" in late.msg
