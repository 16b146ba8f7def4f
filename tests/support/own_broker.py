"""A Kafka broker of the test's own, on free ports with its own data dir, that tests may stop and start.

The shared broker (127.0.0.1:9092) serves everybody's tests and must never be stopped; fault tests
(an outage, a restart) and the SASL_SSL tests run this one instead, through the project's own scripts
(deploy/kafka/up.sh, down.sh), so what they exercise is what ``make kafka-up`` runs. ``stop()`` is a
clean SIGTERM shutdown (data kept), ``kill()`` a SIGKILL, ``start()`` brings it back on the same ports
and data. The fixture stops it whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.paths import REPO

SCRIPTS = REPO / "deploy" / "kafka"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair(low: int = 20_000, high: int = 29_000) -> int:
    """A port P with P and P+1 (the controller, see deploy/kafka/lib.sh) both free."""
    for _ in range(200):
        port = random.randrange(low, high, 2)
        if _free(port) and _free(port + 1):
            return port
    raise RuntimeError("no free port pair for a broker of our own")


class OwnBroker:
    def __init__(self, run_dir: Path, port: int, env: Mapping[str, str] | None = None) -> None:
        self.run_dir = run_dir
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "KAFKA_PORT": str(port),
            "KAFKA_RUN_DIR": str(run_dir),
            "KAFKA_HEAP": "-Xms128m -Xmx384m",
            **(env or {}),
        }

    def _script(self, name: str, timeout_s: float) -> None:
        proc = subprocess.run(
            ["bash", str(SCRIPTS / name)], env=self.env, capture_output=True, text=True, timeout=timeout_s
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")

    def start(self) -> None:
        # Bounded by up.sh's own KAFKA_START_TIMEOUT (90 s) plus the jar check.
        self._script("up.sh", timeout_s=240)

    def stop(self) -> None:
        """Clean shutdown (SIGTERM, SIGKILL after down.sh's 30 s); topics and offsets are kept."""
        self._script("down.sh", timeout_s=120)

    def kill(self) -> None:
        """SIGKILL: a crash, no clean shutdown (the next start recovers its logs)."""
        pid_file = self.run_dir / "broker.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        self.stop()  # waits for it to be gone and removes the pid file


def own_broker_fixture(
    tmp_path_factory: pytest.TempPathFactory, env: Mapping[str, str] | None = None
) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path_factory.mktemp("broker"), free_port_pair(), env)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    """A broker of this test module's own (started once per module, stopped at its end)."""
    yield from own_broker_fixture(tmp_path_factory)
