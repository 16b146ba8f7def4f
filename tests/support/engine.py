"""Engine test helpers: engines from ``key=value`` overrides (the ``make_engine`` fixture), batches
from tuples, and a seeded stream of page snapshots that exercises every kind of event."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson
import pytest

from tickerstream.config import load_settings
from tickerstream.engine import Engine, EngineConfig, TickBatch
from tickerstream.events import PegEvent

T0 = 1_700_000_000_000  # ms; an arbitrary fixed epoch so tests never read the clock
MIN = 60_000
HOUR = 3_600_000

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


def batch(ticks: Iterable[tuple[str, int, float]], quantum: float | None = None) -> TickBatch:
    """A batch of (symbol, ts, price); ``quantum`` for every tick (None: unknown, the engine estimates)."""
    items = list(ticks)
    q = None if quantum is None else [quantum] * len(items)
    return TickBatch.from_arrays(
        [s for s, _, _ in items], [t for _, t, _ in items], [p for _, _, p in items], q
    )


def peg_events_of(e: Engine, ticks: list[tuple[str, int, float]], per_batch: int) -> list[PegEvent]:
    """The peg events of ``ticks`` (shown in cents) fed ``per_batch`` at a time, then flushed."""
    out: list[PegEvent] = []
    for i in range(0, len(ticks), per_batch):
        out.extend(ev for ev in e.process(batch(ticks[i : i + per_batch], 0.01)) if isinstance(ev, PegEvent))
    out.extend(ev for ev in e.flush() if isinstance(ev, PegEvent))
    return out


def config(*overrides: str) -> EngineConfig:
    return load_settings(EngineConfig, None, {}, overrides)


@pytest.fixture
def make_engine() -> Callable[..., Engine]:
    def make(*overrides: str) -> Engine:
        return Engine(config(*overrides))

    return make


def stream(seed: int, n_snapshots: int = 150, misparsed: float = 0.0) -> TickBatch:
    """Page snapshots (shared ts, any order), volatile prices, depegs, late ticks and duplicates;
    with ``misparsed`` > 0, that share of ticks also at a thousandth or 1000x of the price (a scale
    jump), each just before the true page at the same ts or a later one."""
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
            # A misparsed page, then the true one at the same ts or a minute later.
            if misparsed and rng.random() < misparsed:
                syms.append(s)
                ts.append(t - int(rng.integers(0, 2)) * MIN)
                px.append(price * (1e-3 if rng.random() < 0.5 else 1e3))
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


def with_checkpoint_meta(data: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """``data`` (an engine checkpoint) with its JSON metadata changed by ``edit`` in place: how the
    tests write checkpoints as an older (or newer) release would have."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = orjson.loads(arrays["meta"].tobytes())
    edit(meta)
    arrays["meta"] = np.frombuffer(orjson.dumps(meta), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
