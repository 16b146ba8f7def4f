"""ticker-parse end to end: in-process via main() and as a real process for exit codes and streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import DATA
from tickerstream.cli.parse import main, summary

SEED = DATA / "seed_page.txt"


def run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TICKER_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "tickerstream.cli.parse", *args],
        input=stdin, capture_output=True, timeout=60, env=env, check=False,
    )  # fmt: skip


def test_seed_file_in_process(
    capsysbinary: pytest.CaptureFixture[bytes], validate_record: Callable[[str, Any], None]
) -> None:
    assert main([str(SEED), "--ts", "2024-05-01T12:30:00Z"]) == 0
    out, err = capsysbinary.readouterr()
    ticks = [json.loads(line) for line in out.splitlines()]
    assert len(ticks) == 50
    assert ticks[0]["symbol"] == "BTC" and ticks[0]["coin_id"] == "bitcoin"
    assert {t["ts"] for t in ticks} == {1_714_566_600_000}
    assert {t["source"] for t in ticks} == {str(SEED)}
    for t in ticks:
        validate_record("tick", t)
    assert err.decode().strip().splitlines()[-1] == "ticker-parse: 50 ticks, 0 rejects from 1 snapshot(s)"


def test_rejects_file_and_summary(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], validate_record: Callable[[str, Any], None]
) -> None:
    page = tmp_path / "page-2024-05-01T12-30-00Z.txt"
    page.write_bytes(
        b"Bitcoin (BTC) $ 0 1%\nEthereum (ETH) $ 3,259.53 2.32%\n\xff\xfe\nBTC $ " + b"9" * 9000 + b"\n"
    )
    rejects = tmp_path / "rejects.jsonl"
    assert main([str(page), "--rejects", str(rejects)]) == 0
    out, err = capsysbinary.readouterr()
    assert [json.loads(x)["symbol"] for x in out.splitlines()] == ["ETH"]
    assert json.loads(out.splitlines()[0])["ts"] == 1_714_566_600_000  # from the file name
    rows = [json.loads(x) for x in rejects.read_bytes().splitlines()]
    assert sorted(r["reason"] for r in rows) == ["invalid_price", "invalid_utf8", "line_too_long"]
    for r in rows:
        validate_record("reject", r)
    assert err.decode().strip().splitlines()[-1] == (
        "ticker-parse: 1 ticks, 3 rejects (invalid_price=1, invalid_utf8=1, line_too_long=1)"
        " from 1 snapshot(s)"
    )


def test_directory_input_and_empty_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    (tmp_path / "a.txt").write_text("Bitcoin (BTC) $ 104,442.98 0.48%\n")
    (tmp_path / "b.txt").write_text("nothing to see here\n")
    assert main([str(tmp_path)]) == 0
    out, err = capsysbinary.readouterr()
    assert len(out.splitlines()) == 1
    assert "1 ticks, 0 rejects from 2 snapshot(s)" in err.decode()


def test_summary_format() -> None:
    from collections import Counter

    assert summary(50, Counter({"line_too_long": 1, "invalid_price": 1}), 1) == (
        "50 ticks, 2 rejects (invalid_price=1, line_too_long=1) from 1 snapshot(s)"
    )


def test_stdin_subprocess() -> None:
    proc = run(["-", "--ts", "2024-05-01T12:30:00Z"], stdin=SEED.read_bytes())
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == 50 and json.loads(lines[0])["source"] == "-"
    assert proc.stderr.decode().strip().endswith("ticker-parse: 50 ticks, 0 rejects from 1 snapshot(s)")


def test_no_paths_reads_stdin_and_no_ticks_is_success() -> None:
    proc = run([], stdin=b"just prose, no prices\n")
    assert proc.returncode == 0 and proc.stdout == b""
    assert "0 ticks, 0 rejects from 1 snapshot(s)" in proc.stderr.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/page.txt"], "ticker-parse: error: no such file or directory: /nonexistent/page.txt"),
        (["--ts", "not-a-time", "-"], "ticker-parse: error: --ts: not an ISO 8601 timestamp"),
        (["--bogus"], "ticker-parse: error: unrecognized arguments: --bogus"),
        (["--rejects", "/nonexistent/dir/r.jsonl", "-"], "ticker-parse: error: --rejects: cannot write"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    proc = run(args)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(message)
    assert "Traceback" not in err and proc.stdout == b""


def test_help_describes_inputs_time_and_exit_codes() -> None:
    proc = run(["--help"])
    assert proc.returncode == 0
    text = proc.stdout.decode()
    for needle in ("--ts", "--rejects", "--log-level", "file name", "modification time", "Exit status"):
        assert needle in text


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(SEED.read_bytes() * 1)
    many = [str(big)] * 200
    proc = subprocess.run(
        f"{sys.executable} -m tickerstream.cli.parse {' '.join(many)} | head -1",
        shell=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert len(proc.stdout.splitlines()) == 1
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr
