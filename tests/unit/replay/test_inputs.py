"""Recorded inputs of a replay (``replay.inputs``): streams merged in event time, directories walked
like the other commands walk them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tickerstream.engine import TickBatch
from tickerstream.replay.inputs import expand_inputs, merge_by_time


def _batch(ts: list[int], tag: str) -> TickBatch:
    return TickBatch.from_arrays([f"{tag}{i}" for i in range(len(ts))], ts, np.ones(len(ts)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(0, 50), max_size=6), max_size=4), min_size=1, max_size=4))
def test_merge_by_time_equals_a_stable_sort(streams: list[list[list[int]]]) -> None:
    # Each stream is sorted overall, cut into batches of arbitrary sizes.
    flat = [sorted(ts for chunk in s for ts in chunk) for s in streams]
    built = []
    for k, (s, ts_sorted) in enumerate(zip(streams, flat, strict=True)):
        sizes = [len(c) for c in s]
        chunks, pos = [], 0
        for size in sizes:
            chunks.append(_batch(ts_sorted[pos : pos + size], f"s{k}_{pos}_"))
            pos += size
        built.append(iter([c for c in chunks if len(c)]))
    merged = list(merge_by_time(built))
    got = [t for b in merged for t in b.ts.tolist()]
    assert got == sorted(t for ts in flat for t in ts)
    # Stable: within one stream, rows keep their order.
    got_symbols = [s for b in merged for s in b.symbols]
    for k in range(len(streams)):
        mine = [s for s in got_symbols if s.startswith(f"s{k}_")]
        assert len(mine) == len(flat[k])


def test_directories_are_walked_like_the_other_commands(sample_jsonl: Path, tmp_path: Path) -> None:
    hidden_parent = tmp_path / ".cache" / "recordings"
    (hidden_parent / "sub").mkdir(parents=True)
    (hidden_parent / "sub" / "b.jsonl").write_bytes(sample_jsonl.read_bytes())
    (hidden_parent / "a.txt").write_text("Bitcoin (BTC) $ 104,442.98 0.48%\n")
    (hidden_parent / ".skip.jsonl").write_text("hidden\n")
    jsonl, pages, _ = expand_inputs([str(hidden_parent)])
    assert [p.name for p in jsonl] == ["b.jsonl"] and [p.name for p in pages] == ["a.txt"]
    # '..' as an input is a path like any other, not a hidden entry.
    cwd = Path.cwd()
    try:
        os.chdir(hidden_parent / "sub")
        assert [p.name for p in expand_inputs([".."])[0]] == ["b.jsonl"]
    finally:
        os.chdir(cwd)
