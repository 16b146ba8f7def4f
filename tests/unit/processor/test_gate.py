"""The reference gate (``processor.gate.RefGate``) with a fake follower and clock: every pending tick goes
in each cut whatever the references' progress; only pegged ticks wait, inside the engine, whose
checkpoint (which goes with the committed offset) carries them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.engine import batch
from tickerstream.engine import Engine, EngineConfig
from tickerstream.engine.config import PegConfig
from tickerstream.events import Event
from tickerstream.model import Tick
from tickerstream.processor.config import ProcessorStats
from tickerstream.processor.gate import RefGate
from tickerstream.processor.ownership import Ownership, PartitionState
from tickerstream.processor.pending import Cut, PendingTicks, decode_fetch
from tickerstream.processor.refprices import UNKNOWN

T0 = 1_700_000_000_000
MIN = 60_000
WAIT = 900_000  # pegs.ref_max_wait_s, the default
#: One pegged tick decides: referenced pegs without confirmation (the gate is under test, not it).
JOIN = EngineConfig(pegs=PegConfig(confirm_s=0))


@dataclass
class Rec:
    offset: int
    value: bytes
    timestamp: int = -1


@dataclass
class FakeFollower:
    """What the gate reads of the refprices follower: the progress others published."""

    until: dict[str, int] = field(default_factory=dict)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tick(sym: str, ts: int, price: float) -> bytes:
    return Tick(sym, sym, None, price, "USD", None, False, ts, "t").to_json()


class Rig:
    """We own partitions 0 and 1; BTC lives on partition 2, owned by another instance."""

    def __init__(self, timeout_ms: int = 30_000) -> None:
        self.engine = Engine(JOIN)
        self.owned = Ownership()
        for p in (0, 1):
            self.owned.add(p, PartitionState(position=0))
        self.pending = PendingTicks()
        self.follower = FakeFollower()
        self.stats = ProcessorStats()
        self.clock = Clock()
        self.gate = RefGate(
            self.engine,
            {"BTC": 2, "ETH": 2},
            self.follower,  # type: ignore[arg-type]
            self.owned,
            self.pending,
            self.stats,
            timeout_ms=timeout_ms,
            clock=self.clock,
        )
        self.next_offset = {0: 0, 1: 0}

    def fetch(self, p: int, ticks: list[tuple[str, int, float]]) -> None:
        recs: list[Any] = []
        for sym, ts, px in ticks:
            recs.append(Rec(self.next_offset[p], tick(sym, ts, px)))
            self.next_offset[p] += 1
        for q, seg in decode_fetch({p: recs}).items():
            self.pending.add(q, seg)

    def step(self, points: list[tuple[str, int, float]] = ()) -> tuple[Cut | None, list[Event]]:  # type: ignore[assignment]
        """One processing step as the Processor runs it: the follower's points, the horizons, the cut."""
        events: list[Event] = []
        if points:
            events += self.engine.observe_reference(*(list(c) for c in zip(*points, strict=True)))
        events += self.gate.release()
        cut = self.gate.cut()
        if cut is not None:
            events += self.engine.process(cut.batch)
            self.gate.points_of(cut)  # notes how far the owned reference partitions got
            self.owned.register(cut.symbols_by_partition)
            for p, pos in cut.positions.items():
                self.owned[p].position = pos
        return cut, events


def btc_history() -> list[tuple[str, int, float]]:
    # live: BTC moves every minute (a price that repeats is a stale reference, docs/pegs.md)
    return [("BTC", T0 - k * MIN, 100_000.0 + k) for k in range(20, 0, -1)]


def test_every_pending_tick_goes_whatever_the_reference_progress() -> None:
    rig = Rig()
    rig.fetch(0, [("WBTC", T0, 96_000.0), *[("SOL", T0 + k * MIN, 150.0) for k in range(60)]])
    rig.fetch(1, [("USDC", T0 + k * MIN, 1.0) for k in range(60)])
    cut, events = rig.step(btc_history())  # BTC known only up to T0 - 1 min (nothing published)
    assert cut is not None and len(cut) == 121  # the whole buffer in one cut: nothing fragmented
    assert cut.positions == {0: 61, 1: 60} and not rig.pending
    assert [e for e in events if e.symbol == "WBTC"] == []  # ... except WBTC, which waits
    assert rig.engine.stats.held == 1
    _, _ = rig.step()
    assert rig.stats.gate_blocked_steps >= 1 and rig.stats.gate_timeouts == 0


