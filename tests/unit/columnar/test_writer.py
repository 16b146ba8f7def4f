"""Writing Parquet recordings (``columnar/``): the tick schema, one file, a day-partitioned dataset
with rotation, and other readers (DuckDB) reading what we wrote."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tickerstream.columnar import TICK_SCHEMA, ParquetDataset, ParquetFile, table_from_json_values
from tickerstream.columnar.reader import iter_tick_batches
from tickerstream.model import Tick

DAY = 86_400_000
T0 = 1_737_331_200_000  # 2025-01-20T00:00:00Z


def _tick(i: int, ts: int, quantum: float | None = 0.01) -> Tick:
    return Tick(
        f"S{i % 3}", f"Coin {i}", f"coin-{i}" if i % 2 else None, 1.0 + i, "USD", 0.5, True, ts, "t", quantum
    )


def _values(ticks: list[Tick]) -> list[bytes]:
    return [t.to_json() for t in ticks]


def _rows(path: Path) -> list[dict[str, object]]:
    table = pq.read_table(path)
    ts = table.column("ts").cast(pa.int64()).to_pylist()
    return [dict(row, ts=t) for row, t in zip(table.to_pylist(), ts, strict=True)]


def test_json_records_become_the_tick_schema_with_ts_as_utc_milliseconds() -> None:
    v1 = Tick("ETH", "Ethereum", None, 3000.0, "EUR", None, False, 5, "x").to_json(version=1)
    v2 = _tick(2, T0).to_json(version=2)
    mapped = Tick("SOL", "Solana", None, 150.0, "USD", 1.0, True, 6, "x", 0.1, "registry").to_json()
    table = table_from_json_values([_tick(1, T0).to_json(), v1, v2, mapped])
    assert table.schema == TICK_SCHEMA
    assert table.column("ts").to_pylist()[0].isoformat() == "2025-01-20T00:00:00+00:00"
    assert table.column("price_quantum").to_pylist() == [0.01, None, 0.01, 0.1]  # v1: unknown
    # v1 and v2 records carry no symbol source: null (the page's symbol, README "Tick schema versions")
    assert table.column("symbol_source").to_pylist() == ["page", None, None, "registry"]
    assert table.column("v").to_pylist() == [3, 1, 2, 3]
    assert table_from_json_values([]).num_rows == 0


def test_one_file_appears_only_when_complete_and_is_not_overwritten_by_default(tmp_path: Path) -> None:
    path = tmp_path / "ticks.parquet"
    ticks = [_tick(i, T0 + i) for i in range(5)]
    out = ParquetFile(path)
    out.write_values(_values(ticks))
    assert not path.exists() and [p.name for p in tmp_path.iterdir()] == [".ticks.parquet.inprogress"]
    out.close()
    assert [p.name for p in tmp_path.iterdir()] == ["ticks.parquet"]
    assert _rows(path) == [t.to_dict() for t in ticks]
    with pytest.raises(FileExistsError, match="cannot be appended"):
        ParquetFile(path)
    again = ParquetFile(path, overwrite=True)
    again.close()
    assert pq.read_table(path).num_rows == 0 and pq.read_schema(path) == TICK_SCHEMA


def test_a_dataset_is_partitioned_by_event_day_and_rotated_by_rows(tmp_path: Path) -> None:
    # Day 1: 5 ticks, day 2: 2 ticks, in calls that cross midnight; 2 rows per file at most.
    ticks = [_tick(i, T0 + i * 1000) for i in range(5)] + [_tick(9, T0 + DAY), _tick(10, T0 + DAY + 1)]
    data = ParquetDataset(tmp_path / "ds", rows_per_file=2)
    data.write_values(_values(ticks[:4]))
    data.write_values(_values(ticks[4:]))
    data.close()
    files = sorted(str(p.relative_to(tmp_path / "ds")) for p in (tmp_path / "ds").rglob("*.parquet"))
    assert files == [
        "date=2025-01-20/part-0000.parquet",
        "date=2025-01-20/part-0001.parquet",
        "date=2025-01-20/part-0002.parquet",
        "date=2025-01-21/part-0000.parquet",
    ]
    read_back = [row for f in files for row in _rows(tmp_path / "ds" / f)]
    assert read_back == [t.to_dict() for t in ticks]  # every tick once, in order


def test_a_file_open_too_long_is_closed_so_its_ticks_become_readable(tmp_path: Path) -> None:
    now = [0.0]
    data = ParquetDataset(tmp_path, max_file_age_s=60, clock=lambda: now[0])
    data.write_values(_values([_tick(0, T0)]))
    assert not list(tmp_path.rglob("*.parquet"))
    now[0] = 61.0
    data.flush()  # checked on a flush too, not only when the next ticks come
    assert [p.name for p in tmp_path.rglob("*.parquet")] == ["part-0000.parquet"]
    data.write_values(_values([_tick(1, T0 + 1)]))
    data.close()
    assert sorted(p.name for p in tmp_path.rglob("*.parquet")) == ["part-0000.parquet", "part-0001.parquet"]


def test_a_second_run_adds_parts_after_the_existing_ones(tmp_path: Path) -> None:
    for run in range(2):
        data = ParquetDataset(tmp_path)
        data.write_values(_values([_tick(run, T0 + run)]))
        data.close()
    folder = tmp_path / "date=2025-01-20"
    assert sorted(os.listdir(folder)) == ["part-0000.parquet", "part-0001.parquet"]
    assert [r["symbol"] for f in sorted(folder.iterdir()) for r in _rows(f)] == ["S0", "S1"]


def test_duckdb_reads_our_dataset_as_it_is(tmp_path: Path) -> None:
    ticks = [_tick(i, T0 + i * DAY // 2, quantum=None if i == 3 else 0.01) for i in range(6)]
    data = ParquetDataset(tmp_path / "ds")
    data.write_values(_values(ticks))
    data.close()
    pattern = str(tmp_path / "ds" / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT v, symbol, name, coin_id, price, currency, change_pct, change_sign_known, "
            "epoch_ms(ts), source, price_quantum, symbol_source, date "
            "FROM read_parquet(?, hive_partitioning = true) "
            "ORDER BY ts",
            [pattern],
        ).fetchall()
        ts_type = con.execute("SELECT typeof(ts) FROM read_parquet(?) LIMIT 1", [pattern]).fetchone()
    finally:
        con.close()
    assert [r[:12] for r in rows] == [tuple(t.to_dict().values()) for t in ticks]
    assert [str(r[12]) for r in rows] == ["2025-01-20"] * 2 + ["2025-01-21"] * 2 + ["2025-01-22"] * 2
    assert ts_type == ("TIMESTAMP WITH TIME ZONE",)


def test_symbol_source_round_trips_and_older_recordings_read_without_it(tmp_path: Path) -> None:
    """v3's column is written as the record says and read back; a recording from before v3 (no such
    column) still reads, with nulls there: the page's symbols, as every symbol was then."""
    page = _tick(1, T0)
    mapped = Tick("ETH", "Ethereum", None, 3200.1, "USD", 1.1, False, T0 + 1, "t", 0.01, "registry")
    path = tmp_path / "v3.parquet"
    out = ParquetFile(path)
    out.write_values([*_values([page, mapped]), page.to_json(version=2)])
    out.close()
    got = pa.Table.from_batches(list(iter_tick_batches(path)))
    assert got.column("symbol_source").to_pylist() == ["page", "registry", None]
    assert _rows(path)[:2] == [page.to_dict(), mapped.to_dict()]

    older = tmp_path / "v2.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["symbol_source"]), older)
    got = pa.Table.from_batches(list(iter_tick_batches(older)))
    assert got.schema.names == TICK_SCHEMA.names
    assert got.column("symbol_source").to_pylist() == [None, None, None]
    assert got.column("symbol").to_pylist() == ["S1", "ETH", "S1"]
