"""Sample data written once per test module: the seeded sample (``sources.sample``) as JSON Lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickerstream.sources.sample import SampleSpec, write_jsonl

SPEC = SampleSpec()  # 4 days: the scripted depeg starts and ends inside it


@pytest.fixture(scope="module")
def sample_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "ticks.jsonl"
    write_jsonl(SPEC, path)
    return path
