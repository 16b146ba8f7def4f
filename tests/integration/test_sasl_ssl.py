"""SASL_SSL with SCRAM-SHA-512 on a real broker: a broker of this module's own (deploy/kafka/up.sh
with ``KAFKA_SASL_SSL_PORT``; TLS certificates made by openssl for the run, a SCRAM user created when
its storage is formatted). ticker-produce, the main job (producer and processor), ticker-process and
ticker-replay --from-topic connect through it; a wrong password or an untrusted CA is one line.

The password comes from the environment (``TICKER_KAFKA__SASL_PASSWORD``) or from the ``[kafka]``
table of a ``--config`` file, as docs/kafka.md says; never from ``--set`` (the process list).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from aiokafka.errors import KafkaError

from tests.support.own_broker import OwnBroker, free_port_pair
from tests.support.paths import DATA
from tests.support.processes import ChildProcesses
from tests.support.processor import committed_offsets

pytestmark = pytest.mark.timeout(600)

USER = "ticker"


@dataclass(frozen=True)
class SecureBroker:
    broker: OwnBroker
    bootstrap: str  # the SASL_SSL listener
    cafile: Path
    password: str

    def env(self, password: str | None = None, cafile: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKER_", "KAFKA_BOOTSTRAP"))}
        env.update(
            TICKER_KAFKA__SECURITY_PROTOCOL="SASL_SSL",
            TICKER_KAFKA__SASL_MECHANISM="SCRAM-SHA-512",
            TICKER_KAFKA__SASL_USERNAME=USER,
            TICKER_KAFKA__SASL_PASSWORD=self.password if password is None else password,
            TICKER_KAFKA__SSL_CAFILE=str(cafile or self.cafile),
        )
        return env


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    password = secrets.token_urlsafe(16)
    plain = free_port_pair()
    sasl = free_port_pair()
    run_dir = tmp_path_factory.mktemp("secure-broker")
    broker = OwnBroker(
        run_dir, plain, {"KAFKA_SASL_SSL_PORT": str(sasl), "KAFKA_SCRAM_USERS": f"{USER}:{password}"}
    )
    try:
        broker.start()
        yield SecureBroker(broker, f"127.0.0.1:{sasl}", run_dir / "tls" / "ca.pem", password)
    finally:
        broker.stop()


def _cli(
    module: str, *args: str, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_main_job_and_replay_from_topic_through_sasl_ssl(secure: SecureBroker, tmp_path: Path) -> None:
    # The password from a config file's [kafka] table (the environment has none).
    config = tmp_path / "tickerstream.toml"
    config.write_text(f'[kafka]\nsasl_password = "{secure.password}"\n')
    env = secure.env()
    del env["TICKER_KAFKA__SASL_PASSWORD"]
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    on_kafka = _cli(
        "tickerstream.cli.main", "run", "--bootstrap-servers", secure.bootstrap, "--config", str(config),
        "--group", "secure-main", "--log-level", "WARNING", env=env,
    )  # fmt: skip
    assert on_kafka.returncode == 0, on_kafka.stderr[-3000:]
    embedded = _cli("tickerstream.cli.main", "run", "--quiet", env=env)
    assert embedded.returncode == 0, embedded.stderr[-3000:]
    events = sorted(on_kafka.stdout.splitlines())
    assert events and events == sorted(embedded.stdout.splitlines())

    # ticker-replay --from-topic reads the same ticks back through SASL_SSL (password from the env).
    out = tmp_path / "replayed.jsonl"
    replay = _cli(
        "tickerstream.cli.replay", "--from-topic", "ticker.ticks", "--bootstrap-servers", secure.bootstrap,
        "--start", start, "--out", str(out), env=secure.env(),
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert sorted(out.read_text().splitlines()) == events


def test_produce_and_process_through_sasl_ssl(
    secure: SecureBroker, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    env = secure.env()
    topics = ["--set", 'kafka.topics.ticks="sec.ticks"', "--set", 'kafka.topics.moves="sec.moves"']
    topics += ["--set", 'kafka.topics.pegs="sec.pegs"', "--set", 'kafka.topics.rejects="sec.rejects"']
    topics += ["--set", 'kafka.topics.quality="sec.quality"']
    produce = _cli(
        "tickerstream.cli.produce", "--bootstrap-servers", secure.bootstrap, "--ticks-topic", "sec.ticks",
        "--rejects-topic", "sec.rejects", "--no-metrics", str(DATA / "seed_page.txt"), env=env,
    )  # fmt: skip
    assert produce.returncode == 0, produce.stderr[-3000:]
    assert "50 ticks" in produce.stderr
    log = tmp_path / "process.log"
    with log.open("wb") as fh:
        proc = child_processes.add(
            subprocess.Popen(
                [sys.executable, "-m", "tickerstream.cli.process", "--bootstrap-servers", secure.bootstrap,
                 "--group", "secure-proc", "--no-metrics", "--log-format", "json", *topics],
                env=env, stdout=subprocess.DEVNULL, stderr=fh,
            )
        )  # fmt: skip
    # Done when the group committed all 50 ticks (read over the broker's PLAINTEXT listener); bounded
    # by the group join and restore, not by this machine's speed: generous, and fails at once on exit.
    deadline = time.monotonic() + 180
    while _committed(secure.broker.bootstrap, "secure-proc") < 50:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    stopped = [orjson.loads(x) for x in log.read_text().splitlines() if '"process.stopped"' in x]
    assert stopped and stopped[-1]["ticks"] == 50 and stopped[-1]["commits"] >= 1


def _committed(bootstrap: str, group: str) -> int:
    try:
        return sum(asyncio.run(committed_offsets(bootstrap, group)).values())
    except KafkaError:  # no coordinator yet: the group has not joined
        return 0


@pytest.mark.parametrize("what", ["wrong password", "untrusted CA"])
@pytest.mark.parametrize("module", ["tickerstream.cli.produce", "tickerstream.cli.process"])
def test_a_wrong_password_or_ca_is_one_line(
    secure: SecureBroker, tmp_path: Path, what: str, module: str
) -> None:
    if what == "wrong password":
        env, expect = secure.env(password="not-the-password"), "invalid credentials"
    else:
        other = tmp_path / "other-ca.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
             "-keyout", str(tmp_path / "other.key"), "-out", str(other)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        env, expect = secure.env(cafile=other), "certificate verify failed"
    args = ["--bootstrap-servers", secure.bootstrap, "--no-metrics"]
    if module.endswith("produce"):
        args.append(str(DATA / "seed_page.txt"))
    proc = _cli(module, *args, env=env, timeout=180)
    prog = "ticker-produce" if module.endswith("produce") else "ticker-process"
    errors = [line for line in proc.stderr.splitlines() if line.startswith(f"{prog}: error:")]
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert len(errors) == 1 and expect in errors[0], proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert env["TICKER_KAFKA__SASL_PASSWORD"] not in proc.stderr
