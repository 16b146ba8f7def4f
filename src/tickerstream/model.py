"""The records every part of tickerstream exchanges: ticks and rejects, and their JSON form.

A tick's JSON is a contract read by other teams' consumers: field names and meaning
do not change without bumping ``v`` (``SCHEMA_VERSION``). The JSON Schemas under
``tickerstream/schemas/`` describe exactly what ``Tick.to_json`` and ``Reject.to_json`` emit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

#: Version of rejects and other v1 records (and of ticks written for v1-only readers).
SCHEMA_VERSION = 1
#: Version of the tick record. v2 = v1 plus ``price_quantum``; v3 = v2 plus ``symbol_source``.
#: Readers accept every version (a v1 tick has an unknown quantum; a v1 or v2 tick's symbol is the
#: page's). ``Tick.to_dict(version=1 or 2)`` writes the older record for consumers that validate it.
TICK_SCHEMA_VERSION = 3
TICK_SCHEMA_VERSIONS = (1, 2, 3)

#: How a tick's symbol was obtained (``Tick.symbol_source``): shown on the page ...
SYMBOL_FROM_PAGE = "page"
#: ... or mapped from the shown name through the coin registry (a name-only row, #13).
SYMBOL_FROM_REGISTRY = "registry"
SYMBOL_SOURCES = (SYMBOL_FROM_PAGE, SYMBOL_FROM_REGISTRY)

#: Raw text kept in a reject is cut to this many characters so a dead letter stays small.
REJECT_RAW_MAX_CHARS = 512


class RejectReason(StrEnum):
    """Why an input was not turned into a tick. A closed set: consumers may switch on it.

    Parser reasons (ticker-parse / ticker-produce):
    """

    #: The price is zero, negative, NaN/inf or could not be read as a number.
    INVALID_PRICE = "invalid_price"
    #: The price is a number but outside any plausible range for a crypto asset.
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    #: The 24 h change is outside any plausible range (e.g. 5000 %).
    CHANGE_OUT_OF_RANGE = "change_out_of_range"
    #: A number whose separators could mean two different values (``1,234`` as a price in a
    #: context with decimal commas); we refuse to guess.
    AMBIGUOUS_NUMBER = "ambiguous_number"
    #: The line is longer than the parser's cap; it was not scanned.
    LINE_TOO_LONG = "line_too_long"
    #: The bytes of the line are not valid UTF-8.
    INVALID_UTF8 = "invalid_utf8"
    #: A row showing a name and no symbol, whose name the coin registry does not map to exactly one
    #: symbol (unknown, shared by several coins, a common word); the detail says which. Not guessed.
    UNMAPPED_NAME = "unmapped_name"
    # Dead-letter reasons (ticker-process, on messages of the ticks topic):
    #: The message value is not JSON (or not a JSON object).
    NOT_JSON = "not_json"
    #: JSON, but not a valid tick (missing field, wrong type, bad value, unknown version).
    INVALID_TICK = "invalid_tick"
    #: The message is larger than the processor accepts.
    MESSAGE_TOO_LARGE = "message_too_large"


#: Rough units of each currency per US dollar, only to scale the plausible price cap.
_UNITS_PER_USD: dict[str, float] = {
    "JPY": 200,
    "KRW": 2000,
    "INR": 100,
    "RUB": 150,
    "IDR": 20000,
    "VND": 30000,
    "NGN": 2000,
    "HUF": 500,
    "ARS": 2000,
    "CLP": 1200,
    "COP": 5000,
    "PKR": 400,
    "PHP": 70,
    "THB": 40,
    "TWD": 40,
    "UAH": 50,
    "CZK": 30,
    "MXN": 25,
    "ZAR": 25,
    "TRY": 50,
    "SEK": 15,
    "NOK": 15,
    "DKK": 10,
    "CNY": 10,
    "HKD": 10,
}

#: Largest plausible price of a crypto asset in US dollars (BTC is ~1e5); anything above is a misread.
MAX_PRICE_USD = 1e7
#: Smallest plausible price (a 0.0₁₂… meme coin is ~1e-13).
MIN_PRICE = 1e-15


def max_price(currency: str) -> float:
    """Largest plausible price in ``currency`` (the parser and the tick decoder refuse anything above)."""
    return MAX_PRICE_USD * _UNITS_PER_USD.get(currency, 5.0 if currency != "USD" else 1.0)


@dataclass(frozen=True, slots=True)
class Tick:
    """One observed price of one asset at one event time."""

    symbol: str
    name: str
    coin_id: str | None
    price: float
    currency: str
    change_pct: float | None
    change_sign_known: bool
    ts: int
    source: str
    #: The price step the source showed (``1e-6`` for ``0.000019``, ``0.01`` for ``$1.00``): the
    #: shown price is within half of it of the true one. None when unknown.
    price_quantum: float | None = None
    #: How the symbol was obtained: ``"page"`` (shown there) or ``"registry"`` (mapped from the shown
    #: name through the coin registry), so a consumer can keep only what the page itself said.
    symbol_source: str = SYMBOL_FROM_PAGE

    def to_dict(self, version: int = TICK_SCHEMA_VERSION) -> dict[str, Any]:
        out = {
            "v": version,
            "symbol": self.symbol,
            "name": self.name,
            "coin_id": self.coin_id,
            "price": self.price,
            "currency": self.currency,
            "change_pct": self.change_pct,
            "change_sign_known": self.change_sign_known,
            "ts": self.ts,
            "source": self.source,
        }
        if version >= 2:
            out["price_quantum"] = self.price_quantum
        if version >= 3:
            out["symbol_source"] = self.symbol_source
        return out

    def to_json(self, version: int = TICK_SCHEMA_VERSION) -> bytes:
        return orjson.dumps(self.to_dict(version))


@dataclass(frozen=True, slots=True)
class Reject:
    """Input that did not become a tick, kept with its reason so nothing is lost silently."""

    raw: str
    reason: RejectReason
    source: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "reason": self.reason.value,
            "raw": truncate_raw(self.raw),
            "source": self.source,
            "detail": self.detail,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


def truncate_raw(raw: str, limit: int = REJECT_RAW_MAX_CHARS) -> str:
    """Cut raw input for a reject; a trailing ``…`` marks that it was cut."""
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


class InvalidTick(ValueError):
    """A decoded JSON object is not a valid tick; the message says which field and why."""


_REQUIRED_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("symbol", str),
    ("name", str),
    ("price", (int, float)),
    ("currency", str),
    ("change_sign_known", bool),
    ("ts", int),
    ("source", str),
)


def tick_from_dict(obj: Any) -> Tick:
    """Validate a decoded tick object (as read from Kafka or a JSON Lines file).

    Raises ``InvalidTick`` with a message naming the first problem found.
    """
    if not isinstance(obj, dict):
        raise InvalidTick("not a JSON object")
    version = obj.get("v")
    # ``True == 1`` in Python: insist on a real integer so a boolean is not taken for version 1.
    if type(version) is not int or version not in TICK_SCHEMA_VERSIONS:
        raise InvalidTick(f"unsupported schema version {version!r}")
    for field, kind in _REQUIRED_FIELDS:
        value = obj.get(field)
        # bool is an int subclass: a ``true`` price or ts is a type error, not 1.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise InvalidTick(f"field {field!r} missing or of wrong type")
    price = float(obj["price"])
    if not math.isfinite(price) or price <= 0:
        raise InvalidTick(f"price must be a finite number > 0, got {obj['price']!r}")
    change = obj.get("change_pct")
    if change is not None:
        if isinstance(change, bool) or not isinstance(change, (int, float)) or not math.isfinite(change):
            raise InvalidTick("change_pct must be a finite number or null")
        change = float(change)
    coin_id = obj.get("coin_id")
    if coin_id is not None and not isinstance(coin_id, str):
        raise InvalidTick("coin_id must be a string or null")
    quantum = obj.get("price_quantum")
    if quantum is not None and (
        isinstance(quantum, bool) or not isinstance(quantum, (int, float)) or not quantum > 0
    ):
        raise InvalidTick("price_quantum must be a number > 0 or null")
    # Missing in v1 and v2 records: their producers only ever wrote symbols the page showed.
    symbol_source = obj.get("symbol_source", SYMBOL_FROM_PAGE)
    if symbol_source not in SYMBOL_SOURCES:
        raise InvalidTick(f"symbol_source must be one of {', '.join(SYMBOL_SOURCES)}")
    if not obj["symbol"] or obj["ts"] < 0:
        raise InvalidTick("symbol must be non-empty and ts >= 0")
    return Tick(
        symbol=obj["symbol"],
        name=obj["name"],
        coin_id=coin_id,
        price=price,
        currency=obj["currency"],
        change_pct=change,
        change_sign_known=obj["change_sign_known"],
        ts=obj["ts"],
        source=obj["source"],
        price_quantum=None if quantum is None else float(quantum),
        symbol_source=symbol_source,
    )


# -- event times for people (error details, rejects) ---------------------------------------------


def iso_ms(ms: int) -> str:
    """``ms`` since the epoch as ISO 8601 UTC, to the second."""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms since the epoch"


def span(ms: int) -> str:
    """A duration for people, rounded to its last unit: ``45 s``, ``12 min``, ``8 h 0 min``, ``3 d 2 h``."""
    s = (max(0, ms) + 500) // 1000
    if s < 120:
        return f"{s} s"
    m = (s + 30) // 60
    if m < 120:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min"
    d, h = divmod(h + (m >= 30), 24)
    return f"{d} d {h} h"
