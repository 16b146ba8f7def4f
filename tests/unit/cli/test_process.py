"""ticker-process's command line (``cli.process``): ``--set`` overrides go to their section."""

from __future__ import annotations

from tickerstream.cli.process import split_overrides


def test_cli_overrides_are_sorted_by_section() -> None:
    out = split_overrides(
        ["moves.zscore_k=5", "kafka.topics.ticks=x", "process.commit_interval_ms=5", "engine.a=1"]
    )
    assert out == {
        "engine": ["moves.zscore_k=5", "a=1"],
        "kafka": ["topics.ticks=x"],
        "process": ["commit_interval_ms=5"],
    }
