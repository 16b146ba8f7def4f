"""``--archive`` holds only what Kafka acknowledged, in the order the ticks were accepted, as JSON
Lines or Parquet.

``AckedArchive`` on its own (runs waiting for their batches), then ``TickProducer`` with the fake
client (conftest.py): a batch that fails for good, acks that arrive out of order, an outage retried.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiokafka.errors import TopicAuthorizationFailedError

from tickerstream.columnar import ParquetDataset
from tickerstream.errors import ProduceError
from tickerstream.model import Tick
from tickerstream.producer.archive import AckedArchive
from tickerstream.producer.tick_producer import ProducerConfig, TickProducer

if TYPE_CHECKING:
    from tests.unit.producer.conftest import FakeClient


def _ticks(n: int) -> list[Tick]:
    return [Tick(f"S{i % 7}", "x", None, 1.0 + i, "USD", None, False, 1_000 + i, "t") for i in range(n)]


def _config(**kw: Any) -> ProducerConfig:
    # Small batches, so a few hundred ticks make many of them on both partitions.
    return ProducerConfig(batch_bytes=2048, linger_ms=1, retry_backoff_max_s=0.2, **kw)


# -- AckedArchive ------------------------------------------------------------------------------


def test_a_run_is_written_once_every_batch_it_touches_is_acked_and_in_acceptance_order() -> None:
    file = io.BytesIO()
    archive = AckedArchive(file)
    a, b, c = object(), object(), object()
    archive.track(a)
    archive.track(b)
    archive.accept([b"1", b"2", b"3"], [a, b, a])
    archive.track(c)
    archive.accept([b"4", b"5"], [c, b])
    archive.acked(c)  # the second run's own batch: it still waits for b, and for the first run
    archive.acked(a)
    assert file.getvalue() == b""
    archive.acked(b)
    assert file.getvalue() == b"1\n2\n3\n4\n5\n"
    assert (archive.written, archive.left_out) == (5, 0)


def test_ticks_of_an_abandoned_batch_stay_out_and_are_counted() -> None:
    file = io.BytesIO()
    archive = AckedArchive(file)
    a, b = object(), object()
    archive.track(a)
    archive.track(b)
    archive.accept([b"1", b"2", b"3", b"4"], [a, b, a, b])
    archive.abandoned(b)
    archive.acked(a)
    assert file.getvalue() == b"1\n3\n"
    assert (archive.written, archive.left_out) == (2, 2)


def test_closing_leaves_out_what_never_settled() -> None:
    file = io.BytesIO()
    archive = AckedArchive(file)
    a, b = object(), object()
    archive.track(a)
    archive.accept([b"1"], [a])
    archive.track(b)
    archive.accept([b"2"], [b])
    archive.acked(b)  # acknowledged, but behind a: nothing written yet
    archive.close()
    assert file.getvalue() == b"2\n"
    assert (archive.written, archive.left_out) == (1, 1)


# -- TickProducer ------------------------------------------------------------------------------


async def _send_in_runs(producer: TickProducer, ticks: list[Tick], size: int) -> None:
    for i in range(0, len(ticks), size):
        await producer.send_ticks(ticks[i : i + size])


async def test_a_batch_that_fails_for_good_is_not_in_the_archive(fake_client: type[FakeClient]) -> None:
    fake_client.error = TopicAuthorizationFailedError  # cannot pass: the batch is abandoned
    fake_client.fail_sends = frozenset({3})
    ticks = _ticks(400)
    file = io.BytesIO()
    producer = TickProducer(_config(delivery_timeout_s=60), archive=file)
    await producer.start()
    with pytest.raises(ProduceError, match="TopicAuthorizationFailed"):
        try:
            await _send_in_runs(producer, ticks, 50)
        finally:
            await producer.stop()

    failed = [v for _, _, v in fake_client.failed]
    delivered = [v for _, _, v in fake_client.delivered]
    assert failed and delivered  # one batch failed, others went through
    archived = file.getvalue().splitlines()
    # Exactly what was acknowledged, in the order the ticks were accepted; the failed batch is out.
    acked = set(delivered)
    assert archived == [v for v in map(Tick.to_json, ticks) if v in acked]
    assert set(archived).isdisjoint(failed)
    assert producer.archive is not None and producer.archive.left_out >= len(failed)
    assert len(archived) == producer.stats.ticks_acked


async def test_acks_out_of_order_keep_the_acceptance_order(fake_client: type[FakeClient]) -> None:
    fake_client.reverse_acks = True
    ticks = _ticks(400)
    file = io.BytesIO()
    async with TickProducer(_config(), archive=file) as producer:
        await _send_in_runs(producer, ticks, 60)
    assert file.getvalue().splitlines() == [t.to_json() for t in ticks]
    assert producer.stats.batches_acked > 4  # there were batches to reorder


async def test_an_outage_retried_to_success_archives_everything_in_order(
    fake_client: type[FakeClient],
) -> None:
    ticks = _ticks(400)
    file = io.BytesIO()
    async with TickProducer(_config(delivery_timeout_s=10), archive=file) as producer:
        await _send_in_runs(producer, ticks[:100], 50)
        await producer.flush()
        fake_client.down = True
        await _send_in_runs(producer, ticks[100:300], 50)  # fail, and wait for a retry
        assert len(file.getvalue().splitlines()) == 100  # nothing unacknowledged written meanwhile
        asyncio.get_running_loop().call_later(0.5, setattr, fake_client, "down", False)
        await _send_in_runs(producer, ticks[300:], 50)
    assert producer.stats.batches_retried > 0
    assert file.getvalue().splitlines() == [t.to_json() for t in ticks]


# -- Parquet --------------------------------------------------------------------------------------


async def test_a_parquet_archive_holds_exactly_the_acknowledged_ticks_in_order(
    fake_client: type[FakeClient], tmp_path: Path
) -> None:
    fake_client.error = TopicAuthorizationFailedError  # cannot pass: the batch is abandoned
    fake_client.fail_sends = frozenset({3})
    ticks = _ticks(400)
    sink = ParquetDataset(tmp_path / "archive", rows_per_file=150)
    producer = TickProducer(_config(delivery_timeout_s=60), archive=sink)
    await producer.start()
    try:
        with pytest.raises(ProduceError, match="TopicAuthorizationFailed"):
            try:
                await _send_in_runs(producer, ticks, 50)
            finally:
                await producer.stop()
    finally:
        sink.close()  # as ticker-produce does, after the producer: the last file gets its footer
    acked = {v for _, _, v in fake_client.delivered}
    files = sorted((tmp_path / "archive").rglob("*.parquet"))
    table = pa.concat_tables(pq.read_table(f) for f in files)
    archived = [
        Tick(**dict(r, ts=t)).to_json()
        for r, t in zip(
            table.drop(["v"]).to_pylist(), table.column("ts").cast(pa.int64()).to_pylist(), strict=True
        )
    ]
    assert archived == [v for v in map(Tick.to_json, ticks) if v in acked]
    assert 0 < len(archived) < len(ticks) and len(archived) == producer.stats.ticks_acked
    assert len(files) == -(-len(archived) // 150)  # rotated every 150 rows
