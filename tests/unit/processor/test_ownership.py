"""Which partition owns which symbol (``processor.ownership``), and forgetting a revoked partition's state."""

from __future__ import annotations

from tickerstream.engine import Engine, TickBatch
from tickerstream.processor.ownership import Ownership, PartitionState


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
