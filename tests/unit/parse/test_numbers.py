"""How digits as shown become numbers: grouping, decimal commas, subscript zeros, ambiguity."""

from __future__ import annotations

import pytest

from tickerstream.parse.numbers import Ambiguous, read_number


@pytest.mark.parametrize(
    ("raw", "comma_page", "value"),
    [
        ("104,442.98", False, 104442.98),
        ("1.234,56", True, 1234.56),
        ("1,234,567", False, 1234567.0),
        ("1.234.567", True, 1234567.0),
        ("1,234", False, 1234.0),  # dollar page: thousands
        ("1.234", False, 1.234),
        ("0,413496", True, 0.413496),  # "0," can't be thousands
        ("0.413", True, 0.413),
        ("3,25", True, 3.25),
        (".10", False, 0.1),
        ("1\u202f234,5", True, 1234.5),
        ("1'234.50", False, 1234.5),
        ("0.0₄1234", False, 0.00001234),
        ("0,0₁₂5", True, 5e-13),
    ],
)
def test_read_number(raw: str, comma_page: bool, value: float) -> None:
    assert read_number(raw, comma_page) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("raw", ["1,234", "12.345"])
def test_ambiguous_on_decimal_comma_page(raw: str) -> None:
    with pytest.raises(Ambiguous):
        read_number(raw, True)


def test_context_is_only_read_when_needed() -> None:
    calls = []
    assert read_number("1,234.5", lambda: calls.append(1) or True) == 1234.5
    assert calls == []


@pytest.mark.parametrize("raw", ["1,23,4", "12,34.5", "1.2₄3", "0.0₉₉1"])
def test_malformed(raw: str) -> None:
    with pytest.raises(ValueError):
        read_number(raw)
