"""Factories for engine tests: engines from ``key=value`` overrides, batches from tuples.

Imported by name (pytest puts this directory on sys.path); the fixture is re-exported by conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from tickerstream.config import load_settings
from tickerstream.engine import Engine, EngineConfig, TickBatch

T0 = 1_700_000_000_000  # ms; an arbitrary fixed epoch so tests never read the clock
MIN = 60_000
HOUR = 3_600_000


def batch(ticks: Iterable[tuple[str, int, float]]) -> TickBatch:
    items = list(ticks)
    return TickBatch.from_arrays([s for s, _, _ in items], [t for _, t, _ in items], [p for _, _, p in items])


def config(*overrides: str) -> EngineConfig:
    return load_settings(EngineConfig, None, {}, overrides)


@pytest.fixture
def make_engine() -> Callable[..., Engine]:
    def make(*overrides: str) -> Engine:
        return Engine(config(*overrides))

    return make
