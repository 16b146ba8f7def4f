"""ticker-produce --archive as Parquet on the real broker: exactly the acknowledged ticks, readable
by other tools, one file or a day-partitioned directory."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.test_produce import (
    SEED,
    _write_pages,
    produce_cli,
    read_all,
    run_cli,
    sigterm_once_acked,
)
from tickerstream.model import Tick
from tickerstream.parse import parse_bytes
from tickerstream.sources.files import parse_iso_ts

if TYPE_CHECKING:
    from tests.support.kafka import TopicFactory
    from tests.support.processes import ChildProcesses

pytestmark = pytest.mark.timeout(120)


def _archived(files: list[Path]) -> list[bytes]:
    """The archive's rows as tick JSON, exactly as the topic holds them."""
    table = pa.concat_tables(pq.read_table(f) for f in files)
    ts = table.column("ts").cast(pa.int64()).to_pylist()
    out = []
    for row, stamp in zip(table.to_pylist(), ts, strict=True):
        version = row.pop("v")
        out.append(Tick(**dict(row, ts=stamp)).to_json(version=version))
    return out


async def test_archive_parquet_file_holds_the_produced_ticks(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    page = tmp_path / "snap-2025-01-20T00-00-00Z.txt"
    page.write_bytes(SEED.read_bytes())
    archive = tmp_path / "archive.parquet"
    proc = run_cli(
        produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--archive", str(archive), str(page))
    )
    assert proc.returncode == 0, proc.stderr
    expected = parse_bytes(page.read_bytes(), ts=parse_iso_ts("2025-01-20T00:00:00Z"), source=str(page))
    records = await read_all(kafka_bootstrap, ticks_topic)
    archived = _archived([archive])
    assert archived == [t.to_json() for t in expected.ticks]  # in the order read
    assert sorted(archived) == sorted(r.value for r in records)  # and what Kafka holds
    # Another reader, as a user would query it: DuckDB sees the same ticks and a real timestamp.
    con = duckdb.connect()
    try:
        got = con.execute(
            "SELECT symbol, price, epoch_ms(ts) FROM read_parquet(?) ORDER BY symbol", [str(archive)]
        ).fetchall()
    finally:
        con.close()
    assert got == sorted((t.symbol, t.price, t.ts) for t in expected.ticks)
    # A second run may not overwrite it: one line, exit 2, pointing at a directory instead.
    again = run_cli(
        produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--archive", str(archive), str(page))
    )
    assert again.returncode == 2 and "give a directory" in again.stderr


async def test_archive_directory_is_partitioned_by_day_and_grows_across_runs(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("snap-2025-01-20T23-00-00Z.txt", "snap-2025-01-21T01-00-00Z.txt"):
        (pages / name).write_bytes(SEED.read_bytes())
    archive = tmp_path / "archive"
    archive.mkdir()
    for _ in range(2):
        cmd = produce_cli(kafka_bootstrap, ticks_topic, rejects_topic, "--archive", str(archive), str(pages))
        proc = child_processes.add(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
    files = sorted(archive.rglob("*"))
    names = [str(p.relative_to(archive)) for p in files if p.is_file()]
    assert names == [
        "date=2025-01-20/part-0000.parquet",
        "date=2025-01-20/part-0001.parquet",
        "date=2025-01-21/part-0000.parquet",
        "date=2025-01-21/part-0001.parquet",
    ]
    records = await read_all(kafka_bootstrap, ticks_topic)
    archived = _archived([p for p in files if p.is_file()])
    assert len(archived) == len(records) and sorted(archived) == sorted(r.value for r in records)


async def test_sigterm_mid_way_leaves_complete_files_of_exactly_the_acknowledged_ticks(
    kafka_bootstrap: str, kafka_topics: TopicFactory, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    ticks_topic, rejects_topic = kafka_topics.name("ticks"), kafka_topics.name("rejects")
    total = _write_pages(tmp_path / "pages", pages=400, symbols=2000)
    archive = tmp_path / "archive/"
    cmd = produce_cli(
        kafka_bootstrap, ticks_topic, rejects_topic, "--archive", f"{archive}/", "--progress-interval", "0.2",
        str(tmp_path / "pages"),
    )  # fmt: skip
    sigterm_once_acked(cmd, child_processes)
    records = await read_all(kafka_bootstrap, ticks_topic)
    assert 0 < len(records) < total
    files = sorted(archive.rglob("*"))
    assert files and all(not p.name.startswith(".") for p in files)  # every file completed and renamed
    parts = [p for p in files if p.is_file()]
    assert sorted(_archived(parts)) == sorted(r.value for r in records)
