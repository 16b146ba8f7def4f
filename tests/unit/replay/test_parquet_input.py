"""Parquet recordings in a replay (``replay/parquet_input.py``): the same ticks, events and rejects as
the JSON Lines path, built from Arrow columns; files of other writers read too."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tickerstream.columnar import TICK_SCHEMA, ParquetFile
from tickerstream.engine import EngineConfig, TickBatch
from tickerstream.errors import InputError
from tickerstream.model import Tick
from tickerstream.replay.inputs import ReadStats, jsonl_batches, open_recorded
from tickerstream.replay.parquet_input import parquet_batches
from tickerstream.replay.runner import run_replay

GOOD = {
    "v": 2,
    "symbol": "BTC",
    "name": "Bitcoin",
    "coin_id": "bitcoin",
    "price": 100_000.0,
    "currency": "USD",
    "change_pct": 1.5,
    "change_sign_known": True,
    "ts": 1_737_331_200_000,
    "source": "page.txt",
    "price_quantum": 0.01,
}


def _write_values(path: Path, values: list[bytes]) -> Path:
    out = ParquetFile(path)
    out.write_values(values)
    out.close()
    return path


#: Other writers (pandas, DuckDB) mark every column nullable: nulls must be refused when reading.
NULLABLE = pa.schema([f.with_nullable(True) for f in TICK_SCHEMA])


def _write_rows(path: Path, rows: list[dict[str, object]], schema: pa.Schema = NULLABLE) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _read(path: Path) -> tuple[TickBatch, ReadStats]:
    stats = ReadStats()
    return TickBatch.concat(list(parquet_batches(path, stats))), stats


def _same(a: TickBatch, b: TickBatch) -> None:
    assert a.symbols == b.symbols and a.currency == b.currency and a.coin_ids == b.coin_ids
    np.testing.assert_array_equal(a.ts, b.ts)
    np.testing.assert_array_equal(a.price, b.price)
    np.testing.assert_array_equal(a.quantum, b.quantum)  # NaN where unknown, on both sides
    # The page's 24 h change: the engine checks it against the history (quality events).
    assert a.change is not None and b.change is not None
    np.testing.assert_array_equal(a.change, b.change)
    np.testing.assert_array_equal(a.change_signed, b.change_signed)  # type: ignore[arg-type]


def test_the_sample_gives_the_same_batches_and_events_as_json_lines(
    sample_jsonl: Path, tmp_path: Path
) -> None:
    values = [line for line in sample_jsonl.read_bytes().split(b"\n") if line]
    parquet = _write_values(tmp_path / "sample.parquet", values)
    from_parquet, stats = _read(parquet)
    _same(from_parquet, TickBatch.concat(list(jsonl_batches(sample_jsonl, ReadStats()))))
    assert stats.records == len(values) and not stats.reject_counts
    events = []
    for path in (sample_jsonl, parquet):
        out = io.BytesIO()
        run_replay(open_recorded([str(path)], ReadStats()), EngineConfig(), out)
        events.append(out.getvalue())
    assert events[0] == events[1] and events[0].count(b"\n") > 50


def test_v1_ticks_and_missing_coin_ids_keep_their_unknowns(tmp_path: Path) -> None:
    v1 = Tick("ETH", "Ethereum", None, 3000.0, "EUR", None, False, 5, "x").to_json(version=1)
    batch, _ = _read(_write_values(tmp_path / "v1.parquet", [v1]))
    assert batch.symbols == ["ETH"] and batch.coin_ids == [None] and batch.currency == ["EUR"]
    assert math.isnan(batch.quantum[0]) and batch.ts.tolist() == [5]


@pytest.mark.parametrize(
    ("change", "reason", "detail"),
    [
        ({"symbol": None}, "invalid_tick", "field 'symbol' is null"),
        ({"symbol": ""}, "invalid_tick", "field 'symbol' is empty"),
        ({"name": None}, "invalid_tick", "field 'name' is null"),
        ({"v": 4}, "invalid_tick", "unsupported schema version"),
        ({"price": -1.0}, "invalid_tick", "price must be a finite number > 0"),
        ({"price": float("nan")}, "invalid_tick", "price must be a finite number > 0"),
        ({"price": None}, "invalid_tick", "field 'price' is null"),
        ({"price_quantum": 0.0}, "invalid_tick", "bad price_quantum"),
        ({"change_pct": float("inf")}, "invalid_tick", "change_pct must be finite or null"),
        ({"ts": None}, "invalid_tick", "field 'ts' is null"),
        ({"change_sign_known": None}, "invalid_tick", "field 'change_sign_known' is null"),
        ({"price": 1e200}, "price_out_of_range", "price 1e+200 USD is implausible"),
        ({"price": 1e-300}, "price_out_of_range", "price 1e-300 USD is implausible"),
    ],
)
def test_a_bad_row_is_a_reject_with_the_decoders_reason(
    tmp_path: Path, change: dict[str, object], reason: str, detail: str
) -> None:
    rows = [dict(GOOD, ts=GOOD["ts"] + i, symbol=f"S{i}") for i in range(3)]
    rows[1].update(change)
    got = []
    stats = ReadStats(reject_sink=got.append)
    batch = TickBatch.concat(list(parquet_batches(_write_rows(tmp_path / "r.parquet", rows), stats)))
    assert batch.symbols == ["S0", "S2"]  # the good rows around it, in order
    assert stats.records == 3 and stats.reject_counts == {reason: 1}
    assert got[0].detail == f"row 1: {detail}" and got[0].source == str(tmp_path / "r.parquet")
    assert '"name":' in got[0].raw  # the row itself, as JSON, so it can be looked at later


def test_a_negative_ts_is_refused_and_the_raw_row_keeps_integer_ms(tmp_path: Path) -> None:
    schema = NULLABLE.set(NULLABLE.get_field_index("ts"), pa.field("ts", pa.int64()))
    rows = [dict(GOOD), dict(GOOD, ts=-5)]
    got = []
    batch = TickBatch.concat(
        list(
            parquet_batches(
                _write_rows(tmp_path / "n.parquet", rows, schema), ReadStats(reject_sink=got.append)
            )
        )
    )
    assert len(batch) == 1 and got[0].detail == "row 1: ts must be >= 0" and '"ts":-5' in got[0].raw


def test_a_price_plausible_in_its_currency_is_kept(tmp_path: Path) -> None:
    rows = [dict(GOOD, price=5e9, currency="KRW"), dict(GOOD, price=5e9, currency="USD")]
    batch, stats = _read(_write_rows(tmp_path / "k.parquet", rows))
    assert batch.currency == ["KRW"] and stats.reject_counts == {"price_out_of_range": 1}


def test_files_of_other_writers_are_read(tmp_path: Path) -> None:
    # int64 ms ts, large strings, no price_quantum (v1), float32 change, microsecond timestamps.
    plain = pa.schema(
        [
            pa.field(f.name, pa.large_string() if f.type == pa.string() else f.type)
            for f in TICK_SCHEMA
            if f.name != "price_quantum"
        ]
    )
    ms = plain.set(plain.get_field_index("ts"), pa.field("ts", pa.int64()))
    us = plain.set(plain.get_field_index("ts"), pa.field("ts", pa.timestamp("us")))
    row = {k: v for k, v in GOOD.items() if k != "price_quantum"}
    a, _ = _read(_write_rows(tmp_path / "ms.parquet", [row], ms))
    timestamp = np.datetime64(GOOD["ts"], "ms").astype("datetime64[us]").item()
    b, _ = _read(_write_rows(tmp_path / "us.parquet", [dict(row, ts=timestamp)], us))
    for batch in (a, b):
        assert batch.symbols == ["BTC"] and batch.ts.tolist() == [GOOD["ts"]] and math.isnan(batch.quantum[0])


def test_a_file_that_is_not_a_tick_recording_is_an_input_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"symbol": ["BTC"], "price": [1.0]}), tmp_path / "other.parquet")
    with pytest.raises(InputError, match=r"other.parquet: not a tick recording, missing column\(s\) v, name"):
        list(parquet_batches(tmp_path / "other.parquet", ReadStats()))
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"broken\.parquet: not a readable Parquet file"):
        list(parquet_batches(tmp_path / "broken.parquet", ReadStats()))
    pq.write_table(pa.Table.from_pylist([dict(GOOD, ts="yesterday")]), tmp_path / "words.parquet")
    with pytest.raises(InputError, match="column ts of type string"):
        list(parquet_batches(tmp_path / "words.parquet", ReadStats()))


def test_progress_counts_the_share_of_rows_read(tmp_path: Path) -> None:
    path = _write_rows(tmp_path / "p.parquet", [dict(GOOD, ts=GOOD["ts"] + i) for i in range(10)])
    _, stats = _read(path)
    assert stats.positions == {str(path): path.stat().st_size}


def test_a_damaged_file_is_an_input_error_not_a_traceback(sample_jsonl: Path, tmp_path: Path) -> None:
    values = [line for line in sample_jsonl.read_bytes().splitlines() if line]
    path = _write_values(tmp_path / "damaged.parquet", values)
    data = bytearray(path.read_bytes())
    data[100:4000] = bytes(3900)  # zeroes over the first column chunk's pages; the footer is intact
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"damaged\.parquet: "):
        list(parquet_batches(path, ReadStats()))
