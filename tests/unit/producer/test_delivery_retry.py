"""Delivery failures that may pass (a broker outage) are retried in order; others fail at once.

A fake client stands in for aiokafka (``fake_client``, conftest.py): it fails every batch while "down"
with the error aiokafka gives for an expired batch (``KafkaTimeoutError``), and records what it
accepted while "up". The real-broker version of this (a broker stopped and restarted) is
tests/faults/test_producer_outage.py.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka.errors import TopicAuthorizationFailedError

from tickerstream.errors import ProduceError
from tickerstream.model import Tick
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

if TYPE_CHECKING:
    from tests.unit.producer.conftest import FakeClient


def _ticks(n: int) -> list[Tick]:
    return [Tick(f"S{i % 7}", "x", None, 1.0 + i, "USD", None, False, 1_000 + i, "t") for i in range(n)]


def _config(**kw: Any) -> ProducerConfig:
    return ProducerConfig(batch_bytes=2048, linger_ms=1, retry_backoff_max_s=0.2, **kw)


async def test_batches_failed_during_an_outage_are_sent_again(fake_client: type[FakeClient]) -> None:
    ticks = _ticks(400)
    async with TickProducer(_config(delivery_timeout_s=60)) as producer:
        await producer.send_ticks(ticks[:100])
        await producer.flush()
        fake_client.down = True
        await producer.send_ticks(ticks[100:300])  # fails, and is kept for a retry
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, setattr, fake_client, "down", False)
        await producer.send_ticks(ticks[300:])
        await producer.flush()
        assert producer.stats.batches_retried > 0
    got = [v for topic, _, v in fake_client.delivered if topic == producer.config.ticks_topic]
    assert sorted(got) == sorted(t.to_json() for t in ticks)  # every tick, once
    # Order within a partition is kept for batches that did not fail; a batch sent while an earlier
    # one's failure was still unreported may land before its retry (docs/reliability.md).


async def test_without_a_retry_budget_the_first_failure_is_final(fake_client: type[FakeClient]) -> None:
    fake_client.down = True
    producer = TickProducer(_config(delivery_timeout_s=0))
    await producer.start()
    with pytest.raises(ProduceError):
        await producer.send_ticks(_ticks(50))
        await producer.flush()


async def test_an_error_that_cannot_pass_is_not_retried(fake_client: type[FakeClient]) -> None:
    fake_client.down, fake_client.error = True, TopicAuthorizationFailedError
    producer = TickProducer(_config(delivery_timeout_s=60))
    await producer.start()
    with pytest.raises(ProduceError, match="TopicAuthorizationFailed"):
        await producer.send_ticks(_ticks(50))
        await producer.flush()
    assert producer.stats.batches_retried == 0
