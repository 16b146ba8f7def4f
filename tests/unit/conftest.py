"""Fixtures shared by the unit tests (add, don't rewrite: several test modules rely on these)."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tickerstream.model import Reject, Tick


def _schema_validator(name: str) -> jsonschema.protocols.Validator:
    text = resources.files("tickerstream.schemas").joinpath(name).read_text(encoding="utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_TICK_VALIDATOR = _schema_validator("tick.schema.json")
_REJECT_VALIDATOR = _schema_validator("reject.schema.json")


def assert_valid_records(ticks: list[Tick], rejects: list[Reject] = ()) -> None:  # type: ignore[assignment]
    """Every tick and reject, as emitted (``to_json``), validates against its published JSON Schema."""
    for tick in ticks:
        _TICK_VALIDATOR.validate(json.loads(tick.to_json()))
    for reject in rejects:
        _REJECT_VALIDATOR.validate(json.loads(reject.to_json()))


@pytest.fixture
def validate_records() -> Callable[..., None]:
    """``validate_records(ticks, rejects=())``: schema-check what a parser call emitted."""
    return assert_valid_records


@pytest.fixture
def tick_schema_validator() -> Any:
    return _TICK_VALIDATOR


@pytest.fixture
def reject_schema_validator() -> Any:
    return _REJECT_VALIDATOR
