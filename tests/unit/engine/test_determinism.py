"""Events: schemas, byte-for-byte determinism, and invariance to how the stream is cut into batches."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.engine import CFG, T0, config, stream
from tests.unit.engine.test_mixed_rounding import outage
from tickerstream.engine import Engine, TickBatch
from tickerstream.events import Event, Move, PegEvent, Quality, event_from_dict


def run(b: TickBatch, cuts: list[int], engine: Engine | None = None) -> list[Event]:
    e = Engine(config(*CFG)) if engine is None else engine
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


def test_events_match_their_schemas_and_round_trip(validate_record: Callable[[str, Any], None]) -> None:
    for ev in FULL_EVENTS:
        obj = orjson.loads(ev.to_json())
        validate_record(ev.type, obj)
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


MISPARSED = stream(7, 80, misparsed=0.05)


def _events_and_counts(cuts: list[int]) -> tuple[list[bytes], tuple[int, ...]]:
    e = Engine(config(*CFG))
    events = sorted(ev.to_json() for ev in run(MISPARSED, cuts, e))
    s = e.stats
    return events, (s.accepted, s.late, s.duplicates, s.scale_jumps)


MISPARSED_ONE_BATCH = _events_and_counts([])


def test_misparsed_pages_are_judged_the_same_tick_by_tick_and_in_one_batch() -> None:
    """A page at a thousandth of the price, then the true page at the same ts: one batch used to
    reject the true page as a duplicate of the dropped one (tick by tick it was taken)."""
    events, counts = MISPARSED_ONE_BATCH
    assert counts[3] > 20  # the stream has scale jumps to drop
    assert _events_and_counts(list(range(1, len(MISPARSED)))) == (events, counts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(MISPARSED) - 1), max_size=40))
def test_batching_does_not_change_the_judgement_of_misparsed_pages(cuts: list[int]) -> None:
    assert _events_and_counts(cuts) == MISPARSED_ONE_BATCH


MIXED = outage(30)  # cents and four decimals taking turns, the finer page gone for 30 h
MIXED_EVENTS = run(MIXED, [], Engine(config("moves.zscore_k=1.5")))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(MIXED) - 1), max_size=40))
def test_batching_does_not_change_the_events_of_mixed_quanta(cuts: list[int]) -> None:
    """Which points the volatility leaves out (a coarser page's) does not depend on the batches."""
    got = run(MIXED, cuts, Engine(config("moves.zscore_k=1.5")))
    assert [ev.to_json() for ev in got] == [ev.to_json() for ev in MIXED_EVENTS]
    assert len(MIXED_EVENTS) >= 3


def test_a_quality_event_round_trips(validate_record: Callable[[str, Any], None]) -> None:
    """The test stream has none; reading one back passed its class-level ``type`` to the constructor."""
    ev = Quality(
        "ABC", None, "USD", T0, "change_mismatch", 9.0, True, 0.0, -0.01, 0.01, 1.405, T0 - 86_400_000
    )
    obj = orjson.loads(ev.to_json())
    validate_record("quality", obj)
    assert event_from_dict(obj) == ev
