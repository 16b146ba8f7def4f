"""Reading the numbers tickers show: grouped prices, decimal commas, K/M/B suffixes, subscript zeros.

Kept apart from the pattern matching so the rules for what ``1,234`` means live in one place.
A price written ``1,234`` is a thousand and more on a dollar page but one-point-something on a page that
writes ``1,2 %``; when the context says decimal comma and the digits allow both readings we refuse to guess
(``Ambiguous``) rather than emit a price off by a factor of a thousand.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Multipliers of the magnitude suffixes widgets use to save room (``$62.7k``).
SUFFIX_MULTIPLIER: dict[str, float] = {
    "k": 1e3,
    "K": 1e3,
    "m": 1e6,
    "M": 1e6,
    "b": 1e9,
    "B": 1e9,
    "t": 1e12,
    "T": 1e12,
}

_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_GROUPING_SPACES = str.maketrans("", "", "\u00a0\u202f\u2009'’")


#: Grouped forms the general rules read without doubt: ``1,234.5`` / ``1,234,567`` (comma groups)
#: and ``1.234,5`` / ``1.234.567`` (dot groups). ``1,234`` alone is not here: it may be ambiguous.
_GROUPED = re.compile(
    r"[0-9]{1,3}(?:(?P<comma>(?:,[0-9]{3})+\.[0-9]+|(?:,[0-9]{3}){2,})"
    r"|(?P<dot>(?:\.[0-9]{3})+,[0-9]+|(?:\.[0-9]{3}){2,}))"
)


class Ambiguous(ValueError):
    """The digits read as two different numbers depending on the decimal separator."""


def read_number(raw: str, decimal_comma: bool | Callable[[], bool] = False) -> float:
    """Turn the digits of a price or percent as shown into a float.

    ``decimal_comma`` says the surrounding text writes decimals with a comma (``1,2 %``); it only
    matters for a lone separator followed by exactly three digits (``1,234`` / ``1.234``), which is
    then ambiguous. It may be a callable, asked only in that case (reading the context costs).
    Raises ``Ambiguous`` for that case and ``ValueError`` for malformed input.
    """
    # str.translate costs ~0.5 µs: only pay it if a grouping space can be there.
    s = raw if raw.isascii() and "'" not in raw else raw.translate(_GROUPING_SPACES)
    if not s.isascii():
        return _read_subscript_zeros(s)
    n_comma = s.count(",")
    n_dot = s.count(".")
    # Fast paths, each reading exactly what the general rules below read, without their steps:
    if n_comma + n_dot <= 1:
        # plain digits, or one separator that can only be a decimal point (its fraction is not three
        # digits, or the integer part is "" or "0");
        at = s.find("," if n_comma else ".")
        if at < 0 or len(s) - at != 4 or at == 0 or (at == 1 and s[0] == "0"):
            return float(s.replace(",", ".") if n_comma else s)
    else:
        # well-formed thousands groups with a decimal part, or with two groups or more.
        m = _GROUPED.fullmatch(s)
        if m is not None:
            return float(
                s.replace(",", "") if m.lastgroup == "comma" else s.replace(".", "").replace(",", ".")
            )
    if n_comma and n_dot:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        grp = "." if dec == "," else ","
        int_part, _, frac = s.rpartition(dec)
        _check_groups(int_part, grp)
        return float(int_part.replace(grp, "") + "." + frac)
    if n_comma or n_dot:
        sep = "," if n_comma else "."
        if n_comma + n_dot > 1:
            _check_groups(s, sep)
            return float(s.replace(sep, ""))
        int_part, _, frac = s.partition(sep)
        if len(frac) != 3 or int_part in ("", "0"):
            return float(int_part + "." + frac)
        # d{1,3}<sep>ddd: thousands or decimals depending on the page's convention.
        if decimal_comma() if callable(decimal_comma) else decimal_comma:
            raise Ambiguous(raw)
        return float(int_part + frac) if sep == "," else float(int_part + "." + frac)
    return float(s)


def shown_quantum(raw: str, value: float) -> float | None:
    """The price step the digits ``raw`` show (``0.000019`` -> 1e-6, ``1.00`` -> 0.01, ``104,442.98``
    -> 0.01, ``1,234`` -> 1), given ``value = read_number(raw)``; None when it cannot be told (the
    subscript-zeros form). Every shown price is within half this step of the true one.

    Counted without deciding again which separator is the decimal one: from 1 up, the shown
    decimals are the digits after the integer part, whose length follows from the value; below 1,
    the digits after the last separator.
    """
    if not raw.isascii():
        return None
    if value >= 1:
        # leading zeros and separators are integer padding: "0,001.00" shows the step of "1.00"
        raw = raw.lstrip("0,.' ")
        decimals = _ascii_digits(raw) - len(str(int(value)))
    else:  # below 1 every digit after the last separator is a decimal ("000,000.0001" -> 4)
        cut = raw.rfind(".")
        comma = raw.rfind(",")
        if comma > cut:
            cut = comma
        decimals = _ascii_digits(raw[cut + 1 :]) if cut >= 0 else 0
    if decimals < 0:
        return None
    return quantum_of_decimals(decimals)


_DIGIT_BYTES = b"0123456789"


def _ascii_digits(s: str) -> int:
    """How many characters of the ASCII string ``s`` are digits (``sum(c.isdigit() for c in s)``,
    whose generator cost ~0.5 µs a price): the length less what is left once digits are deleted."""
    return len(s) - len(s.encode().translate(None, _DIGIT_BYTES))


class _Quanta(dict[int, float]):
    """``10 ** -d`` by ``d``, exactly as float literals (what ``float("1e-6")`` gives): the usual
    decimals are stored, others made on demand (not stored: any ``d`` may come, so no bound)."""

    def __missing__(self, decimals: int) -> float:
        if decimals < 0:
            raise ValueError(f"negative decimals {decimals}")
        return float(f"1e-{decimals}")


_QUANTUM = _Quanta((d, float(f"1e-{d}")) for d in range(19))

#: ``10 ** -decimals`` as the float literal ``1e-<decimals>`` (so 1e-6, not 9.999999999999999e-07);
#: ``decimals`` >= 0. A dict lookup in C rather than a Python call: the seed widget asks once a row.
quantum_of_decimals: Callable[[int], float] = _QUANTUM.__getitem__


def _check_groups(s: str, sep: str) -> None:
    head, *groups = s.split(sep)
    if not (1 <= len(head) <= 3) or any(len(g) != 3 for g in groups):
        raise ValueError(f"bad digit grouping in {s!r}")


def _read_subscript_zeros(s: str) -> float:
    """``0.0₄1234`` (a zero repeated four times) is 0.00001234: DEX-style tiny prices."""
    head, sep, rest = s.replace(",", ".").partition(".")
    if not sep or head not in ("0", "") or not rest.startswith("0"):
        raise ValueError(f"bad subscript price {s!r}")
    i = 1
    while i < len(rest) and "₀" <= rest[i] <= "₉":
        i += 1
    count = int(rest[1:i].translate(_SUBSCRIPT_DIGITS))
    digits = rest[i:]
    if not digits.isdigit() or count > 30:
        raise ValueError(f"bad subscript price {s!r}")
    return float("0." + "0" * count + digits)
