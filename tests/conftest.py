"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest

RECORD_KINDS = ("tick", "reject", "move", "peg")


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


@pytest.fixture
def validate_record() -> Callable[[str, Any], None]:
    return assert_valid
