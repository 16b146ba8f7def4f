from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tickerstream.model import REJECT_RAW_MAX_CHARS, InvalidTick, Reject, RejectReason, Tick, tick_from_dict

TICK = Tick("USDC", "USDC", "usd-coin", 1.0, "USD", 0.01, False, 1_737_331_200_000, "page.txt", 0.01)


def test_tick_json_has_exactly_the_contract_fields(validate_record: Callable[[str, Any], None]) -> None:
    obj = orjson.loads(TICK.to_json())
    assert list(obj) == [
        "v",
        "symbol",
        "name",
        "coin_id",
        "price",
        "currency",
        "change_pct",
        "change_sign_known",
        "ts",
        "source",
        "price_quantum",
        "symbol_source",
    ]
    assert obj["v"] == 3 and obj["symbol_source"] == "page"
    validate_record("tick", obj)
    assert tick_from_dict(obj) == TICK


def test_v1_ticks_are_still_read_and_can_still_be_written(
    validate_record: Callable[[str, Any], None],
) -> None:
    """The evolution rule: readers accept v1, v2 and v3; a v1 record has an unknown quantum; a v1 record
    written for v1-only consumers is exactly the old contract (the frozen v1 schema validates it)."""
    v1 = orjson.loads(TICK.to_json(version=1))
    assert v1["v"] == 1 and "price_quantum" not in v1 and "symbol_source" not in v1
    validate_record("tick", v1)
    validate_record("tick.v1", v1)
    assert tick_from_dict(v1) == Tick(*[getattr(TICK, f) for f in Tick.__slots__][:-2])
    with pytest.raises(InvalidTick, match="price_quantum"):
        tick_from_dict(TICK.to_dict() | {"price_quantum": 0})


MAPPED = Tick("BTC", "Bitcoin", None, 49485.5, "USD", 3.39, False, 1_737_331_200_000, "p", 0.01, "registry")


def test_v2_ticks_are_still_read_and_can_still_be_written(
    validate_record: Callable[[str, Any], None],
) -> None:
    """A v2 record is a v3 record without ``symbol_source``; read back, its symbol is the page's (every
    v2 producer only wrote symbols the page showed). The frozen v2 schema validates what we write."""
    v2 = orjson.loads(MAPPED.to_json(version=2))
    assert v2["v"] == 2 and "symbol_source" not in v2 and v2["price_quantum"] == 0.01
    validate_record("tick", v2)
    validate_record("tick.v2", v2)
    assert tick_from_dict(v2).symbol_source == "page"


def test_v3_records_carry_how_the_symbol_was_obtained(validate_record: Callable[[str, Any], None]) -> None:
    v3 = orjson.loads(MAPPED.to_json())
    assert v3["v"] == 3 and v3["symbol_source"] == "registry"
    validate_record("tick", v3)
    assert tick_from_dict(v3) == MAPPED
    with pytest.raises(InvalidTick, match="symbol_source"):
        tick_from_dict(v3 | {"symbol_source": "guess"})


@pytest.mark.parametrize(
    ("change", "frozen"),
    [
        ({"v": 3, "symbol_source": None}, "tick.v2"),  # v3 without its field
        ({"v": 2, "symbol_source": "page"}, "tick.v1"),  # v2 with v3's field
        ({"v": 1}, "tick.v1"),  # v1 with v2's field (price_quantum)
    ],
)
def test_the_published_schema_ties_fields_to_versions(
    change: dict[str, Any], frozen: str, validate_record: Callable[[str, Any], None]
) -> None:
    obj = {k: v for k, v in (MAPPED.to_dict() | change).items() if v is not None or k != "symbol_source"}
    with pytest.raises(AssertionError, match="invalid"):
        validate_record("tick", obj)
    with pytest.raises(AssertionError, match="invalid"):
        validate_record(frozen, obj)


def test_reject_json_is_truncated_and_valid(validate_record: Callable[[str, Any], None]) -> None:
    reject = Reject("x" * 5000, RejectReason.LINE_TOO_LONG, "-", "5000 chars")
    obj = orjson.loads(reject.to_json())
    validate_record("reject", obj)
    assert len(obj["raw"]) == REJECT_RAW_MAX_CHARS and obj["raw"].endswith("…")


def test_every_reason_is_in_the_reject_schema(validate_record: Callable[[str, Any], None]) -> None:
    for reason in RejectReason:
        validate_record("reject", Reject("raw", reason, "-").to_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 4}, "version"),
        ({"v": True}, "version"),
        ({"price": 0}, "price"),
        ({"price": -1.0}, "price"),
        ({"price": math.nan}, "price"),
        ({"price": "1.0"}, "price"),
        ({"price": True}, "price"),
        ({"ts": 1.5}, "ts"),
        ({"symbol": ""}, "symbol"),
        ({"change_pct": "1%"}, "change_pct"),
        ({"coin_id": 3}, "coin_id"),
        ({"change_sign_known": 1}, "change_sign_known"),
    ],
)
def test_invalid_ticks_are_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    obj = TICK.to_dict() | change
    with pytest.raises(InvalidTick, match=message):
        tick_from_dict(obj)


def test_non_objects_are_refused() -> None:
    with pytest.raises(InvalidTick, match="not a JSON object"):
        tick_from_dict([1, 2])
