"""Fault tests: a broker of their own (``own_broker``, never the shared one) is stopped, killed and
restarted under the producer and the processor. Each test prints its accounting (ticks in, processed,
events out, duplicates, lost) and asserts lost = 0 and events = replay. Run with ``make test-faults``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.kafka)
            item.add_marker(pytest.mark.faults)
