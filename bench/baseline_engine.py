"""A straightforward per-tick engine: a deque per symbol, the same rules as ``tickerstream.engine``.

Benchmark baseline only (not product code): it shows what the vectorised engine buys, and since it
follows the same rules tick by tick, ``bench_engine.py`` checks that both emit the same events.
Pegs reuse the engine's ``PegMonitor``, which is per-tick Python in both.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

from tickerstream.engine import EngineConfig, EngineStats, TickBatch
from tickerstream.engine.moves import NEVER, ewma_alpha
from tickerstream.engine.pegs import PegMonitor
from tickerstream.engine.registry import load_registry
from tickerstream.events import Event, Move, PegEvent, event_sort_key


@dataclass(slots=True)
class SymbolState:
    points: deque[tuple[int, float]]
    var: float = 0.0
    n_ret: int = 0
    armed: list[bool] = field(default_factory=list)
    last_fire: list[int] = field(default_factory=list)


class DequeEngine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.cfg = cfg = config or EngineConfig()
        self.alpha = ewma_alpha(cfg.moves.ewma_halflife_ticks)
        self.state: dict[str, SymbolState] = {}
        self.stats = EngineStats()
        self.pegs = PegMonitor(cfg.pegs, load_registry(cfg.pegs), self.stats)
        self.watermark = -1

    def process(self, batch: TickBatch) -> list[Event]:
        m = self.cfg.moves
        nh = len(m.horizons_s)
        out: list[Event] = []
        pegs: list[PegEvent] = []
        for sym, ts, price in zip(batch.symbols, batch.ts.tolist(), batch.price.tolist(), strict=True):
            before = self.watermark
            self.watermark = after = max(self.watermark, ts)
            st = self.state.get(sym)
            if st is None:
                st = self.state[sym] = SymbolState(
                    deque(maxlen=self.cfg.windows.capacity), armed=[True] * nh, last_fire=[NEVER] * nh
                )
            pts = st.points
            if pts and ts <= pts[-1][0]:
                if ts == pts[-1][0]:
                    self.stats.duplicates += 1
                else:
                    self.stats.late += 1
                self.pegs.release_due(after, pegs)
                continue
            z = math.nan
            if pts:
                r = math.log(price / pts[-1][1])
                if st.n_ret >= m.zscore_min_returns:
                    v = st.var / (1.0 - (1.0 - self.alpha) ** st.n_ret)
                    z = r / max(math.sqrt(v), m.sigma_floor)
                st.var = (1.0 - self.alpha) * st.var + self.alpha * r * r
                st.n_ret += 1
            for h, (hs, thr) in enumerate(zip(m.horizons_s, m.threshold_pct, strict=True)):
                target = ts - hs * 1000
                i = bisect.bisect_right(pts, (target, math.inf)) - 1
                change = math.nan
                if i >= 0 and pts[i][0] >= ts - int(hs * 1000 * (1.0 + m.anchor_slack)):
                    from_price = pts[i][1]
                    change = (price / from_price - 1.0) * 100.0
                hit = abs(change) >= thr or abs(z) >= m.zscore_k
                if not math.isnan(change) and hit:
                    if st.armed[h] or ts - st.last_fire[h] >= m.cooldown_for(h) * 1000:
                        st.armed[h] = False
                        st.last_fire[h] = ts
                        out.append(_move(sym, ts, hs, thr, from_price, price, change, z))
                elif not (abs(change) >= thr * m.recede_ratio or abs(z) >= m.zscore_k * m.recede_ratio):
                    st.armed[h] = True
            pts.append((ts, price))
            self.stats.accepted += 1
            if self.pegs.is_relevant(sym):
                pegs += self.pegs.run([sym], [ts], [price], [before], [after], after)
            else:
                self.pegs.release_due(after, pegs)
        out += pegs
        out.sort(key=event_sort_key)
        return out

    def flush(self) -> list[Event]:
        out: list[Event] = list(self.pegs.flush())
        out.sort(key=event_sort_key)
        return out


def _move(sym: str, ts: int, hs: int, thr: float, a: float, p: float, change: float, z: float) -> Move:
    zscore = None if math.isnan(z) else round(z, 3)
    up = change > 0 if abs(change) >= thr or zscore is None else z > 0
    return Move(sym, ts, hs, a, p, round(change, 4), zscore, "up" if up else "down")
