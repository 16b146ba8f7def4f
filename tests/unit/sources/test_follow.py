"""--follow's readers: complete lines only, slug context across chunks, truncation, new files."""

from __future__ import annotations

import os
from pathlib import Path

from tickerstream.parse import parse_bytes
from tickerstream.sources.follow import MAX_PENDING_BYTES, DirectoryWatcher, FollowedFile, LineChunker

SLUG = b"bitcoin\n"
RECORD = b"Bitcoin (BTC) $ 104,442.98 0.48%\n"


def test_chunker_hands_over_complete_lines_only() -> None:
    c = LineChunker()
    assert c.push(b"Bitcoin (BTC) $ 104,4") == b""
    assert c.pending_bytes == len(b"Bitcoin (BTC) $ 104,4")
    assert c.push(b"42.98 0.48%\nEther") == RECORD
    assert c.finish() == b"Ether\n"
    assert c.finish() == b""


def test_chunker_carries_a_trailing_slug_to_the_next_chunk() -> None:
    c = LineChunker()
    first = c.push(b"some prose\n" + SLUG)
    second = c.push(RECORD)
    assert parse_bytes(first, ts=1).ticks == []
    ticks = parse_bytes(second, ts=2).ticks
    assert [(t.symbol, t.coin_id, t.ts) for t in ticks] == [("BTC", "bitcoin", 2)]
    # Same ticks as the page read in one piece: the context line yields nothing twice.
    assert parse_bytes(b"some prose\n" + SLUG + RECORD, ts=2).ticks == ticks


def test_chunker_does_not_carry_records_or_prose() -> None:
    c = LineChunker()
    c.push(SLUG + RECORD)
    assert c.push(b"ethereum\n") == b"ethereum\n"  # previous chunk ended with a record: no context
    assert c.push(b"An article sentence.\n") == b"ethereum\nAn article sentence.\n"
    assert c.push(RECORD) == RECORD


def test_chunker_cuts_an_endless_line_and_skips_its_rest() -> None:
    c = LineChunker()
    out = c.push(b"$ 1 " * (MAX_PENDING_BYTES // 4 + 1))
    assert out.endswith(b"\n") and len(out) > MAX_PENDING_BYTES
    assert c.pending_bytes == 0
    assert c.push(b"more of the same line") == b""
    assert c.push(b" end\n" + RECORD) == RECORD
    result = parse_bytes(out, ts=1)
    assert [r.reason.value for r in result.rejects] == ["line_too_long"]


def test_followed_file_reads_appends_truncation_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    f = FollowedFile(path)
    assert f.read() == b""  # missing: waited for
    path.write_bytes(b"a\n")
    assert f.read() == b"a\n"
    assert f.read() == b""
    with path.open("ab") as fh:
        fh.write(b"b\n")
    assert f.read() == b"b\n"
    path.write_bytes(b"c\n")  # truncated and rewritten (same inode, smaller)
    assert f.read() == b"c\n"
    replacement = tmp_path / "new.txt"
    replacement.write_bytes(b"d\n")
    os.replace(replacement, path)  # rotated: another inode at the path
    assert f.read() == b"d\n"
    assert f.restarts == 2
    f.close()


def test_followed_file_can_start_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"old\n")
    f = FollowedFile(path, start_at_end=True)
    assert f.read() == b""
    with path.open("ab") as fh:
        fh.write(b"new\n")
    assert f.read() == b"new\n"
    f.close()


def test_followed_file_reads_big_appends_in_bounded_pieces(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"x" * 10_000)
    f = FollowedFile(path)
    pieces = []
    while piece := f.read(limit=4096):
        pieces.append(piece)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]
    f.close()


def _stamp(path: Path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_directory_watcher_reports_settled_new_files_once(tmp_path: Path) -> None:
    w = DirectoryWatcher(tmp_path)
    _stamp(tmp_path / "b.txt", b"1", 1_000)
    assert w.poll() == []  # first sight: not settled yet
    assert w.poll() == [tmp_path / "b.txt"]
    assert w.poll() == []  # reported once
    (tmp_path / "sub").mkdir()
    _stamp(tmp_path / "sub" / "a.txt", b"1", 1_000)
    (tmp_path / ".hidden").write_bytes(b"x")
    (tmp_path / "c.txt.part").write_bytes(b"x")
    assert w.poll() == []
    _stamp(tmp_path / "sub" / "a.txt", b"12", 2_000)  # still being written
    assert w.poll() == []
    assert w.poll() == [tmp_path / "sub" / "a.txt"]
    (tmp_path / "b.txt").unlink()
    assert w.poll() == []
    _stamp(tmp_path / "b.txt", b"again", 3_000)  # the same name dropped again is new again
    w.poll()
    assert w.poll() == [tmp_path / "b.txt"]
