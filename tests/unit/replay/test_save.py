"""``ticker-replay --save``: a topic range kept in the format its name asks for, replayable as it was."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tickerstream.engine import EngineConfig
from tickerstream.replay.inputs import ReadStats, open_recorded
from tickerstream.replay.runner import run_replay
from tickerstream.replay.save import save_records


def _events(path: Path | str) -> bytes:
    out = io.BytesIO()
    run_replay(open_recorded([str(path)], ReadStats()), EngineConfig(), out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["range.parquet", "range.jsonl", "dataset/"])
def test_a_saved_range_replays_like_the_records_it_was_made_of(
    sample_jsonl: Path, tmp_path: Path, name: str
) -> None:
    values = [line for line in sample_jsonl.read_bytes().splitlines() if line]
    target = str(tmp_path / name)
    assert save_records(target, values) == len(values)
    assert _events(target) == _events(sample_jsonl)


def test_json_lines_are_the_records_as_they_were(tmp_path: Path) -> None:
    target = tmp_path / "range.txt"
    save_records(str(target), [b'{"a":1}', b'{"b":2}'])
    assert target.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_parquet_file_is_replaced_like_an_output(sample_jsonl: Path, tmp_path: Path) -> None:
    values = [line for line in sample_jsonl.read_bytes().splitlines() if line]
    target = str(tmp_path / "range.parquet")
    save_records(target, values)
    save_records(target, values[:10])
    stats = ReadStats()
    assert sum(len(b) for b in open_recorded([target], stats)) == 10 == stats.records
    assert [p.name for p in tmp_path.iterdir()] == ["range.parquet"]
