"""Tick records as the producer writes them: the JSON of one tick schema version, byte for byte.

Every path of ``ticker-produce`` (pages parsed here or in worker processes, followed text, JSON Lines
recordings) turns ticks into values through this module, so ``--tick-version 1`` reaches all of
them. Version 2 is the default; version 1 is the frozen record (no ``price_quantum``) for consumers
that validate against ``tick.v1.schema.json`` with ``additionalProperties: false``.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from tickerstream.model import TICK_SCHEMA_VERSION, TICK_SCHEMA_VERSIONS, Tick, tick_from_dict

_V2_PREFIX = b'{"v":%d,' % TICK_SCHEMA_VERSION
_V1_PREFIX = b'{"v":1,'
#: The v2-only field, last in declaration order. Inside a JSON string its quotes would be escaped,
#: so these exact bytes only ever occur as the key itself.
_QUANTUM_KEY = b',"price_quantum":'


def _tick_json_via_dataclass(tick: Tick) -> bytes:
    """``tick.to_json()`` at under half the cost: orjson serialises the slotted dataclass natively
    (fields in declaration order) without building the intermediate dict; we put ``v`` in front."""
    return _V2_PREFIX + orjson.dumps(tick)[1:]


def _tick_v1_json_via_dataclass(tick: Tick) -> bytes:
    """``tick.to_json(version=1)`` the same fast way: the dataclass's JSON cut before ``price_quantum``."""
    body = orjson.dumps(tick)
    return _V1_PREFIX + body[1 : body.rindex(_QUANTUM_KEY)] + b"}"


def _slow(version: int) -> Callable[[Tick], bytes]:
    return lambda tick: tick.to_json(version=version)


def _pick(fast: Callable[[Tick], bytes], version: int) -> Callable[[Tick], bytes]:
    """``fast`` only if it gives ``Tick.to_json(version)``'s exact bytes (same keys, same order)."""
    probe = Tick("BTC", "Bitcoin", None, 104442.98, "USD", -0.5, True, 1737331200000, "p", 0.01)
    fields = list(Tick.__dataclass_fields__)
    same_shape = list(probe.to_dict()) == ["v", *fields] and fields[-1] == "price_quantum"
    if same_shape and fast(probe) == probe.to_json(version=version):
        return fast
    return _slow(version)  # the record changed shape: stay correct, lose the shortcut


#: Encodes one tick to its topic JSON (bytes identical to ``Tick.to_json()``, the current version).
encode_tick = _pick(_tick_json_via_dataclass, TICK_SCHEMA_VERSION)
#: Encodes one tick to the frozen v1 record (bytes identical to ``Tick.to_json(version=1)``).
encode_tick_v1 = _pick(_tick_v1_json_via_dataclass, 1)


def tick_encoder(version: int) -> Callable[[Tick], bytes]:
    """The encoder writing tick records of schema ``version`` (1 or 2)."""
    if version == TICK_SCHEMA_VERSION:
        return encode_tick
    if version == 1:
        return encode_tick_v1
    raise ValueError(f"tick version must be one of {TICK_SCHEMA_VERSIONS}, got {version!r}")


def recode_values(values: list[bytes], version: int) -> list[bytes]:
    """Valid tick records (e.g. lines of a recording) as records of ``version``.

    The current version keeps the bytes as they are (a v1 line stays v1: every reader of ours takes
    it, and a quantum it never had cannot be invented). Version 1 re-encodes every record, so a v2
    line loses its ``price_quantum`` and no field beyond the frozen schema's reaches a v1-only reader.
    """
    if version == TICK_SCHEMA_VERSION:
        return values
    encode = tick_encoder(version)
    return [encode(tick_from_dict(orjson.loads(value))) for value in values]
