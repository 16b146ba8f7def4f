"""Window statistics for a set of symbols, computed on demand over their rings (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.moves import MoveDetector
from tickerstream.engine.rings import Ring, ring_ts_all
from tickerstream.engine.windows import Windows

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Per symbol (same order as ``symbols``) over the points within the window horizon.

    ``logret_std`` is the sample stdev of consecutive log returns (NaN with fewer than 2 returns);
    ``ewma_vol`` the debiased EWMA volatility per sqrt(day) (time-weighted, quantum-shrunk returns);
    ``points`` counts the ring's (time-thinned) points; ``price_at[:, k]`` the as-of price
    at ``last_ts - horizons_s[k]`` as seen by the symbol's latest tick (NaN when unavailable).
    """

    symbols: list[str]
    points: I64
    last_ts: I64
    last: F64
    min: F64
    max: F64
    mean: F64
    logret_std: F64
    ewma_vol: F64
    horizons_s: tuple[int, ...]
    price_at: F64


def window_stats(win: Windows, ring: Ring, det: MoveDetector, rows: I64, names: list[str]) -> WindowStats:
    ts, px, held = win.ordered(ring, rows)
    last_ts = win.last_ts[rows]
    inside = held & (ts >= (last_ts - ring.horizon_ms)[:, None])
    points = inside.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(inside, px, np.inf).min(axis=1, initial=np.inf)
        hi = np.where(inside, px, -np.inf).max(axis=1, initial=-np.inf)
        mean = np.where(inside, px, 0.0).sum(axis=1) / points
        lr = np.log(px[:, 1:] / px[:, :-1])
        pair = inside[:, 1:] & inside[:, :-1]
        k = pair.sum(axis=1)
        m = np.where(pair, lr, 0.0).sum(axis=1) / k
        ss = np.where(pair, (lr - m[:, None]) ** 2, 0.0).sum(axis=1)
        std = np.where(k >= 2, np.sqrt(ss / (k - 1)), np.nan)
        n = win.n_ret[rows]
        span = (ring_ts_all(win.rings[-1], rows) - win.first_ts[rows]).astype(np.float64)
        weight = 1.0 - 0.5 ** (span / win.halflife_ms)
        var = win.floored(win.var[rows], win.var_raw[rows])
        vol = np.where(n > 0, np.sqrt(var / weight * 86_400.0), np.nan)
    empty = points == 0
    lo[empty] = np.nan
    hi[empty] = np.nan
    return WindowStats(
        symbols=names,
        points=points.astype(np.int64),
        last_ts=last_ts.copy(),
        last=win.last_price[rows].copy(),
        min=lo,
        max=hi,
        mean=mean,
        logret_std=std,
        ewma_vol=vol,
        horizons_s=det.config.horizons_s,
        price_at=det.anchor_price[rows].copy(),
    )