def test_a_held_tick_goes_with_the_partitions_checkpoint_not_before_its_offset() -> None:
    """The committed offset passes the WBTC tick: its state (the held tick) is in the checkpoint that
    goes with that offset, so a successor judges it exactly as this instance would have."""
    rig = Rig()
    rig.fetch(0, [("WBTC", T0, 96_000.0), ("SOL", T0 + 2 * WAIT, 150.0)])
    rig.step(btc_history())
    assert rig.owned[0].position == 2 and rig.engine.stats.held == 1
    data = rig.engine.checkpoint(rig.owned[0].symbols)

    successor = Engine(JOIN)
    successor.restore(data)
    assert successor.stats.held == 1
    # BTC's owner publishes a point after T0 and progress past T0 + wait: both judge alike.
    late = (
        ["BTC"] * 21,
        [t for _, t, _ in btc_history()] + [T0 + MIN],
        [p for *_, p in btc_history()] + [100_000.0],
    )
    successor.set_reference_horizons({"BTC": UNKNOWN})
    mine = rig.engine.observe_reference(*late)
    theirs = successor.observe_reference(*late)
    assert [e.to_json() for e in mine] == [e.to_json() for e in theirs]
    assert [e.state for e in mine if e.symbol == "WBTC"] == ["critical"]


def test_a_pegged_tick_goes_once_the_reference_progress_passes_its_wait() -> None:
    rig = Rig()
    rig.fetch(0, [("WBTC", T0, 96_000.0), ("SOL", T0 + 2 * WAIT, 150.0)])
    rig.step(btc_history())
    rig.follower.until["BTC"] = T0 + WAIT  # not yet past ts + wait
    _, events = rig.step()
    assert rig.engine.stats.held == 1 and events == []
    rig.follower.until["BTC"] = T0 + WAIT + 1
    _, events = rig.step()
    assert rig.engine.stats.held == 0 and [e.symbol for e in events] == ["WBTC"]
    assert rig.stats.gate_timeouts == 0


def test_a_reference_that_does_not_move_goes_stale_after_the_timeout_then_caps_again() -> None:
    rig = Rig(timeout_ms=30_000)
    rig.fetch(0, [("WBTC", T0, 96_000.0), ("SOL", T0 + 2 * WAIT, 150.0)])
    rig.step(btc_history())
    rig.step()  # the wait is seen to start (the watermark passed WBTC's ts + wait, BTC's progress did not)
    rig.clock.now = 29.0
    rig.step()
    assert rig.engine.stats.held == 1 and rig.stats.gate_timeouts == 0
    rig.clock.now = 30.0
    _, events = rig.step()
    # Judged with what is known (BTC up to a minute before the tick), the engine's own rule.
    assert rig.engine.stats.held == 0 and rig.stats.gate_timeouts == 1
    assert [e.symbol for e in events] == ["WBTC"]
    # Once BTC's progress moves again it caps again: a new WBTC tick waits for it.
    rig.follower.until["BTC"] = T0 + MIN
    rig.fetch(0, [("WBTC", T0 + 2 * WAIT, 96_000.0), ("SOL", T0 + 4 * WAIT, 150.0)])
    rig.step()
    assert rig.engine.stats.held == 1


def test_progress_of_an_owned_reference_is_what_was_processed_not_fetched() -> None:
    rig = Rig()
    rig.owned.add(2, PartitionState(position=0))
    rig.next_offset[2] = 0
    rig.fetch(2, [("BTC", T0 + k * MIN, 100_000.0) for k in range(5)])
    assert rig.gate.progress("BTC") == T0  # the first unprocessed tick
    rig.step()
    assert rig.gate.progress("BTC") == T0 + 4 * MIN  # all processed: the last one
    assert rig.owned[2].position == 5


def test_a_successor_judges_no_held_tick_before_it_knows_every_references_progress() -> None:
    """A new instance restores held WETH ticks (ETH's partition unread) with the checkpoint's watermark,
    far past their ts + wait. Its first step hands the engine every reference's horizon: none of them may
    release a held tick before all are in. Setting BTC's first once judged every held WETH tick with no
    ETH point at all (``unknown``, ``no_reference``), events a replay never has."""
    eth = [("ETH", T0 + k * 10 * MIN, 3000.0 + k) for k in range(-3, 5)]
    weth = [("WETH", T0 + k * 10 * MIN, 2900.0 + k) for k in range(4)]  # ~330 bps under ETH
    far = ("SOL", T0 + 4 * WAIT, 150.0)
    replay = Engine(JOIN)
    snapshots = sorted([*eth, *weth], key=lambda t: t[1])
    expected = [e.to_json() for e in replay.process(batch([*snapshots, far])) if e.type == "peg"]
    assert expected and replay.stats.held == 0

    rig = Rig()
    rig.fetch(0, [*weth, far])
    rig.step()  # ETH's partition (2) is someone else's and reported nothing: WETH waits
    assert rig.engine.stats.held == len(weth)

    successor = Rig()
    successor.engine.restore(rig.engine.checkpoint(rig.owned[0].symbols))
    _, events = successor.step()
    assert events == [] and successor.engine.stats.held == len(weth)
    # ETH's owner publishes its points and progress: judged as the replay judges them.
    successor.follower.until["ETH"] = eth[-1][1] + 1
    _, events = successor.step(eth)
    assert [e.to_json() for e in events if e.type == "peg"] == expected
    assert successor.engine.stats.held == 0
