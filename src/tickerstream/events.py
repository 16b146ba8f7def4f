"""The engine's output records: price moves and peg-state changes, and their JSON form.

Like ticks, these are a contract with downstream consumers (topics ``ticker.moves`` and
``ticker.pegs``): fields and meaning do not change without bumping ``v``. The JSON Schemas
``schemas/move.schema.json`` and ``schemas/peg.schema.json`` describe exactly what ``to_json`` emits.

Byte stability matters more than float precision here: a replay must reproduce a live run byte
for byte, and at-least-once consumers dedupe on ``id``. So ids are hashes of the event's identity
(never of the wall clock or a counter), key order is fixed, and derived numbers are rounded
(percentages to 4 dp, basis points and z-scores to 2-3 dp) so that harmless float noise in the
last bits cannot change the output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import orjson

from tickerstream.model import SCHEMA_VERSION

PegState = Literal["ok", "warn", "critical"]
Direction = Literal["up", "down"]
Trigger = Literal["threshold", "zscore", "both"]

#: Version of the move record (``schemas/move.schema.json``). 2 added ``from_ts``, ``sigma_pct``,
#: ``quantum`` and ``trigger``, and z is measured over the horizon (version 1: the latest return).
MOVE_SCHEMA_VERSION = 2

#: Rank of each peg state; escalation goes up this order, recovery down.
PEG_STATE_RANK: dict[str, int] = {"ok": 0, "warn": 1, "critical": 2}


def event_id(*parts: object) -> str:
    """A deterministic id: 16 hex digits of a hash over the event's identity.

    64 bits make an accidental collision among the events of one symbol practically impossible,
    and the id stays short enough for a Kafka header or a log line.
    """
    text = "|".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Move:
    """The price of ``symbol`` changed by ``change_pct`` from ``from_ts`` (the as-of anchor for
    ``ts - horizon_s``) to ``ts``.

    ``zscore`` is that change in units of the series' volatility over the same time:
    ``ln(1 + c) / (sigma_per_sqrt_second * sqrt((ts - from_ts) / 1000))``, where ``c`` is the smallest
    change consistent with the price quantum (display rounding), and sigma (per unit of time,
    floored) never below ``quantum / to_price``; ``None`` while the series has too few returns.
    ``sigma_pct`` is that sigma over the elapsed time, in percent. ``trigger`` says which measure
    reached its level; ``direction`` is always the sign of ``change_pct``.
    """

    type: ClassVar[str] = "move"

    symbol: str
    currency: str | None
    ts: int
    from_ts: int
    horizon_s: int
    from_price: float
    to_price: float
    change_pct: float
    zscore: float | None
    sigma_pct: float
    quantum: float
    trigger: Trigger
    direction: Direction

    @property
    def id(self) -> str:
        # One move per symbol, horizon and tick: the detector never fires twice for the same tick.
        return event_id("move", self.symbol, self.ts, self.horizon_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": MOVE_SCHEMA_VERSION,
            "type": self.type,
            "id": self.id,
            "symbol": self.symbol,
            "ts": self.ts,
            "currency": self.currency,
            "from_ts": self.from_ts,
            "horizon_s": self.horizon_s,
            "from_price": self.from_price,
            "to_price": self.to_price,
            "change_pct": self.change_pct,
            "zscore": self.zscore,
            "sigma_pct": self.sigma_pct,
            "quantum": self.quantum,
            "trigger": self.trigger,
            "direction": self.direction,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class PegEvent:
    """``symbol`` changed peg state at ``ts`` (one event per state change).

    ``peg`` is ``"USD"`` or the reference symbol (``"BTC"`` for WBTC); ``target`` the price the
    asset should have (1.0, or the reference price times the registry's ratio); ``ref_price`` the
    reference price used (``None`` for USD pegs). The event that returns to ``ok`` ends the episode
    and carries ``duration_s`` (since it left ``ok``) and ``worst_bps`` (the largest deviation seen).
    """

    type: ClassVar[str] = "peg"

    symbol: str
    ts: int
    peg: str
    target: float
    price: float
    ref_price: float | None
    deviation_bps: float
    state: PegState
    prev_state: PegState
    duration_s: float | None = None
    worst_bps: float | None = None

    @property
    def id(self) -> str:
        return event_id("peg", self.symbol, self.ts, self.prev_state, self.state)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "type": self.type,
            "id": self.id,
            "symbol": self.symbol,
            "ts": self.ts,
            "peg": self.peg,
            "target": self.target,
            "price": self.price,
            "ref_price": self.ref_price,
            "deviation_bps": self.deviation_bps,
            "state": self.state,
            "prev_state": self.prev_state,
        }
        if self.duration_s is not None:
            out["duration_s"] = self.duration_s
            out["worst_bps"] = self.worst_bps
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


Event = Move | PegEvent


def event_sort_key(event: Event) -> tuple[int, str, str, int]:
    """The order events leave one engine call in: by event time, symbol, type, horizon."""
    horizon = event.horizon_s if isinstance(event, Move) else 0
    return (event.ts, event.symbol, event.type, horizon)


def event_from_dict(obj: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON object (as decoded by orjson); ``id`` is recomputed, not trusted."""
    kind = obj.get("type")
    if kind == "move":
        return Move(
            symbol=obj["symbol"],
            currency=obj["currency"],
            ts=obj["ts"],
            from_ts=obj["from_ts"],
            horizon_s=obj["horizon_s"],
            from_price=obj["from_price"],
            to_price=obj["to_price"],
            change_pct=obj["change_pct"],
            zscore=obj["zscore"],
            sigma_pct=obj["sigma_pct"],
            quantum=obj["quantum"],
            trigger=obj["trigger"],
            direction=obj["direction"],
        )
    if kind == "peg":
        return PegEvent(
            symbol=obj["symbol"],
            ts=obj["ts"],
            peg=obj["peg"],
            target=obj["target"],
            price=obj["price"],
            ref_price=obj["ref_price"],
            deviation_bps=obj["deviation_bps"],
            state=obj["state"],
            prev_state=obj["prev_state"],
            duration_s=obj.get("duration_s"),
            worst_bps=obj.get("worst_bps"),
        )
    raise ValueError(f"unknown event type {kind!r}")
