"""Tick records as the producer writes them: the JSON of one tick schema version, byte for byte.

Every path of ``ticker-produce`` (pages parsed here or in worker processes, followed text, JSON Lines
recordings) turns ticks into values through this module, so ``--tick-version 1`` reaches all of
them. Version 3 is the default; versions 2 (no ``symbol_source``) and 1 (nor ``price_quantum``) are
the frozen records for consumers that validate against ``tick.v2.schema.json`` or
``tick.v1.schema.json`` with ``additionalProperties: false``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from tickerstream.model import (
    SYMBOL_FROM_PAGE,
    TICK_SCHEMA_VERSION,
    TICK_SCHEMA_VERSIONS,
    Reject,
    RejectReason,
    Tick,
    tick_from_dict,
)

#: The first version that says how a symbol was obtained (``symbol_source``).
SYMBOL_SOURCE_VERSION = 3

#: The key each older version's record ends before: v2 has everything up to ``symbol_source``, v1
#: everything up to ``price_quantum`` (fields in declaration order, the newest last). Inside a JSON
#: string the quotes would be escaped, so these exact bytes only ever occur as the keys themselves.
_CUT_BEFORE = {1: b',"price_quantum":', 2: b',"symbol_source":'}


def _tick_json_via_dataclass(tick: Tick) -> bytes:
    """``tick.to_json()`` at under half the cost: orjson serialises the slotted dataclass natively
    (fields in declaration order) without building the intermediate dict; we put ``v`` in front."""
    return b'{"v":%d,' % TICK_SCHEMA_VERSION + orjson.dumps(tick)[1:]


def _older_json_via_dataclass(version: int) -> Callable[[Tick], bytes]:
    """``tick.to_json(version=...)`` of an older version the same fast way: the dataclass's JSON cut
    before the first field that version does not have."""
    prefix = b'{"v":%d,' % version
    cut = _CUT_BEFORE[version]

    def encode(tick: Tick) -> bytes:
        body = orjson.dumps(tick)
        return prefix + body[1 : body.rindex(cut)] + b"}"

    return encode


def _slow(version: int) -> Callable[[Tick], bytes]:
    return lambda tick: tick.to_json(version=version)


def _pick(fast: Callable[[Tick], bytes], version: int) -> Callable[[Tick], bytes]:
    """``fast`` only if it gives ``Tick.to_json(version)``'s exact bytes (same keys, same order)."""
    probe = Tick("BTC", "Bitcoin", None, 104442.98, "USD", -0.5, True, 1737331200000, "p", 0.01, "registry")
    fields = list(Tick.__dataclass_fields__)
    same_shape = list(probe.to_dict()) == ["v", *fields] and fields[-2:] == ["price_quantum", "symbol_source"]
    if same_shape and fast(probe) == probe.to_json(version=version):
        return fast
    return _slow(version)  # the record changed shape: stay correct, lose the shortcut


#: Encodes one tick to its topic JSON (bytes identical to ``Tick.to_json()``, the current version).
encode_tick = _pick(_tick_json_via_dataclass, TICK_SCHEMA_VERSION)
#: Encodes one tick to the frozen v2 record (bytes identical to ``Tick.to_json(version=2)``).
encode_tick_v2 = _pick(_older_json_via_dataclass(2), 2)
#: Encodes one tick to the frozen v1 record (bytes identical to ``Tick.to_json(version=1)``).
encode_tick_v1 = _pick(_older_json_via_dataclass(1), 1)


def tick_encoder(version: int) -> Callable[[Tick], bytes]:
    """The encoder writing tick records of schema ``version`` (1, 2 or 3)."""
    if version == TICK_SCHEMA_VERSION:
        return encode_tick
    if version == 2:
        return encode_tick_v2
    if version == 1:
        return encode_tick_v1
    raise ValueError(f"tick version must be one of {TICK_SCHEMA_VERSIONS}, got {version!r}")


def decode_values(values: list[bytes]) -> list[Tick]:
    """Valid tick records (e.g. lines of a recording) as ticks, to write them as an older version.

    The current version sends a recording's bytes as they are (a v1 or v2 line stays as it is: every
    reader of ours takes it, and a quantum or symbol source it never had cannot be invented). An older
    version re-encodes every record through ``send_ticks``, so no field beyond that frozen schema's
    reaches a reader of it, and ``page_symbols_only`` applies as to parsed ticks."""
    return [tick_from_dict(orjson.loads(value)) for value in values]


def page_symbols_only(ticks: Sequence[Tick], version: int) -> tuple[Sequence[Tick], list[Reject]]:
    """The ticks a record of ``version`` can carry honestly, and a reject for each other one.

    A v1 or v2 record cannot say that its symbol was mapped from a name by the coin registry, and
    its readers take every symbol for the page's (README "Tick schema versions"). So a tick whose
    symbol came from the registry is not written as one; it becomes an ``unmapped_name`` reject
    holding its v3 record, so nothing is lost and the reason says how to get it."""
    if version >= SYMBOL_SOURCE_VERSION or all(t.symbol_source == SYMBOL_FROM_PAGE for t in ticks):
        return ticks, []
    keep = [t for t in ticks if t.symbol_source == SYMBOL_FROM_PAGE]
    rejects = [
        Reject(
            t.to_json().decode(),
            RejectReason.UNMAPPED_NAME,
            t.source,
            f"symbol {t.symbol} was mapped from the name {t.name!r} by the coin registry, which a v{version} "
            f"tick cannot say; --tick-version {SYMBOL_SOURCE_VERSION} writes it",
        )
        for t in ticks
        if t.symbol_source != SYMBOL_FROM_PAGE
    ]
    return keep, rejects
