"""The main job on Kafka (`tickerstream run --bootstrap-servers`) gives the events of the embedded run."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson

from tickerstream.cli.main import bundled_sample_dir

TOPIC_FIELDS = ("ticks", "moves", "pegs", "rejects", "refprices")


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tickerstream.cli.main", "run", *args, "--log-level", "WARNING"],
        capture_output=True,
        timeout=240,
        check=False,
        env=env,
    )


def test_kafka_run_prints_the_same_events_as_the_embedded_run(kafka_bootstrap, kafka_topics):
    env = dict(os.environ)
    for field in TOPIC_FIELDS:
        env[f"TICKER_KAFKA__TOPICS__{field.upper()}"] = kafka_topics.name(field)
    group = kafka_topics.prefix + "group"
    # Created by the processor (per group); registered so they are cleaned up with the others.
    kafka_topics.name(f"ticks.{group}.checkpoints")
    kafka_topics.name(f"refprices.{group}")

    on_kafka = run_main("--bootstrap-servers", kafka_bootstrap, "--group", group, env=env)
    assert on_kafka.returncode == 0, on_kafka.stderr.decode()[-3000:]
    embedded = run_main("--quiet")
    assert embedded.returncode == 0, embedded.stderr.decode()[-3000:]

    kafka_events = sorted(on_kafka.stdout.splitlines())
    assert kafka_events == sorted(embedded.stdout.splitlines())
    kinds = {orjson.loads(line)["type"] for line in kafka_events}
    assert kinds == {"move", "peg"}
    assert b"5,000 ticks produced" in on_kafka.stderr
    assert os.path.isdir(bundled_sample_dir())

    # A second group on the same topics has its own state: it reads the topic from the start and
    # finds the same events (the re-produced ticks are duplicates to it), instead of restoring the
    # first group's checkpoints and skipping everything.
    other = kafka_topics.prefix + "other"
    kafka_topics.name(f"ticks.{other}.checkpoints")
    kafka_topics.name(f"refprices.{other}")
    again = run_main("--bootstrap-servers", kafka_bootstrap, "--group", other, env=env)
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    assert sorted(again.stdout.splitlines()) == kafka_events


def test_unreachable_broker_is_a_one_line_error():
    proc = run_main("--bootstrap-servers", "127.0.0.1:1")
    assert proc.returncode == 1  # a failure outside the user's control, not a usage error (README)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "tickerstream: error:" in err
