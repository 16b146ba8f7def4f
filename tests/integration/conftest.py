"""Integration tests run against a real Kafka broker; the fixtures that find it and give tests their
topics are in tests/support/kafka.py (and tests/support/processor.py for ticker-process's topics),
registered in tests/conftest.py.

Every test in tests/integration carries the ``kafka`` marker (``pytest -m "not kafka"`` leaves them out).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this directory's: mark just ours.
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.kafka)
