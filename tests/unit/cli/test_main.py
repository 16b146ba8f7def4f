"""The main job embedded (no broker): bundled sample pages -> parser -> engine -> events."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tickerstream.cli.main import bundled_sample_dir
from tickerstream.cli.main import main as tickerstream_main
from tickerstream.cli.replay import main as replay_main
from tickerstream.sources.sample import SampleSpec, write_jsonl, write_pages


def test_bundled_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    write_pages(SampleSpec(), tmp_path)
    bundled = Path(bundled_sample_dir())
    names = sorted(p.name for p in bundled.glob("*.txt"))
    assert names == sorted(p.name for p in tmp_path.glob("*.txt")) and len(names) == 200
    for name in names:
        assert (bundled / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_embedded_run_prints_valid_events_and_a_summary(
    capsysbinary: pytest.CaptureFixture[bytes], validate_record: Callable[[str, Any], None]
) -> None:
    assert tickerstream_main(["run", "--log-format", "json"]) == 0
    out, err = capsysbinary.readouterr()
    events = [orjson.loads(line) for line in out.splitlines()]
    for event in events:
        validate_record(event["type"], event)
    usdc = [e for e in events if e["type"] == "peg" and e["symbol"] == "USDC"]
    states = [e["state"] for e in usdc if e["kind"] == "change"]
    assert states == ["warn", "critical", "warn", "ok"]
    assert b"peg episodes" in err and b"5,000 ticks" in err and b"0 rejects" in err


def test_pages_and_json_lines_of_the_same_sample_give_the_same_events(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # The pages go through the parser; the JSON Lines do not: equal events mean the parser
    # recovered every tick of the generated widget pages exactly (prices, symbols, times).
    jsonl = tmp_path / "sample.jsonl"
    write_jsonl(SampleSpec(), jsonl)
    assert replay_main([str(jsonl)]) == 0
    from_jsonl = capsysbinary.readouterr().out
    assert tickerstream_main(["run", "--quiet"]) == 0
    from_pages = capsysbinary.readouterr().out
    assert from_pages == from_jsonl and from_pages.count(b"\n") > 50


def test_no_subcommand_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert tickerstream_main([]) == 2
    assert "run" in capsys.readouterr().out


def test_usage_error_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tickerstream.cli.main", "run", "/no/such/dir"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "tickerstream: error: input not found: /no/such/dir"
