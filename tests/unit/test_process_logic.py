"""Pure logic of ticker-process, without a broker: the pending buffer's event-time merge and gate,
reference records, dead letters, settings."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import orjson
import pytest

from tickerstream.cli.process import split_overrides
from tickerstream.config import load_settings
from tickerstream.engine import Engine, TickBatch
from tickerstream.errors import ConfigError
from tickerstream.model import RejectReason, Tick
from tickerstream.processor.config import ProcessorConfig
from tickerstream.processor.dlq import reject_for
from tickerstream.processor.ownership import Ownership, PartitionState
from tickerstream.processor.pending import BadTick, PendingTicks, Segment, decode_fetch
from tickerstream.processor.refprices import UNKNOWN, decode_ref, encode_ref, gate_limit, reference_ticks


class Rec(NamedTuple):
    """A consumer record as far as the processor reads it."""

    offset: int
    value: bytes | None
    timestamp: int = -1


def tick(sym: str, ts: int, price: float = 1.0) -> bytes:
    return Tick(sym, sym, None, price, "USD", None, False, ts, "t").to_json()


def seg(p_offsets: list[int], symbols: list[str], ts: list[int], bad: list[BadTick] | None = None) -> Segment:
    end = max(p_offsets + [b.offset for b in bad or []]) + 1
    return Segment(
        np.array(p_offsets, dtype=np.int64),
        symbols,
        np.array(ts, dtype=np.int64),
        np.ones(len(ts)),
        bad or [],
        end,
    )


def test_decode_fetch_splits_by_partition_and_keeps_offsets_and_bad_records() -> None:
    fetched = {
        0: [Rec(10, tick("BTC", 1)), Rec(11, b"nope"), Rec(12, tick("ETH", 2))],
        3: [Rec(5, None), Rec(6, tick("SOL", 3))],
    }
    out = decode_fetch(fetched)
    assert out[0].symbols == ["BTC", "ETH"] and out[0].offsets.tolist() == [10, 12] and out[0].end == 13
    assert [(b.offset, b.reason) for b in out[0].bad] == [(11, RejectReason.NOT_JSON)]
    assert out[3].symbols == ["SOL"] and out[3].offsets.tolist() == [6] and out[3].end == 7
    assert [(b.partition, b.offset, b.raw) for b in out[3].bad] == [(3, 5, b"")]


def test_cut_merges_partitions_by_event_time_keeping_each_partitions_order() -> None:
    pending = PendingTicks()
    pending.add(0, seg([0, 1, 2], ["A", "A", "B"], [100, 300, 300]))
    pending.add(1, seg([0, 1], ["C", "D"], [200, 250]))
    cut = pending.cut()
    assert cut is not None
    assert cut.batch.ts.tolist() == [100, 200, 250, 300, 300]
    assert cut.batch.symbols == ["A", "C", "D", "A", "B"]
    assert cut.partition_of_row.tolist() == [0, 1, 1, 0, 0]
    assert cut.positions == {0: 3, 1: 2}
    assert not pending


def test_cut_never_reorders_a_partition_even_with_a_late_tick() -> None:
    pending = PendingTicks()
    pending.add(0, seg([0, 1, 2], ["A", "A", "A"], [100, 300, 200]))  # ts 200 is late in its partition
    pending.add(1, seg([0], ["B"], [250]))
    cut = pending.cut()
    assert cut is not None
    # The late tick stays after ts 300 of its partition (the engine drops it as late, like a replay).
    assert cut.batch.ts.tolist() == [100, 250, 300, 200]


def test_cut_at_a_limit_leaves_the_rest_and_moves_positions_exactly() -> None:
    pending = PendingTicks()
    bad = BadTick(0, 1, RejectReason.NOT_JSON, "x", b"x")
    late_bad = BadTick(0, 4, RejectReason.NOT_JSON, "x", b"y")
    pending.add(0, seg([0, 2, 3], ["A", "A", "A"], [100, 200, 300], [bad, late_bad]))
    cut = pending.cut(limit=150)
    assert cut is not None and cut.batch.ts.tolist() == [100]
    assert cut.bad == [bad] and cut.positions == {0: 2}  # the bad record before row 2 goes with it
    assert pending.first_ts(0) == 200 and pending.last_key(0) == 300
    assert pending.cut(limit=150) is None  # nothing more may go
    rest = pending.cut()
    assert rest is not None and rest.batch.ts.tolist() == [200, 300]
    assert rest.bad == [late_bad] and rest.positions == {0: 5}


def test_cut_lets_bad_only_partitions_through_even_when_gated() -> None:
    pending = PendingTicks()
    pending.add(
        2,
        Segment(
            np.empty(0, np.int64),
            [],
            np.empty(0, np.int64),
            np.empty(0),
            [BadTick(2, 7, RejectReason.INVALID_TICK, "d", b"{}")],
            8,
        ),
    )
    cut = pending.cut(limit=UNKNOWN)
    assert cut is not None and len(cut) == 0 and cut.positions == {2: 8} and len(cut.bad) == 1


def test_merged_cuts_give_the_replays_events() -> None:
    """Feeding the engine cut by cut (partitions interleaved by the merge) = one replay over the stream."""
    rng = np.random.default_rng(1)
    symbols = ["BTC", "WBTC", "ETH", "USDC", "SOL"]
    stream = []
    for k in range(300):
        ts = 1_700_000_000_000 + k * 60_000
        for s in symbols:
            base = {"BTC": 100_000.0, "WBTC": 100_000.0, "ETH": 3000.0, "USDC": 1.0, "SOL": 150.0}[s]
            dip = 0.96 if s == "WBTC" and 100 <= k < 150 else 0.97 if s == "USDC" and 200 <= k < 230 else 1.0
            stream.append((s, ts, round(base * dip * float(np.exp(rng.normal(0, 0.001))), 2)))
    replay = Engine().process(TickBatch.from_arrays(*zip(*stream, strict=True)))
    assert {e.symbol for e in replay if e.type == "peg"} == {"WBTC", "USDC"}

    part = {"BTC": 0, "WBTC": 1, "ETH": 2, "USDC": 1, "SOL": 0}
    engine = Engine()
    pending = PendingTicks()
    got = []
    by_p: dict[int, list[Rec]] = {0: [], 1: [], 2: []}
    for s, ts, px in stream:
        by_p[part[s]].append(Rec(len(by_p[part[s]]), tick(s, ts, px)))
    # Fetch unevenly: partition 1 (WBTC) runs far ahead of partition 0 (BTC).
    chunks = {0: 7, 1: 40, 2: 13}
    pos = dict.fromkeys(by_p, 0)
    while any(pos[p] < len(by_p[p]) for p in by_p):
        fetch = {p: by_p[p][pos[p] : pos[p] + chunks[p]] for p in by_p}
        for p in by_p:
            pos[p] += chunks[p]
        for p, segment in decode_fetch({p: f for p, f in fetch.items() if f}).items():
            pending.add(p, segment)
        horizon = pending.last_key(0)  # BTC's partition: what has been fetched of it
        limit = gate_limit(["BTC"], {"BTC": horizon if horizon is not None else UNKNOWN}, 300_000, set())
        cut = pending.cut(limit)
        if cut is not None:
            got.extend(engine.process(cut.batch))
    cut = pending.cut()
    if cut is not None:
        got.extend(engine.process(cut.batch))
    assert sorted(e.to_json() for e in got) == sorted(e.to_json() for e in replay)


def test_reference_records_round_trip_and_ignore_junk() -> None:
    rec = decode_ref(encode_ref("BTC", 5, 104_000.5, 7))
    assert rec is not None and (rec.symbol, rec.ts, rec.price, rec.until) == ("BTC", 5, 104_000.5, 7)
    progress = decode_ref(encode_ref("ETH", None, None, 9))
    assert progress is not None and progress.ts is None and progress.until == 9
    for junk in (None, b"", b"nope", b"[]", b'{"v":2}', b'{"v":1,"symbol":"BTC","until":"x"}'):
        assert decode_ref(junk) is None
    bad_price = decode_ref(b'{"v":1,"symbol":"BTC","ts":1,"price":-1,"until":3}')
    assert bad_price is not None and bad_price.ts is None  # progress kept, point dropped


def test_gate_limit_is_the_slowest_reference_plus_the_wait() -> None:
    assert gate_limit([], {}, 300, set()) is None
    assert gate_limit(["BTC", "ETH"], {"BTC": 1000, "ETH": 500}, 300, set()) == 800
    assert gate_limit(["BTC", "ETH"], {"BTC": 1000, "ETH": 500}, 300, {"ETH"}) == 1300
    assert gate_limit(["BTC"], {}, 300, set()) == UNKNOWN + 300


def test_reference_ticks_are_only_those_on_their_own_owned_partition() -> None:
    syms = ["BTC", "SOL", "BTC", "ETH", "WBTC"]
    part = np.array([2, 2, 0, 1, 3])  # the BTC at row 2 came from a foreign partition: not ours to publish
    assert reference_ticks(syms, part, {"BTC": 2, "ETH": 1}, {0, 1, 2, 3}) == [0, 3]
    assert reference_ticks(syms, part, {"BTC": 2, "ETH": 1}, {0, 3}) == []


def test_dead_letter_is_a_valid_reject_with_source_and_a_short_raw(validate_record: object) -> None:
    big = BadTick(4, 99, RejectReason.MESSAGE_TOO_LARGE, "1000020 bytes > 16384", b'{"pad":"' + b"x" * 10**6)
    key, value = reject_for("ticker.ticks", big)
    obj = orjson.loads(value)
    validate_record("reject", obj)  # type: ignore[operator]
    assert key == b"ticker.ticks/4/99" and obj["source"] == "ticker.ticks/4/99"
    assert obj["reason"] == "message_too_large" and len(obj["raw"]) == 512 and obj["raw"].endswith("…")
    _, value = reject_for("t", BadTick(0, 1, RejectReason.NOT_JSON, "", b"\xff\xfe bad utf8"))
    obj = orjson.loads(value)
    validate_record("reject", obj)  # type: ignore[operator]
    assert obj["detail"] is None and "bad utf8" in obj["raw"]


def test_ownership_registers_new_symbols_and_forgets_them_with_their_state() -> None:
    engine = Engine()
    engine.process(TickBatch.from_arrays(["BTC", "SOL", "ETH"], [1, 1, 1], [1.0, 2.0, 3.0]))
    own = Ownership()
    own.add(0, PartitionState(position=0))
    own.add(1, PartitionState(position=0))
    own.register({0: ["BTC", "SOL"], 1: ["ETH"], 5: ["XRP"]})  # 5 is not ours: ignored
    assert own.partition_of == {"BTC": 0, "SOL": 0, "ETH": 1}
    assert own.charge("ETH", fallback=0) == 1 and own[1].dirty
    assert own.charge("XRP", fallback=0) == 0
    own.forget([0], engine)
    assert engine.symbols() == ["ETH"] and own.partition_of == {"ETH": 1} and 0 not in own


def test_cli_overrides_are_sorted_by_section() -> None:
    out = split_overrides(
        ["moves.zscore_k=5", "kafka.topics.ticks=x", "process.commit_interval_ms=5", "engine.a=1"]
    )
    assert out == {
        "engine": ["moves.zscore_k=5", "a=1"],
        "kafka": ["topics.ticks=x"],
        "process": ["commit_interval_ms=5"],
    }


def test_processor_config_loads_and_refuses_nonsense() -> None:
    cfg = load_settings(
        ProcessorConfig, env={"TICKER_PROCESS__COMMIT_INTERVAL_MS": "250"}, env_section="PROCESS"
    )
    assert cfg.commit_interval_ms == 250 and not cfg.exactly_once
    with pytest.raises(ConfigError, match="commit_interval_ms"):
        load_settings(ProcessorConfig, overrides=["commit_interval_ms=0"])
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(ProcessorConfig, overrides=["comit_interval_ms=10"])


def test_decode_fetch_dead_letters_a_tick_far_ahead_of_the_clock() -> None:
    now = 1_800_000_000_000
    fetched = {0: [Rec(5, tick("BTC", now - 1000)), Rec(6, tick("BTC", now * 1000))]}  # ms, then microseconds
    seg = decode_fetch(fetched, max_ts=now + 3_600_000)[0]
    assert seg.ts.tolist() == [now - 1000] and seg.offsets.tolist() == [5] and seg.end == 7
    assert [(b.offset, b.reason) for b in seg.bad] == [(6, RejectReason.INVALID_TICK)]
