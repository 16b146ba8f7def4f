"""A straightforward per-tick engine: deques per symbol, the same rules as ``tickerstream.engine``.

Benchmark baseline only (not product code): it shows what the vectorised engine buys, and since it
follows the same rules tick by tick, ``bench_engine.py`` and ``bench_replay.py`` check that both
emit the same events, byte for byte (so it is also an independent reading of the rules).
Transcendental functions go through numpy so both round alike. Pegs reuse the engine's
``PegMonitor``, which is per-tick Python in both.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from tickerstream.engine import EngineConfig, EngineStats, TickBatch
from tickerstream.engine.moves import NEVER
from tickerstream.engine.pegs import PegMonitor
from tickerstream.engine.quanta import MIN_ESTIMATED_DECIMALS, UNROUNDED, price_decimals
from tickerstream.engine.registry import load_registry
from tickerstream.events import Event, Move, PegEvent, Trigger, event_sort_key

NAN = math.nan


def _f(fn: np.ufunc, *x: float) -> float:
    return float(fn(*(np.array([v]) for v in x))[0])


@dataclass(slots=True)
class SymbolState:
    rings: list[deque[tuple[int, float, float]]]
    quote: str | None = None
    last_ts: int = -1
    decimals: int = -1
    first_ts: int = -1
    var: float = 0.0
    n_ret: int = 0
    armed: list[bool] = field(default_factory=list)
    last_fire: list[int] = field(default_factory=list)


class DequeEngine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.cfg = cfg = config or EngineConfig()
        m = cfg.moves
        self.ring_h = sorted({cfg.windows.horizon_s, *(m.horizons_s if m.enabled else ())})
        cap = cfg.windows.capacity
        self.bucket = [max(1, math.ceil(h * 1000 * (1.0 + m.anchor_slack) / (cap - 2))) for h in self.ring_h]
        self.hl_ms = m.ewma_halflife_s * 1000.0
        self.state: dict[str, SymbolState] = {}
        self.stats = EngineStats()
        self.foreign_quote = 0
        self.pegs = PegMonitor(cfg.pegs, load_registry(cfg.pegs), self.stats)
        self.watermark = -1

    def process(self, batch: TickBatch) -> list[Event]:
        m = self.cfg.moves
        nh = len(m.horizons_s)
        out: list[Event] = []
        pegs: list[PegEvent] = []
        cap = self.cfg.windows.capacity
        quotes = batch.currency or [None] * len(batch)
        for sym, ts, price, tq, cur in zip(
            batch.symbols,
            batch.ts.tolist(),
            batch.price.tolist(),
            batch.quantum.tolist(),
            quotes,
            strict=True,
        ):
            st0 = self.state.get(sym)
            if cur is not None and st0 is not None and st0.quote is not None and cur != st0.quote:
                self.foreign_quote += 1  # another quote currency: never in this series
                continue
            before = self.watermark
            self.watermark = after = max(self.watermark, ts)
            st = self.state.get(sym)
            if st is None:
                rings = [deque(maxlen=cap) for _ in self.ring_h]
                st = self.state[sym] = SymbolState(rings, cur, armed=[True] * nh, last_fire=[NEVER] * nh)
            if st.last_ts >= 0 and ts <= st.last_ts:
                if ts == st.last_ts:
                    self.stats.duplicates += 1
                else:
                    self.stats.late += 1
                self.pegs.release_due(after, pegs)
                continue
            if math.isnan(tq):
                d = max(int(price_decimals(np.array([price]))[0]), MIN_ESTIMATED_DECIMALS)
                st.decimals = max(st.decimals, d)
                q = 0.0 if st.decimals >= UNROUNDED else _f(np.power, 10.0, -float(st.decimals))
            else:
                q = tq
            kept = [ts // b != (st.last_ts // b if st.last_ts >= 0 else -1) for b in self.bucket]
            if st.first_ts < 0:
                st.first_ts = ts
            long = st.rings[-1]
            # volatility before this tick
            t_last = long[-1][0] if long else -1
            if st.n_ret > 0:
                weight = 1.0 - _f(np.power, 0.5, (t_last - st.first_ts) / self.hl_ms)
                v_rate = max(st.var / weight, 0.0)
            else:
                weight, v_rate = 0.0, NAN
            n_before = st.n_ret
            if kept[-1] and long:
                p_ts, p_px, _ = long[-1]
                r = _f(np.log, price / p_px)
                q_rel = q / price
                sq = r * r - q_rel * q_rel / 6.0
                dt_ms = float(ts - p_ts)
                decay = _f(np.power, 0.5, dt_ms / self.hl_ms)
                st.var = decay * st.var + (1.0 - decay) * sq / (dt_ms / 1000.0)
                st.n_ret += 1
            mature = n_before >= m.zscore_min_returns and weight >= 0.5
            v_anchor = v_rate if mature else NAN
            warm = n_before >= m.zscore_min_returns
            floor_rate = (m.sigma_floor_daily * m.sigma_floor_daily) / 86_400.0
            half = q * 0.5
            q_rel = q / price
            for h, (hs, thr) in enumerate(zip(m.horizons_s, m.threshold_pct, strict=True)):
                ring = st.rings[self.ring_h.index(hs)]
                i = bisect.bisect_right(ring, (ts - hs * 1000, math.inf, math.inf)) - 1
                if i < 0 or ring[i][0] < ts - int(hs * 1000 * (1.0 + m.anchor_slack)):
                    continue  # undefined change: no trigger, no recede
                a_ts, a_px, a_var = ring[i]
                shown = (price / a_px - 1.0) * 100.0
                if price >= a_px:
                    least = max((price - half) / (a_px + half) - 1.0, 0.0) * 100.0
                else:
                    lo = max(a_px - half, 0.0)
                    least = (min((price + half) / lo - 1.0, 0.0) if lo > 0 else 0.0) * 100.0
                rate = v_rate if math.isnan(a_var) else a_var
                rate = NAN if math.isnan(rate) else max(rate, floor_rate)
                elapsed = (ts - a_ts) / 1000.0
                sigma = math.sqrt(rate * elapsed)
                sigma = NAN if math.isnan(sigma) else max(sigma, q_rel)
                z = _f(np.log1p, least / 100.0) / sigma if warm else NAN
                c_hit = abs(least) >= thr
                z_hit = abs(z) >= m.zscore_k
                if c_hit or z_hit:
                    if st.armed[h] or ts - st.last_fire[h] >= m.cooldown_for(h) * 1000:
                        st.armed[h] = False
                        st.last_fire[h] = ts
                        trig: Trigger = "both" if c_hit and z_hit else ("threshold" if c_hit else "zscore")
                        out.append(
                            Move(sym, None, st.quote, ts, a_ts, hs, a_px, price, round(shown, 4),
                                 None if math.isnan(z) else round(z, 3), round(sigma * 100.0, 4), q, trig,
                                 "up" if shown > 0 else "down", "new")
                        )  # fmt: skip
                elif abs(least) < thr * m.recede_ratio and not abs(z) >= m.zscore_k * m.recede_ratio:
                    st.armed[h] = True
            for ring, k in zip(st.rings, kept, strict=True):
                if k:
                    ring.append((ts, price, v_anchor))
            st.last_ts = ts
            self.stats.accepted += 1
            if self.pegs.is_relevant(sym):
                pegs += self.pegs.run([sym], [ts], [price], [tq], [before], [after], after)
            else:
                self.pegs.release_due(after, pegs)
        out += pegs
        out.sort(key=event_sort_key)
        return out

    def flush(self) -> list[Event]:
        out: list[Event] = list(self.pegs.flush())
        out.sort(key=event_sort_key)
        return out
