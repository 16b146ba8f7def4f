"""ticker-produce's parse workers (``producer.workers``): file order matches the sources, groups are cut
by size, small inputs stay in process."""

from __future__ import annotations

from pathlib import Path

from tickerstream.producer.workers import expand_files
from tickerstream.producer.workers import file_groups as _groups
from tickerstream.producer.workers import worker_count as _worker_count
from tickerstream.sources.files import iter_snapshots


def test_worker_file_order_is_the_sources_order(tmp_path: Path) -> None:
    for rel in ("b/2.txt", "b/1.txt", "a.txt", "c/.hidden", ".skip/x.txt", "b/sub/0.txt", "0.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    single = tmp_path / "b/1.txt"
    paths = [str(tmp_path), str(single)]
    expected = [s.source for s in iter_snapshots(paths)]
    assert [name for name, _ in expand_files(paths)] == expected
    assert [n for n, _ in expand_files(paths)].count(str(single)) == 2


def test_groups_cut_by_size_and_keep_order() -> None:
    files = [(f"f{i}", 3 * 1024 * 1024) for i in range(5)]
    groups = list(_groups(files))
    assert [name for group in groups for name in group] == [f"f{i}" for i in range(5)]
    assert [len(g) for g in groups] == [2, 2, 1]


def test_small_inputs_are_parsed_in_process(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("Bitcoin (BTC) $ 1.00 1%\n")
    assert _worker_count([str(tmp_path)], "auto")[0] == 0
    assert _worker_count([str(tmp_path)], "0") == (0, None)
    assert _worker_count([str(tmp_path)], "2")[0] == 2
