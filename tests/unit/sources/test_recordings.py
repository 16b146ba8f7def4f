"""Which inputs are tick recordings: by name, or by a first line that is a tick record (issue #9,
item 7: 50,000 valid ticks in ``ticks.txt`` gave "0 ticks, 0 rejects" and exit 0)."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.support.paths import DATA
from tickerstream.model import Tick
from tickerstream.sources.recordings import expand_inputs, is_jsonl, is_parquet

TICK = Tick("BTC", "Bitcoin", "bitcoin", 104442.98, "USD", 0.48, False, 1_000, "a").to_json()


def test_recordings_are_known_by_name_or_by_their_first_line(tmp_path: Path) -> None:
    named = tmp_path / "a.jsonl"
    named.write_bytes(b"")
    feed = tmp_path / "ticks.txt"
    feed.write_bytes(b"\n" + TICK + b"\n" + TICK + b"\n")
    page = tmp_path / "page.txt"
    page.write_bytes((DATA / "seed_page.txt").read_bytes())
    other_json = tmp_path / "config.txt"
    other_json.write_bytes(b'{"moves": {"zscore_k": 5}}\n')
    packed = tmp_path / "page.txt.gz"
    packed.write_bytes(gzip.compress(TICK))
    assert is_jsonl(named) and is_jsonl(feed)
    assert not is_jsonl(page) and not is_jsonl(other_json) and not is_jsonl(packed)
    jsonl, pages, parquet = expand_inputs([str(tmp_path)])
    assert set(jsonl) == {named, feed} and set(pages) == {page, other_json, packed} and parquet == []


def test_parquet_recordings_are_known_by_name_or_by_their_magic_bytes(tmp_path: Path) -> None:
    named = tmp_path / "ticks.parquet"
    named.write_bytes(b"")
    part = tmp_path / "part-0000"  # a dataset part another tool named without a suffix
    part.write_bytes(b"PAR1\x15\x04")
    page = tmp_path / "page.txt"
    page.write_bytes(b"Bitcoin (BTC) $ 104,442.98 0.48%\n")
    assert is_parquet(named) and is_parquet(part) and not is_parquet(page)
    found = expand_inputs([str(tmp_path)])
    assert found.parquet == [part, named] and found.pages == [page] and found.jsonl == []
