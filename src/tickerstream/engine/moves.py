"""Move detection: per (symbol, horizon), a threshold on the change over the horizon or a z-score
on the latest log return, fired once per sustained move.

Every accepted tick is evaluated (not just the last of a batch), so the events do not depend on
how the stream is cut into batches. The trigger measures are computed for all ticks at once; only
the ticks that trigger (rare) go through the small per-tick state machine:

- ``armed`` (initially true): a trigger on an armed (symbol, horizon) fires and disarms it;
- it re-arms after a tick where both measures are below ``recede_ratio`` of their trigger levels
  (the move receded), or once its cooldown (``cooldown_s``, by default the horizon) has passed
  since it fired (a move that lasts longer than the cooldown is reported again, once per cooldown).

State per row and horizon: ``armed`` (1 B), ``last_fire_ts`` (8 B), ``anchor_price`` (8 B, for metrics).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tickerstream.engine.config import MoveConfig
from tickerstream.engine.windows import NO_TS, Grouped
from tickerstream.events import Move

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: ``last_fire_ts`` of a (row, horizon) that never fired: so far back that any cooldown has passed.
NEVER = -(2**62)


def ewma_alpha(halflife_ticks: float) -> float:
    """Weight of the newest squared return so that older ones halve every ``halflife_ticks`` ticks."""
    return float(1.0 - 0.5 ** (1.0 / halflife_ticks))


class MoveDetector:
    def __init__(self, config: MoveConfig, rows: int = 0) -> None:
        self.config = config
        self.horizons_ms = [h * 1000 for h in config.horizons_s]
        nh = len(self.horizons_ms)
        self.armed = np.ones((0, nh), dtype=bool)
        self.last_fire_ts = np.full((0, nh), NEVER, dtype=np.int64)
        #: As-of price at ``last ts - h`` per row and horizon, from the row's latest tick (metrics).
        self.anchor_price = np.full((0, nh), np.nan)
        self.grow(rows)

    def grow(self, rows: int) -> None:
        old = self.armed.shape[0]
        if rows <= old:
            return
        nh = len(self.horizons_ms)
        add = rows - old
        self.armed = np.concatenate([self.armed, np.ones((add, nh), dtype=bool)])
        self.last_fire_ts = np.concatenate([self.last_fire_ts, np.full((add, nh), NEVER, dtype=np.int64)])
        self.anchor_price = np.concatenate([self.anchor_price, np.full((add, nh), np.nan)])

    def reset(self, rows: I64) -> None:
        self.armed[rows] = True
        self.last_fire_ts[rows] = NEVER
        self.anchor_price[rows] = np.nan

    def zscores(self, ret: F64, var_before: F64, n_before: I64) -> F64:
        """The latest log return in (floored) EWMA sigmas; NaN during warm-up."""
        sigma = np.maximum(np.sqrt(var_before), self.config.sigma_floor)
        z = ret / sigma
        z[n_before < self.config.zscore_min_returns] = np.nan
        return z

    def detect(self, g: Grouped, z: F64, anchors: list[tuple[I64, F64]], names: list[str]) -> list[Move]:
        """Evaluate every accepted tick of ``g`` for every horizon; update state; return the moves.

        ``anchors[h]`` is the as-of (ts, price) at ``ts - horizon`` per tick, ``names[row]`` the symbols.
        """
        cfg = self.config
        out: list[Move] = []
        n = len(g)
        idx = np.arange(n)
        seg_start = g.starts[g.seg_of]
        absz = np.abs(z)
        last = g.ends - 1
        with np.errstate(invalid="ignore"):
            z_hit = absz >= cfg.zscore_k
            z_high = absz >= cfg.zscore_k * cfg.recede_ratio
        for h, (h_ms, thr) in enumerate(zip(self.horizons_ms, cfg.threshold_pct, strict=True)):
            a_ts, a_px = anchors[h]
            usable = (a_ts != NO_TS) & (a_ts >= g.ts - int(h_ms * (1.0 + cfg.anchor_slack)))
            with np.errstate(invalid="ignore"):
                change = np.where(usable, (g.price / a_px - 1.0) * 100.0, np.nan)
                absc = np.abs(change)
                c_hit = absc >= thr
                trig = usable & (c_hit | z_hit)
                recede = ~((absc >= thr * cfg.recede_ratio) | z_high)
            self.anchor_price[g.seg_rows, h] = np.where(usable[last], a_px[last], np.nan)
            # Index of the latest receding tick at or before each tick (-1 if none in the batch);
            # values from an earlier segment are < seg_start, so they read as "none in this row".
            recede_pos = np.maximum.accumulate(np.where(recede, idx, -1))
            armed0 = self.armed[g.seg_rows, h]
            end_armed = armed0 | (recede_pos[last] >= g.starts)
            # A sustained move triggers on many ticks; keep only those that could fire: armed
            # before the batch, re-armed by a recede earlier in the batch, or past the cooldown of
            # the last pre-batch event (an in-batch event only makes firing less likely).
            cand = np.flatnonzero(trig)
            seg = g.seg_of[cand]
            cooldown_ms = cfg.cooldown_for(h) * 1000
            pre_fire = self.last_fire_ts[g.seg_rows[seg], h]
            maybe = (
                armed0[seg] | (recede_pos[cand] >= seg_start[cand]) | (g.ts[cand] - pre_fire >= cooldown_ms)
            )
            cand = cand[maybe]
            fired: dict[int, int] = {}  # segment -> index of its latest fired tick
            last_fire: dict[int, int] = {}
            for i, s, ts, rp, a0, pf in zip(
                cand.tolist(),
                g.seg_of[cand].tolist(),
                g.ts[cand].tolist(),
                recede_pos[cand].tolist(),
                armed0[g.seg_of[cand]].tolist(),
                pre_fire[maybe].tolist(),
                strict=True,
            ):
                f_pos = fired.get(s)
                armed = (a0 or rp >= g.starts[s]) if f_pos is None else rp > f_pos
                if not armed and ts - last_fire.get(s, pf) < cooldown_ms:
                    continue
                fired[s] = i
                last_fire[s] = ts
                row = int(g.seg_rows[s])
                self.last_fire_ts[row, h] = ts
                out.append(self._move(names[row], ts, h, float(a_px[i]), float(g.price[i]), change[i], z[i]))
            for s, f_pos in fired.items():
                end_armed[s] = recede_pos[last[s]] > f_pos
            self.armed[g.seg_rows, h] = end_armed
        return out

    def _move(
        self, symbol: str, ts: int, h: int, from_price: float, to_price: float, change: float, z: float
    ) -> Move:
        change_pct = round(float(change), 4)
        zscore = None if math.isnan(z) else round(float(z), 3)
        # Direction of what triggered: the change over the horizon, else the latest return.
        up = change > 0 if abs(change) >= self.config.threshold_pct[h] or zscore is None else z > 0
        return Move(
            symbol=symbol,
            ts=ts,
            horizon_s=self.config.horizons_s[h],
            from_price=from_price,
            to_price=to_price,
            change_pct=change_pct,
            zscore=zscore,
            direction="up" if up else "down",
        )
