"""The backtest runner: recorded ticks through the engine, events out, a summary for people.

Replay is deterministic: it runs on event time only, so the same inputs and config give
byte-identical events, whether run once or a hundred times, fast or paced.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, Protocol

import numpy as np

from tickerstream.engine import Engine, EngineConfig, TickBatch
from tickerstream.events import Event
from tickerstream.replay.summary import ReplaySummary


def paced(
    batches: Iterator[TickBatch], speed: float, sleep: Callable[[float], None] = time.sleep
) -> Iterator[TickBatch]:
    """Release batches so event time advances ``speed`` times faster than wall time.

    Batches are cut at each distinct ts so a paced replay delivers snapshot by snapshot.
    """
    t0_event: int | None = None
    t0_wall = time.monotonic()
    for batch in batches:
        for snap in _split_by_ts(batch):
            ts = int(snap.ts[0])
            if t0_event is None:
                t0_event, t0_wall = ts, time.monotonic()
            due = t0_wall + (ts - t0_event) / 1000 / speed
            delay = due - time.monotonic()
            if delay > 0:
                sleep(delay)
            yield snap


def _split_by_ts(batch: TickBatch) -> Iterator[TickBatch]:
    if not len(batch):
        return
    cuts = np.flatnonzero(np.diff(batch.ts)) + 1
    bounds = [0, *cuts.tolist(), len(batch)]
    for lo, hi in itertools.pairwise(bounds):
        yield batch.slice(lo, hi)


class ReplayObserver(Protocol):
    """Anything that wants to see the ticks and events of a replay (the summary, the HTML report)."""

    def add_batch(self, batch: TickBatch) -> None: ...

    def add_events(self, events: Sequence[Event]) -> None: ...


def run_replay(
    batches: Iterator[TickBatch],
    config: EngineConfig,
    out: BinaryIO,
    summary: ReplaySummary | None = None,
    on_batch: Callable[[], None] | None = None,
    observers: Sequence[ReplayObserver] = (),
) -> ReplaySummary:
    """Drive the engine over ``batches`` and write events as JSON Lines to ``out``."""
    engine = Engine(config)
    summary = summary if summary is not None else ReplaySummary()
    watchers: list[ReplayObserver] = [summary, *observers]
    for batch in batches:
        for w in watchers:
            w.add_batch(batch)
        _emit(engine.process(batch), out, watchers)
        if on_batch is not None:
            on_batch()
    _emit(engine.flush(), out, watchers)
    return summary


def _emit(events: list[Event], out: BinaryIO, watchers: Sequence[ReplayObserver]) -> None:
    if events:
        out.write(b"".join(e.to_json() + b"\n" for e in events))
        for w in watchers:
            w.add_events(events)
