"""ticker-replay (``cli.replay``) on the seeded sample (``sample_jsonl``): byte-identical runs, valid
events, split and gzipped inputs, rejects, usage errors, Ctrl-C."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.processes import ChildProcesses
from tickerstream.cli.replay import main as replay_main
from tickerstream.columnar import ParquetDataset, ParquetFile


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = replay_main(argv)
    return code, capsys.readouterr().err


def test_replay_is_byte_identical_across_runs(
    sample_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run([str(sample_jsonl), "--out", str(a)], capsys)[0] == 0
    assert run([str(sample_jsonl), "--out", str(b)], capsys)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.stat().st_size > 0


def test_events_are_schema_valid_and_find_the_scripted_depeg(
    sample_jsonl: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    validate_record: Callable[[str, Any], None],
) -> None:
    out = tmp_path / "ev.jsonl"
    code, err = run([str(sample_jsonl), "--out", str(out), "--summary"], capsys)
    assert code == 0
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    for event in events:
        validate_record(event["type"], event)
    usdc = [e for e in events if e["type"] == "peg" and e["symbol"] == "USDC"]
    assert [e["state"] for e in usdc if e["kind"] == "change"][:2] == ["warn", "critical"]
    assert usdc[-1]["state"] == "ok" and usdc[-1]["worst_bps"] < -1000  # the ~0.88 trough
    assert not [e for e in events if e["type"] == "peg" and e["symbol"] in ("WSTETH", "WEETH")]
    assert any(e["type"] == "move" and e["direction"] == "down" for e in events)  # the crash
    assert "peg episodes" in err and "USDC" in err and "largest moves" in err


def test_split_and_gzipped_inputs_merge_to_the_same_events(
    sample_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = sample_jsonl.read_bytes().splitlines(keepends=True)
    # Split by symbol into two files, one gzipped: the merge must restore event-time order.
    first = [ln for ln in lines if orjson.loads(ln)["symbol"] < "M"]
    second = [ln for ln in lines if orjson.loads(ln)["symbol"] >= "M"]
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.jsonl").write_bytes(b"".join(first))
    with gzip.open(tmp_path / "parts" / "b.jsonl.gz", "wb") as fh:
        fh.write(b"".join(second))
    whole, split = tmp_path / "whole.jsonl", tmp_path / "split.jsonl"
    run([str(sample_jsonl), "--out", str(whole)], capsys)
    run([str(tmp_path / "parts"), "--out", str(split)], capsys)
    assert sorted(whole.read_bytes().splitlines()) == sorted(split.read_bytes().splitlines())


def test_parquet_inputs_give_the_events_of_json_lines(
    sample_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = [line for line in sample_jsonl.read_bytes().splitlines() if line]
    one = ParquetFile(tmp_path / "sample.parquet")
    one.write_values(values)
    one.close()
    dataset = ParquetDataset(tmp_path / "archive", rows_per_file=700)  # many parts, three days
    for i in range(0, len(values), 1000):
        dataset.write_values(values[i : i + 1000])
    dataset.close()
    outs = []
    for source in (sample_jsonl, tmp_path / "sample.parquet", tmp_path / "archive"):
        out = tmp_path / f"{source.name}.events"
        code, err = run([str(source), "--out", str(out)], capsys)
        assert code == 0 and f"{len(values):,} ticks" in err and "0 rejects" in err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2] and outs[0]


def test_bad_parquet_rows_are_counted_and_written_to_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], validate_record: Callable[[str, Any], None]
) -> None:
    good = {
        "v": 2, "symbol": "BTC", "name": "Bitcoin", "coin_id": None, "price": 1.5, "currency": "USD",
        "change_pct": None, "change_sign_known": False, "ts": 5, "source": "-", "price_quantum": None,
    }  # fmt: skip
    rows = [good, dict(good, price=-1.0), dict(good, price=1e200), dict(good, symbol=None)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "mixed.parquet")
    rejects = tmp_path / "rejects.jsonl"
    code, err = run([str(tmp_path / "mixed.parquet"), "--rejects", str(rejects)], capsys)
    assert code == 0
    assert "1 ticks" in err and "3 rejects (invalid_tick=2, price_out_of_range=1)" in err
    found = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert [r["detail"].split(":")[0] for r in found] == ["row 1", "row 2", "row 3"]
    for row in found:
        validate_record("reject", row)


def test_bad_records_are_counted_and_written_to_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], validate_record: Callable[[str, Any], None]
) -> None:
    src = tmp_path / "mixed.jsonl"
    good = (
        b'{"v":1,"symbol":"BTC","name":"Bitcoin","coin_id":null,"price":1.5,"currency":"USD",'
        b'"change_pct":null,"change_sign_known":false,"ts":5,"source":"-"}'
    )
    src.write_bytes(good + b"\nnot json\n" + good.replace(b"1.5", b"-1") + b"\n\n")
    rejects = tmp_path / "rejects.jsonl"
    code, err = run([str(src), "--rejects", str(rejects)], capsys)
    assert code == 0
    assert "1 ticks" in err and "2 rejects (invalid_tick=1, not_json=1)" in err
    rows = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert [r["reason"] for r in rows] == ["not_json", "invalid_tick"]
    for row in rows:
        validate_record("reject", row)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["/no/such/file.jsonl"], "input not found"),
        (["{sample}", "--set", "moves.nope=1"], "unknown setting moves.nope"),
        (["{sample}", "--speed", "-1"], "--speed must be >= 0"),
        (["{sample}", "--config", "/no/such.toml"], "config file not found"),
        (["{sample}", "--save", "x.parquet"], "--start, --end and --save go with --from-topic"),
        (["{not_ticks}"], "not a tick recording, missing column(s)"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], message: str, sample_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_ticks = tmp_path / "other.parquet"
    pq.write_table(pa.table({"symbol": ["BTC"]}), not_ticks)
    argv = [a.replace("{sample}", str(sample_jsonl)).replace("{not_ticks}", str(not_ticks)) for a in argv]
    code, err = run(argv, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_subprocess_has_no_traceback_on_usage_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tickerstream.cli.replay", "/no/such.jsonl"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("ticker-replay: error: input not found")


def test_ctrl_c_stops_cleanly_with_what_was_done(
    sample_jsonl: Path, tmp_path: Path, child_processes: ChildProcesses
) -> None:
    import signal
    import time

    out = tmp_path / "partial.jsonl"
    # Paced at 3600x event time, the 4-day sample takes ~96 s: long enough to interrupt mid-way.
    proc = child_processes.add(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tickerstream.cli.replay",
                str(sample_jsonl),
                "--speed",
                "3600",
                "--out",
                str(out),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    # Interrupt once the replay runs (its output file exists), however long a busy machine takes to
    # start it; the bound only keeps a broken start from hanging the suite.
    deadline = time.monotonic() + 120
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.exists(), "ticker-replay did not start"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "(interrupted)" in err
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]  # every line written whole
    assert all(e["type"] in ("move", "peg") for e in events)


@pytest.mark.parametrize("content", [b"garbage", b"\x1f\x8b\x08\x00truncated"])
def test_an_unreadable_input_is_one_line_not_a_traceback(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ticks.jsonl.gz"
    path.write_bytes(content)
    assert replay_main([str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ticker-replay: error: cannot read an input" in err
