"""The pending buffer (``processor.pending``): fetched records decoded per partition, bad ones kept as
dead letters, and cut in event-time order across partitions."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tickerstream.engine import Engine, TickBatch
from tickerstream.model import RejectReason, Tick
from tickerstream.processor.pending import BadTick, PendingTicks, Segment, decode_fetch
from tickerstream.processor.refprices import UNKNOWN


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


def test_cut_takes_bad_only_partitions_and_moves_their_positions() -> None:
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
    cut = pending.cut()
    assert cut is not None and len(cut) == 0 and cut.positions == {2: 8} and len(cut.bad) == 1
    assert not pending and pending.cut() is None


def _stream() -> list[tuple[str, int, float]]:
    rng = np.random.default_rng(1)
    symbols = ["BTC", "WBTC", "ETH", "USDC", "SOL"]
    stream = []
    for k in range(300):
        ts = 1_700_000_000_000 + k * 60_000
        for s in symbols:
            if s == "BTC" and k % 7 == 3:
                continue  # BTC missing from some pages: those WBTC ticks wait for the watermark
            base = {"BTC": 100_000.0, "WBTC": 100_000.0, "ETH": 3000.0, "USDC": 1.0, "SOL": 150.0}[s]
            dip = 0.96 if s == "WBTC" and 100 <= k < 150 else 0.97 if s == "USDC" and 200 <= k < 230 else 1.0
            stream.append((s, ts, round(base * dip * float(np.exp(rng.normal(0, 0.001))), 2)))
    return stream


def _run_in_cuts(stream: list[tuple[str, int, float]], horizons: bool) -> list[bytes]:
    """Fetch unevenly (WBTC's partition far ahead of BTC's), cut *everything* pending each step, and
    hand the engine BTC's processed progress first when ``horizons`` (what ``RefGate.release`` does)."""
    part = {"BTC": 0, "WBTC": 1, "ETH": 2, "USDC": 1, "SOL": 0}
    engine = Engine()
    pending = PendingTicks()
    got = []
    by_p: dict[int, list[Rec]] = {0: [], 1: [], 2: []}
    for s, ts, px in stream:
        by_p[part[s]].append(Rec(len(by_p[part[s]]), tick(s, ts, px)))
    chunks = {0: 7, 1: 40, 2: 13}
    pos = dict.fromkeys(by_p, 0)
    btc_done = UNKNOWN  # largest ts processed of BTC's partition
    while any(pos[p] < len(by_p[p]) for p in by_p) or pending:
        fetch = {p: by_p[p][pos[p] : pos[p] + chunks[p]] for p in by_p}
        for p in by_p:
            pos[p] += chunks[p]
        for p, segment in decode_fetch({p: f for p, f in fetch.items() if f}).items():
            pending.add(p, segment)
        if horizons:
            first = pending.first_ts(0)
            got.extend(engine.set_reference_horizons({"BTC": btc_done if first is None else first}))
        cut = pending.cut()
        if cut is not None:
            got.extend(engine.process(cut.batch))
            rows = cut.partition_of_row == 0
            if rows.any():
                btc_done = max(btc_done, int(cut.batch.ts[rows].max()))
    if horizons:  # the end: BTC's progress is final
        got.extend(engine.set_reference_horizons({"BTC": btc_done + 1}))
    got.extend(engine.flush())
    return sorted(e.to_json() for e in got)


def test_whole_cuts_with_reference_horizons_give_the_replays_events() -> None:
    """Every fetched tick goes in each cut, however far ahead of BTC's partition; only WBTC's ticks wait
    (in the engine, for BTC's horizon). That equals one replay over the stream."""
    stream = _stream()
    syms, ts_, px_ = zip(*stream, strict=True)
    engine = Engine()
    replay = engine.process(TickBatch.from_arrays(syms, ts_, px_, currency=["USD"] * len(stream)))
    replay += engine.flush()
    assert {e.symbol for e in replay if e.type == "peg"} == {"WBTC", "USDC"}
    assert engine.stats.released_without_ref == 0 and engine.stats.held_total > 0
    expected = sorted(e.to_json() for e in replay)
    assert _run_in_cuts(stream, horizons=True) == expected
    # Without the horizons the same cuts judge WBTC before BTC's points arrived: the test has teeth.
    assert _run_in_cuts(stream, horizons=False) != expected


def test_decode_fetch_dead_letters_a_tick_far_ahead_of_the_clock() -> None:
    now = 1_800_000_000_000
    fetched = {0: [Rec(5, tick("BTC", now - 1000)), Rec(6, tick("BTC", now * 1000))]}  # ms, then microseconds
    seg = decode_fetch(fetched, now_ms=now, max_future_ms=3_600_000)[0]
    assert seg.ts.tolist() == [now - 1000] and seg.offsets.tolist() == [5] and seg.end == 7
    assert [(b.offset, b.reason) for b in seg.bad] == [(6, RejectReason.INVALID_TICK)]
