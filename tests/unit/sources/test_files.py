"""Snapshots from files, directories and stdin, and the event-time precedence."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tickerstream.errors import SourceError, UsageError
from tickerstream.sources.files import Snapshot, iter_snapshots, parse_iso_ts, ts_from_name

T_2024_05_01_1230Z = 1_714_566_600_000


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2024-05-01T12:30:00Z", T_2024_05_01_1230Z),
        ("2024-05-01T12:30:00", T_2024_05_01_1230Z),  # naive = UTC
        ("2024-05-01T14:30:00+02:00", T_2024_05_01_1230Z),
        ("2024-05-01 12:30:00.123Z", T_2024_05_01_1230Z + 123),
        ("2024-05-01", T_2024_05_01_1230Z - 45_000_000),
    ],
)
def test_parse_iso_ts(text: str, ms: int) -> None:
    assert parse_iso_ts(text) == ms


@pytest.mark.parametrize("bad", ["", "yesterday", "2024-13-01", "1969-12-31T23:59:59Z", "12:30"])
def test_parse_iso_ts_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_iso_ts(bad)


@pytest.mark.parametrize(
    ("name", "ms"),
    [
        ("page-2024-05-01T12-30-00Z.txt", T_2024_05_01_1230Z),
        ("2024-05-01T12:30:00Z.txt", T_2024_05_01_1230Z),
        ("20240501T123000Z.html", T_2024_05_01_1230Z),
        ("coingecko_2024-05-01_12-30.txt", T_2024_05_01_1230Z),
        ("snap-2024-05-01T14-30-00+02:00.txt", T_2024_05_01_1230Z),
        ("report-2024.txt", None),
        ("12345678.txt", None),
        ("page.txt", None),
    ],
)
def test_ts_from_name(name: str, ms: int | None) -> None:
    assert ts_from_name(name) == ms


def test_precedence_override_then_name_then_mtime(tmp_path: Path) -> None:
    named = tmp_path / "a-2024-05-01T12-30-00Z.txt"
    plain = tmp_path / "b.txt"
    named.write_bytes(b"x")
    plain.write_bytes(b"y")
    os.utime(plain, ns=(1_700_000_000_123_000_000, 1_700_000_000_123_000_000))
    snaps = list(iter_snapshots([str(named), str(plain)]))
    assert [(s.ts, s.data) for s in snaps] == [(T_2024_05_01_1230Z, b"x"), (1_700_000_000_123, b"y")]
    snaps = list(iter_snapshots([str(named), str(plain)], ts_override=5))
    assert [s.ts for s in snaps] == [5, 5]


def test_stdin_uses_now_or_override() -> None:
    snaps = list(iter_snapshots(["-"], now=lambda: 42, stdin=io.BytesIO(b"data")))
    assert snaps == [Snapshot("-", 42, b"data")]
    snaps = list(iter_snapshots(["-"], ts_override=7, now=lambda: 42, stdin=io.BytesIO(b"")))
    assert snaps == [Snapshot("-", 7, b"")]


def test_directory_recursive_sorted_without_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ["z.txt", "a.txt", "b/c.txt", ".hidden.txt", ".git/x.txt"]:
        (tmp_path / rel).write_text(rel)
    sources = [os.path.relpath(s.source, tmp_path) for s in iter_snapshots([str(tmp_path)])]
    assert sources == ["a.txt", os.path.join("b", "c.txt"), "z.txt"]


def test_missing_path_is_a_source_error_before_any_output(tmp_path: Path) -> None:
    ok = tmp_path / "ok.txt"
    ok.write_text("x")
    with pytest.raises(SourceError, match=r"no such file or directory: .*missing"):
        iter_snapshots([str(ok), str(tmp_path / "missing")])
    assert issubclass(SourceError, UsageError)  # the commands report it as one line, exit 2


def test_read_error_mid_run_is_a_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "page.txt"
    f.write_text("x")

    def failing_open(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    import tickerstream.sources.files as sources

    monkeypatch.setattr(sources, "open", failing_open, raising=False)
    with pytest.raises(SourceError, match=r"cannot read .*page.txt: Permission denied"):
        list(iter_snapshots([str(f)]))
