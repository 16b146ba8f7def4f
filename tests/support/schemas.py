"""The one JSON Schema validator of the suite: records as emitted must match the published schemas.

- ``validate_record(kind, obj)`` (fixture): ``obj`` is a valid ``kind`` record (tick, reject, move, peg).
- ``assert_valid_records(ticks, rejects)``: every tick and reject, as emitted (``to_json``), is valid.
  A plain function, so hypothesis tests can call it without a function-scoped fixture.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tickerstream.model import Reject, Tick


@cache
def schema_validator(kind: str) -> jsonschema.Draft202012Validator:
    """The validator for one record kind, from the schema file shipped in the package."""
    text = resources.files("tickerstream.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def assert_valid(kind: str, obj: Any) -> None:
    """Fail with the schema's own message if ``obj`` is not a valid ``kind`` record."""
    errors = sorted(schema_validator(kind).iter_errors(obj), key=str)
    assert not errors, f"{kind} record invalid: {errors[0].message} in {obj!r}"


def assert_valid_records(ticks: Iterable[Tick], rejects: Iterable[Reject] = ()) -> None:
    """Every tick and reject, as emitted (``to_json``), validates against its published JSON Schema."""
    for tick in ticks:
        assert_valid("tick", json.loads(tick.to_json()))
    for reject in rejects:
        assert_valid("reject", json.loads(reject.to_json()))


@pytest.fixture
def validate_record() -> Callable[[str, Any], None]:
    """``validate_record(kind, obj)``: schema-check one record (a dict, as parsed from its JSON)."""
    return assert_valid
