"""A fake aiokafka producer for the producer's unit tests: no broker, and every failure on demand.

``fake_client`` patches ``AIOKafkaProducer`` inside :mod:`tickerstream.producer.tick_producer`. The fake
accepts batches like aiokafka (``create_batch`` / ``send_batch``) and records what it delivered (and
what it failed). It
fails every batch while ``down`` (with ``error``, by default the ``KafkaTimeoutError`` aiokafka gives an
expired batch), or only the submissions whose 0-based numbers are in ``fail_sends``; with
``reverse_acks`` the batches handed over in one go are acknowledged in reverse, as acks of different
partitions may arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

from tickerstream.producer import tick_producer


class FakeClient:
    down = False
    error: type[Exception] = KafkaTimeoutError
    fail_sends: frozenset[int] = frozenset()
    reverse_acks = False
    delivered: list[tuple[str, int, bytes]]
    failed: list[tuple[str, int, bytes]]
    sends = 0

    def __init__(self, **kwargs: Any) -> None:
        FakeClient.delivered, FakeClient.failed = [], []
        FakeClient.sends = 0
        self._unacked: list[tuple[asyncio.Future[Any], list[tuple[str, int, bytes]]]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16 * 1024, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, partition: int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        number, FakeClient.sends = FakeClient.sends, FakeClient.sends + 1
        records = [(topic, partition, r.value) for r in DefaultRecordBatch(bytes(batch._build()))]
        if FakeClient.down or number in FakeClient.fail_sends:
            FakeClient.failed.extend(records)
            fut.set_exception(FakeClient.error())
            return fut
        if not FakeClient.reverse_acks:
            FakeClient.delivered.extend(records)
            fut.set_result(None)
            return fut
        if not self._unacked:
            loop.call_soon(self._ack_in_reverse)
        self._unacked.append((fut, records))
        return fut

    def _ack_in_reverse(self) -> None:
        unacked, self._unacked = self._unacked, []
        for fut, records in reversed(unacked):
            FakeClient.delivered.extend(records)
            fut.set_result(None)


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeClient]]:
    monkeypatch.setattr(tick_producer, "AIOKafkaProducer", FakeClient)
    FakeClient.down, FakeClient.error = False, KafkaTimeoutError
    FakeClient.fail_sends, FakeClient.reverse_acks = frozenset(), False
    yield FakeClient
