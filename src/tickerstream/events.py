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
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

import orjson

PegState = Literal["ok", "warn", "critical", "unknown"]
PegKind = Literal["change", "deepened", "reminder"]
#: Why a peg could not be judged: no reference price within ``ref_max_age_s``, or one too old
#: for the reference's recent volatility (``stale_reference``), or only ticks without a coin id on
#: a ticker several coins share: whose price they show is not guessed (``ambiguous_ticks``).
UnknownReason = Literal["no_reference", "stale_reference", "ambiguous_ticks", "sources_disagree"]
Direction = Literal["up", "down"]
Trigger = Literal["threshold", "zscore", "both"]
#: new: the first event of a move. deepened: the move reached the next multiple of ``threshold_pct``
#: beyond the change of its latest event. reminder: it still holds one cooldown after its latest event.
MoveKind = Literal["new", "deepened", "reminder"]

#: Version of the move record (``schemas/move.schema.json``). 2 added ``from_ts``, ``sigma_pct``,
#: ``quantum`` and ``trigger``, and z is measured over the horizon (version 1: the latest return).
MOVE_SCHEMA_VERSION = 2

#: Rank of each peg state; escalation goes up this order, recovery down.
#: ``unknown`` is outside that order: it is not a level of deviation.
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
    floored) never below ``quantum / to_price``, is the volatility known at ``from_ts`` (the regime
    before the move); ``None`` while the series has too few returns, or had too little history at
    ``from_ts`` (less than a half-life, or too few returns).
    ``sigma_pct`` is that sigma over the elapsed time, in percent (``None`` when no volatility was
    known at ``from_ts``). ``trigger`` says which measure
    reached its level; ``direction`` is always the sign of ``change_pct``. ``kind`` tells a new move
    from a later report of the same one (``deepened``, ``reminder``). The series is
    (``coin_id`` or ``symbol``, ``currency``): two coins sharing a ticker never share a series.
    """

    type: ClassVar[str] = "move"

    symbol: str
    coin_id: str | None
    currency: str | None
    ts: int
    from_ts: int
    horizon_s: int
    from_price: float
    to_price: float
    change_pct: float
    zscore: float | None
    sigma_pct: float | None
    quantum: float
    trigger: Trigger
    direction: Direction
    kind: MoveKind

    @property
    def id(self) -> str:
        # One move per series, horizon and tick: the detector never fires twice for the same tick.
        return event_id("move", self.symbol, self.coin_id, self.currency, self.ts, self.horizon_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_series_head(self, MOVE_SCHEMA_VERSION),
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
            "kind": self.kind,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


#: Version (``v``) of peg event records. 2 added ``kind``, ``judged_bps``, ``ref_age_s``, the
#: episode fields on every event, the ``unknown`` state and ``update`` events (docs/pegs.md has the
#: migration from v1). Move records stay at ``SCHEMA_VERSION``.
PEG_EVENT_VERSION = 2


@dataclass(frozen=True, slots=True)
class PegEvent:
    """One peg event of ``symbol`` at ``ts``: a state change (``kind="change"``) or, while an episode
    lasts, an update (``kind="deepened"`` every further ``pegs.update_step_bps``, ``"reminder"`` every
    ``pegs.reminder_interval_s`` of event time without another event).

    ``peg`` is ``"USD"`` or the reference symbol (``"BTC"`` for WBTC); ``target`` the price the
    asset should have (1.0, or the reference price times the registry's ratio) and ``ref_price`` the
    reference price used, with ``ref_age_s`` the distance in event time to the nearest reference
    point used (``None`` for USD pegs). In state ``unknown`` no sound judgement was possible
    (``unknown_reason``): ``target``, ``deviation_bps`` and ``judged_bps`` are ``None``.

    ``deviation_bps`` is the deviation of the price as shown; ``judged_bps`` the one the decision
    used: the smallest deviation consistent with the price's display rounding and the reference's
    uncertainty (never larger in magnitude than ``deviation_bps``).

    A depeg episode runs from leaving ``ok`` to returning to it (or to ``unknown``). Events within
    or ending an episode carry ``episode_id``, ``episode_start`` and ``worst_bps`` (so far);
    ``duration_s`` is on the event that ends an episode (to the first tick back inside the exit
    level, or to the last soundly judged tick when it ends in ``unknown``) and on the event that
    leaves ``unknown`` (how long the asset was unknown).
    """

    type: ClassVar[str] = "peg"

    symbol: str
    ts: int
    kind: PegKind
    peg: str
    target: float | None
    price: float
    ref_price: float | None
    ref_age_s: float | None
    deviation_bps: float | None
    judged_bps: float | None
    state: PegState
    prev_state: PegState
    episode_id: str | None = None
    episode_start: int | None = None
    worst_bps: float | None = None
    duration_s: float | None = None
    unknown_reason: UnknownReason | None = None

    @property
    def id(self) -> str:
        return event_id("peg", self.symbol, self.ts, self.prev_state, self.state, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": PEG_EVENT_VERSION,
            "type": self.type,
            "id": self.id,
            "symbol": self.symbol,
            "ts": self.ts,
            "kind": self.kind,
            "state": self.state,
            "prev_state": self.prev_state,
            "peg": self.peg,
            "target": self.target,
            "price": self.price,
            "ref_price": self.ref_price,
            "ref_age_s": self.ref_age_s,
            "deviation_bps": self.deviation_bps,
            "judged_bps": self.judged_bps,
            "episode_id": self.episode_id,
            "episode_start": self.episode_start,
            "worst_bps": self.worst_bps,
            "duration_s": self.duration_s,
            "unknown_reason": self.unknown_reason,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


def episode_id(symbol: str, start: int) -> str:
    """Id of the depeg episode of ``symbol`` that started at ``start`` (the same on all its events)."""
    return event_id("peg-episode", symbol, start)


#: Version of quality records (``schemas/quality.schema.json``).
QUALITY_SCHEMA_VERSION = 1
QualityKind = Literal["change_mismatch", "change_agrees"]


@dataclass(frozen=True, slots=True)
class Quality:
    """The source's own 24 h change of a series stopped (``change_mismatch``) or resumed
    (``change_agrees``) agreeing with the engine's history (``engine/quality.py``).

    ``page_change_pct`` is the change as the tick gave it (a bare magnitude when
    ``page_sign_known`` is false); ``engine_change_pct`` the engine's change from ``from_ts`` (its
    as-of point a day back) to ``ts``, and ``[engine_low_pct, engine_high_pct]`` every change the
    display rounding allows from any base the series showed between ``from_ts`` and an hour after a
    day back (high null: unbounded). ``tolerance_pp`` is the
    allowance beyond that range: the page's rounding of the percentage and the price's possible
    drift between ``from_ts`` and exactly a day back. A mismatch suggests a page row mapped to the
    wrong coin, a stale scrape, or a source whose "24 h" means something else; the ticks are used.
    """

    type: ClassVar[str] = "quality"

    symbol: str
    coin_id: str | None
    currency: str | None
    ts: int
    kind: QualityKind
    page_change_pct: float
    page_sign_known: bool
    engine_change_pct: float
    engine_low_pct: float
    engine_high_pct: float | None
    tolerance_pp: float
    from_ts: int

    @property
    def id(self) -> str:
        return event_id("quality", self.symbol, self.coin_id, self.currency, self.ts, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_series_head(self, QUALITY_SCHEMA_VERSION),
            "kind": self.kind,
            "page_change_pct": self.page_change_pct,
            "page_sign_known": self.page_sign_known,
            "engine_change_pct": self.engine_change_pct,
            "engine_low_pct": self.engine_low_pct,
            "engine_high_pct": self.engine_high_pct,
            "tolerance_pp": self.tolerance_pp,
            "from_ts": self.from_ts,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


SOURCE_SCHEMA_VERSION = 1
SourceKind = Literal["frozen", "resumed"]


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A series' source stopped moving (``frozen``) or moved again (``resumed``) (``engine/stale.py``).

    ``frozen``: a price shown to six or more significant digits has not changed for
    ``windows.stale_after_s``, at ``ts``; from then on its repeats are dropped, so no move is judged
    on that series until the price changes: its alerts are silent, which is why it is an event.
    ``resumed``: the first changed price after it, at ``ts``; its moves are measured across the
    freeze. ``price`` is the tick's, ``frozen_price`` the price that stood still, ``since_ts`` when
    it was first shown.
    """

    type: ClassVar[str] = "source"

    symbol: str
    coin_id: str | None
    currency: str | None
    ts: int
    kind: SourceKind
    price: float
    frozen_price: float
    since_ts: int

    @property
    def id(self) -> str:
        return event_id("source", self.symbol, self.coin_id, self.currency, self.ts, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_series_head(self, SOURCE_SCHEMA_VERSION),
            "kind": self.kind,
            "price": self.price,
            "frozen_price": self.frozen_price,
            "since_ts": self.since_ts,
            "frozen_s": (self.ts - self.since_ts) // 1000,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


Event = Move | PegEvent | Quality | SourceEvent


def _series_head(event: Move | Quality | SourceEvent, version: int) -> dict[str, Any]:
    """The first members of the JSON of an event about one series, in the order every schema lists
    them (a consumer can read the type and series before the rest)."""
    return {
        "v": version,
        "type": event.type,
        "id": event.id,
        "symbol": event.symbol,
        "ts": event.ts,
        "coin_id": event.coin_id,
        "currency": event.currency,
    }


def event_sort_key(event: Event) -> tuple[int, str, str, int, str, str]:
    """The order events leave one engine call in: by event time, symbol, type, horizon, then the
    series (coin id, quote) of moves and quality events, so that two series of one symbol firing
    together come out in the same order whatever rows an engine gave them."""
    if isinstance(event, Move):
        return (
            event.ts,
            event.symbol,
            event.type,
            event.horizon_s,
            event.coin_id or "",
            event.currency or "",
        )
    if isinstance(event, Quality | SourceEvent):
        return (event.ts, event.symbol, event.type, 0, event.coin_id or "", event.currency or "")
    return (event.ts, event.symbol, event.type, 0, "", "")


def event_from_dict(obj: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON object (as decoded by orjson); ``id`` is recomputed, not trusted."""
    kind = obj.get("type")
    if kind == "move":
        return Move(
            symbol=obj["symbol"],
            coin_id=obj["coin_id"],
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
            kind=obj["kind"],
        )
    if kind == "peg":
        if obj.get("v") != PEG_EVENT_VERSION:
            raise ValueError(f"peg event v{obj.get('v')!r}: this version reads v{PEG_EVENT_VERSION}")
        return PegEvent(
            symbol=obj["symbol"],
            ts=obj["ts"],
            kind=obj["kind"],
            peg=obj["peg"],
            target=obj["target"],
            price=obj["price"],
            ref_price=obj["ref_price"],
            ref_age_s=obj["ref_age_s"],
            deviation_bps=obj["deviation_bps"],
            judged_bps=obj["judged_bps"],
            state=obj["state"],
            prev_state=obj["prev_state"],
            episode_id=obj["episode_id"],
            episode_start=obj["episode_start"],
            worst_bps=obj["worst_bps"],
            duration_s=obj["duration_s"],
            unknown_reason=obj["unknown_reason"],
        )
    if kind == "quality":
        return Quality(**{f.name: obj[f.name] for f in fields(Quality)})
    if kind == "source":
        return SourceEvent(**{f.name: obj[f.name] for f in fields(SourceEvent)})
    raise ValueError(f"unknown event type {kind!r}")
