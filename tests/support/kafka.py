"""Fixtures for tests against a real Kafka broker: finding it, and topics of their own per test.

- ``kafka_bootstrap`` (session): ``KAFKA_BOOTSTRAP_SERVERS`` if set, else the local broker of
  ``make kafka-up`` on 127.0.0.1:9092 (or ``KAFKA_PORT``, the variable the scripts read). A broker
  that does not answer fails the tests, locally and in CI alike: a Kafka test that skips proves nothing.
- ``topic_prefix``: a prefix unique to one test, for its topic names, group ids and transactional ids,
  so tests never see each other's data (also when several people run the suite against one broker).
- ``kafka_topics``: creates topics for a test and deletes them afterwards.

Every test in tests/integration carries the ``kafka`` marker (tests/integration/conftest.py adds it).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


def local_bootstrap() -> str:
    """Where ``make kafka-up`` puts the broker: 127.0.0.1 and ``KAFKA_PORT`` (9092)."""
    return f"127.0.0.1:{os.environ.get('KAFKA_PORT') or 9092}"


async def _broker_answers(bootstrap: str, timeout_s: float) -> str | None:
    """None if the broker returns cluster metadata in time, else what went wrong."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            cluster = await admin.describe_cluster()
        if not cluster.get("brokers"):
            return "the cluster reports no brokers"
        return None
    except Exception as exc:  # any failure to talk to it is the same answer: no usable broker
        return f"{type(exc).__name__}: {exc}"
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of a broker that answers; fails (never skips) the test when there is none."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or local_bootstrap()
    problem = asyncio.run(_broker_answers(bootstrap, timeout_s=10.0))
    if problem is not None:
        hint = (
            "KAFKA_BOOTSTRAP_SERVERS points there; is that broker up?"
            if os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
            else "start the local broker with `make kafka-up` (logs: `make kafka-logs`)"
        )
        pytest.fail(f"no Kafka broker answers on {bootstrap} ({problem}); {hint}", pytrace=False)
    return bootstrap


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """``it.<test name>.<random>.``: legal in topic names, group ids and transactional ids."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:60].strip("-")
    return f"it.{name}.{uuid.uuid4().hex[:8]}."


async def create_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    configs: Mapping[str, Mapping[str, str]] | None = None,
    timeout_s: float = 15.0,
) -> None:
    """Create ``{name: partitions}`` topics (replication factor 1) and wait until all have leaders."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            new = [
                NewTopic(name, n, 1, topic_configs=dict((configs or {}).get(name, {})))
                for name, n in topics.items()
            ]
            response = await admin.create_topics(new)
            errors = [t for t in response.to_object()["topic_errors"] if t["error_code"] != 0]
            assert not errors, f"create_topics failed: {errors}"
            while True:
                described = await admin.describe_topics(list(topics))
                if all(
                    t["error_code"] == 0
                    and len(t["partitions"]) == topics[t["topic"]]
                    and all(p["leader"] >= 0 for p in t["partitions"])
                    for t in described
                ):
                    return
                await asyncio.sleep(0.05)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Iterable[str], timeout_s: float = 15.0) -> None:
    """Delete the topics that exist among ``names``; absent ones are ignored."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            present = set(await admin.list_topics()) & set(names)
            if present:
                await admin.delete_topics(sorted(present))
    finally:
        await admin.close()


class TopicFactory:
    """Creates topics named ``<prefix><suffix>`` for one test and remembers them for clean-up."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.created: list[str] = []

    async def create(
        self, suffix: str = "t", partitions: int = 1, configs: Mapping[str, str] | None = None
    ) -> str:
        name = self.prefix + suffix
        await create_topics(self.bootstrap, {name: partitions}, {name: dict(configs or {})})
        self.created.append(name)
        return name

    def name(self, suffix: str) -> str:
        """A topic name for this test that the test creates by other means (e.g. ``ensure_topics``)."""
        name = self.prefix + suffix
        self.created.append(name)
        return name


@pytest.fixture
async def kafka_topics(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[TopicFactory]:
    factory = TopicFactory(kafka_bootstrap, topic_prefix)
    yield factory
    await delete_topics(kafka_bootstrap, factory.created)
