"""Fixtures shared by unit and integration tests, registered here once as plugins (pytest allows
``pytest_plugins`` only in this, the top-level conftest). Helpers without fixtures are imported where
they are used: ``from tests.support.<module> import ...``.

- ``tests.support.schemas``: ``validate_record`` (the one JSON Schema validator of the suite)
- ``tests.support.engine``: ``make_engine``
- ``tests.support.samples``: ``sample_jsonl`` (the seeded sample as JSON Lines, once per module)
- ``tests.support.kafka``: ``kafka_bootstrap``, ``topic_prefix``, ``kafka_topics`` (a real broker)
- ``tests.support.processor``: ``processor_kafka`` (a test's ticker-process topics, cleaned up)
- ``tests.support.processes``: ``child_processes`` (every subprocess a test starts, stopped at its end)
- ``tests.support.own_broker``: ``own_broker`` (a broker on other ports that fault tests stop and start)
"""

from __future__ import annotations

import pytest

# Plain asserts in the helpers report like asserts in tests (with values), not as a bare AssertionError.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.schemas",
    "tests.support.engine",
    "tests.support.samples",
    "tests.support.kafka",
    "tests.support.processor",
    "tests.support.processes",
    "tests.support.own_broker",
]
