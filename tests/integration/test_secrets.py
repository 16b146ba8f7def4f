"""No secret reaches a log line or an error message: the CLIs run with a SASL password set, at DEBUG.

Three ways a password could leak are run for real: a SASL handshake the broker refuses (the error path),
a normal produce run with the password in the environment (every lifecycle log line at DEBUG), and a
password that is not valid as a string setting (the config error path, which quotes values).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.paths import DATA

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory

BIN = Path(sys.executable).parent
SECRET = "S3cr3t-pw-42-do-not-log"


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **(env or {})}
    )


def test_a_refused_sasl_login_does_not_print_the_password(kafka_bootstrap: str, topic_prefix: str) -> None:
    # The local broker speaks PLAINTEXT only: the SASL handshake fails, and the failure is reported.
    proc = run(
        [
            str(BIN / "ticker-process"), "--bootstrap-servers", kafka_bootstrap, "--no-metrics",
            "--log-level", "DEBUG", "--log-format", "json", "--group", topic_prefix + "g",
            "--set", f'kafka.topics.ticks="{topic_prefix}ticks"',
            "--set", 'kafka.security_protocol="SASL_PLAINTEXT"',
            "--set", 'kafka.sasl_username="alice"',
            "--set", f'kafka.sasl_password="{SECRET}"',
        ]
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-2000:]  # Kafka not usable: a failure, not a usage error
    assert "ticker-process: error: cannot reach Kafka" in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout


def test_a_produce_run_with_a_password_set_logs_no_password(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path
) -> None:
    ticks, rejects = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    proc = run(
        [
            str(BIN / "ticker-produce"), "--bootstrap-servers", kafka_bootstrap, "--ticks-topic", ticks,
            "--rejects-topic", rejects, "--log-level", "DEBUG", "--log-format", "json",
            "--metrics-port", "0", "--ts", "2025-01-20T12:00:00Z", str(DATA / "seed_page.txt"),
        ],
        env={"TICKER_KAFKA__SASL_USERNAME": "alice", "TICKER_KAFKA__SASL_PASSWORD": SECRET},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"event": "produce.done"' in proc.stderr  # the run logged its lifecycle
    assert SECRET not in proc.stderr + proc.stdout


def test_a_password_that_is_not_a_string_is_refused_without_echoing_it() -> None:
    proc = run([str(BIN / "ticker-process"), "--no-metrics", "--set", "kafka.sasl_password=8675309123"])
    assert proc.returncode == 2
    assert "sasl_password expects a string, got [redacted]" in proc.stderr
    assert "8675309123" not in proc.stderr + proc.stdout
