"""Poison fuzzing: mutated tick records through the Kafka decode path (``decode_fetch``, what
``ticker-process`` runs on every fetch) and through replay's JSON Lines reader. No record may raise,
every record is accounted for exactly once, and what is kept is a valid, plausible tick."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.poison import poison_record
from tickerstream.model import MIN_PRICE, InvalidTick, max_price, tick_from_dict
from tickerstream.processor.pending import decode_fetch
from tickerstream.replay.inputs import ReadStats, jsonl_batches


class Rec(NamedTuple):
    offset: int
    value: bytes | None
    timestamp: int = -1


def _valid(raw: bytes) -> bool:
    """The reference: what a record must be to be kept (checked record by record, slowly)."""
    try:
        tick = tick_from_dict(orjson.loads(raw))
    except (orjson.JSONDecodeError, InvalidTick, UnicodeDecodeError):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return MIN_PRICE <= tick.price <= max_price(tick.currency) and len(raw) <= 16 * 1024


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(poison_record, max_size=8), min_size=1, max_size=3))
def test_no_record_stops_the_kafka_decode_path(partitions: list[list[bytes]]) -> None:
    fetched = {p: [Rec(100 + i, v) for i, v in enumerate(vals)] for p, vals in enumerate(partitions)}
    out = decode_fetch(fetched)
    for p, vals in enumerate(partitions):
        if not vals:
            continue
        seg = out[p]
        kept = set(seg.offsets.tolist())
        dead = {b.offset for b in seg.bad}
        assert not kept & dead and kept | dead == {100 + i for i in range(len(vals))}
        for i, v in enumerate(vals):
            assert (100 + i in kept) == _valid(v), v


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(poison_record, min_size=1, max_size=12))
def test_no_record_stops_a_json_lines_replay(tmp_path_factory: object, rows: list[bytes]) -> None:
    # Lines cannot hold a newline: a mutation that inserted one makes two lines, both checked.
    lines = [line for row in rows for line in row.split(b"\n")]
    path = Path(tmp_path_factory.mktemp("fuzz")) / "ticks.jsonl"  # type: ignore[attr-defined]
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats = ReadStats()
    kept = sum(len(b) for b in jsonl_batches(path, stats))
    expected = [line.strip() for line in lines if line.strip()]
    assert stats.records == len(expected)
    assert kept == sum(_valid(line) for line in expected)
    assert kept + sum(stats.reject_counts.values()) == len(expected)
