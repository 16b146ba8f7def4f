"""Events: schemas, byte-for-byte determinism, and invariance to how the stream is cut into batches."""

from __future__ import annotations

import json
from importlib import resources
from itertools import pairwise
from typing import Any

import jsonschema
import numpy as np
import orjson
from engine_factories import MIN, T0, config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickerstream.engine import Engine, TickBatch
from tickerstream.events import Event, Move, PegEvent, event_from_dict

SYMBOLS = ["BTC", "WBTC", "ETH", "STETH", "WETH", "USDT", "DAI", "WSTETH", "AAA", "BBB", "CCC"]
BASE = {
    "BTC": 100_000.0,
    "WBTC": 100_000.0,
    "ETH": 3000.0,
    "STETH": 2990.0,
    "WETH": 3000.0,
    "USDT": 1.0,
    "DAI": 1.0,
    "WSTETH": 3600.0,
    "AAA": 5.0,
    "BBB": 0.2,
    "CCC": 40.0,
}
CFG = (
    "moves.horizons_s=[600, 3600]",
    "moves.threshold_pct=[2.0, 4.0]",
    "moves.cooldown_s=[900, 900]",
    "moves.zscore_min_returns=5",
    "pegs.min_exit_duration_s=60",
    "pegs.ref_max_wait_s=120",
    "windows.capacity=32",
)


def schema(name: str) -> dict[str, Any]:
    text = resources.files("tickerstream").joinpath(f"schemas/{name}.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


VALIDATORS = {
    "move": jsonschema.Draft202012Validator(schema("move")),
    "peg": jsonschema.Draft202012Validator(schema("peg")),
}


def stream(seed: int, n_snapshots: int = 150) -> TickBatch:
    """Page snapshots (shared ts, any order), volatile prices, depegs, late ticks and duplicates."""
    rng = np.random.default_rng(seed)
    syms: list[str] = []
    ts: list[int] = []
    px: list[float] = []
    level = {s: 1.0 for s in SYMBOLS}
    t = T0
    for _ in range(n_snapshots):
        t += int(rng.integers(1, 30)) * MIN
        common = float(np.exp(rng.normal(0, 0.02)))
        for s in rng.permutation(SYMBOLS).tolist():
            if rng.random() < 0.15:
                continue  # not on every page
            if s in ("USDT", "DAI", "STETH", "WBTC", "WETH"):
                level[s] = float(np.clip(level[s] + rng.normal(0, 0.004), 0.95, 1.03))
            else:
                level[s] *= common * float(np.exp(rng.normal(0, 0.02)))
            ref = {"WBTC": "BTC", "STETH": "ETH", "WETH": "ETH"}.get(s)
            price = BASE[s] * level[s] * (level[ref] if ref else 1.0)
            price = round(price, 2) if price >= 1 else round(price, 6)
            syms.append(s)
            ts.append(t)
            px.append(price)
            if rng.random() < 0.03:  # a re-scraped page: duplicate
                syms.append(s)
                ts.append(t)
                px.append(price)
            if rng.random() < 0.02:  # an old snapshot replayed: late
                syms.append(s)
                ts.append(t - 45 * MIN)
                px.append(price)
    return TickBatch.from_arrays(syms, ts, px)


def run(b: TickBatch, cuts: list[int]) -> list[Event]:
    e = Engine(config(*CFG))
    events: list[Event] = []
    bounds = [0, *sorted(set(cuts)), len(b)]
    for lo, hi in pairwise(bounds):
        events += e.process(b.slice(lo, hi))
    return events + e.flush()


FULL = stream(3)
FULL_EVENTS = run(FULL, [])


def test_the_test_stream_exercises_every_kind_of_event() -> None:
    kinds = {(ev.type, getattr(ev, "state", None)) for ev in FULL_EVENTS}
    assert ("move", None) in kinds
    assert {("peg", "warn"), ("peg", "critical"), ("peg", "ok")} <= kinds
    assert any(isinstance(ev, PegEvent) and ev.peg == "BTC" for ev in FULL_EVENTS)


def test_events_match_their_schemas_and_round_trip() -> None:
    for ev in FULL_EVENTS:
        obj = orjson.loads(ev.to_json())
        VALIDATORS[ev.type].validate(obj)
        assert event_from_dict(obj) == ev
        assert list(obj)[:5] == ["v", "type", "id", "symbol", "ts"]


def test_same_input_gives_byte_identical_output() -> None:
    again = run(stream(3), [])
    assert [ev.to_json() for ev in again] == [ev.to_json() for ev in FULL_EVENTS]
    assert len({ev.id for ev in FULL_EVENTS}) == len(FULL_EVENTS)


def test_events_within_a_call_are_ordered() -> None:
    keys = [(ev.ts, ev.symbol, ev.type, ev.horizon_s if isinstance(ev, Move) else 0) for ev in FULL_EVENTS]
    assert keys == sorted(keys)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(FULL) - 1), max_size=40))
def test_batching_does_not_change_the_events(cuts: list[int]) -> None:
    got = run(FULL, cuts)
    assert sorted(ev.to_json() for ev in got) == sorted(ev.to_json() for ev in FULL_EVENTS)


def test_tick_by_tick_equals_one_batch() -> None:
    b = stream(11, 60)
    assert sorted(ev.to_json() for ev in run(b, list(range(1, len(b))))) == sorted(
        ev.to_json() for ev in run(b, [])
    )
