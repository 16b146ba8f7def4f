"""ticker-produce without a broker (``cli.produce``): usage errors are one line with exit 2; the help."""

from __future__ import annotations

import pytest

from tickerstream.cli.produce import build_parser, main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--follow", "--ts", "2025-01-20T00:00:00Z", "."], "--ts does not go with --follow"),
        (["--ts", "yesterday", "."], "--ts: not an ISO 8601 timestamp"),
        (["--from-end", "."], "--from-end needs --follow"),
        (["--poll-interval", "0", "--follow", "."], "--poll-interval must be > 0"),
        (["--max-future", "-1", "."], "--max-future >= 0"),
        (["--compression", "brotli", "."], "invalid choice"),
        (["--batch-bytes", "10", "."], "batch_bytes must be at least 1024"),
        (["no/such/path"], "no such file or directory: no/such/path"),
        (["-", "-"], "stdin ('-') can be read only once"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--bootstrap-servers", "127.0.0.1:1", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ticker-produce: error: ") and message in err[0], err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    flags = ("--bootstrap-servers", "--follow", "--archive", "--ts", "--ticks-topic", "--compression")
    for flag in (*flags, "--tick-version", "--max-future"):
        assert flag in out


def test_tick_version_is_1_2_or_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args([]).tick_version == 3
    assert build_parser().parse_args(["--tick-version", "2"]).tick_version == 2
    assert build_parser().parse_args(["--tick-version", "1"]).tick_version == 1
    assert main(["--bootstrap-servers", "127.0.0.1:1", "--tick-version", "4", "."]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--tick-version: invalid choice: 4" in err[0], err
