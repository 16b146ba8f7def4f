"""The replay loop (``replay.runner``): pacing in event time."""

from __future__ import annotations

from tickerstream.engine import TickBatch
from tickerstream.replay.runner import paced


def test_paced_waits_in_event_time_over_speed() -> None:
    batch = TickBatch.from_arrays(["A", "B", "A"], [0, 0, 60_000], [1.0, 2.0, 1.1])
    sleeps: list[float] = []
    out = list(paced(iter([batch]), speed=60.0, sleep=sleeps.append))
    assert [len(b) for b in out] == [2, 1]  # cut per snapshot (ts)
    assert len(sleeps) == 1 and 0.9 < sleeps[0] <= 1.0  # 60 s of event time at 60x = 1 s
