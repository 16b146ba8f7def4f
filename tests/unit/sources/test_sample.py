from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from tickerstream.cli.sample import main as sample_main
from tickerstream.sources.sample import SampleSpec, generate


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert sample_main([str(a), "--format", "jsonl", "--days", "1"]) == 0
    assert sample_main([str(b), "--format", "jsonl", "--days", "1"]) == 0
    assert sample_main([str(c), "--format", "jsonl", "--days", "1", "--seed", "7"]) == 0
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_scripted_episodes_are_in_the_data() -> None:
    snaps = list(generate(SampleSpec()))
    symbols = snaps[0].symbols
    usdc = np.array([s.prices[symbols.index("USDC")] for s in snaps])
    btc = np.array([s.prices[symbols.index("BTC")] for s in snaps])
    ts = np.array([s.ts for s in snaps])
    assert 0.87 < usdc.min() < 0.89  # the depeg trough
    assert abs(usdc[-1] - 1.0) < 0.01  # and the recovery
    gaps = np.diff(ts) / 1000
    assert gaps.min() >= 60 and gaps.max() > 3 * gaps.min()  # irregular snapshot times
    # The crash: ~18 % within an hour, so some two-hour span loses well over 10 %.
    two_hours = [
        btc[j] / btc[i] - 1 for i in range(len(ts)) for j in range(i, len(ts)) if ts[j] - ts[i] <= 7_200_000
    ]
    assert min(two_hours) < -0.12


def test_extra_symbols_and_tick_json(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    assert sample_main([str(out), "--format", "jsonl", "--days", "0.1", "--extra-symbols", "5"]) == 0
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert {r["symbol"] for r in rows} >= {"SYN00000", "SYN00004", "BTC"}
    assert all(r["price"] > 0 and r["v"] == 3 and r["symbol_source"] == "page" for r in rows)
    # the quantum the widget shows: cents from $1, six decimals below
    assert all(r["price_quantum"] == (0.01 if r["price"] >= 1 else 1e-6) for r in rows)


def test_bad_arguments_exit_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert sample_main(["/tmp/x", "--days", "0"]) == 2
    assert "must be > 0" in capsys.readouterr().err
