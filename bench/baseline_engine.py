"""A straightforward per-tick engine: deques per series, the same rules as ``tickerstream.engine``.

Benchmark baseline only (not product code): it shows what the vectorised engine buys, and since it
follows the same rules tick by tick, ``bench_engine.py`` and ``bench_replay.py`` check that both
emit the same events, byte for byte (so it is also an independent reading of the rules, written
from docs/moves.md and the engine's module docs). Each tick is taken in stream order: find its
series, drop it if late or a duplicate, then if a scale jump, then quantum, volatility (a lone
print among its points is left out once the next point shows it), the as-of anchor per horizon,
the move state machine (re-armed by a receding tick ``rearm_after`` of the horizon after the
latest trigger), the 24 h change check, the rings, and the peg monitor.

Transcendental functions go through numpy (``_f``) so both round alike. Pegs reuse the engine's
``PegMonitor``, which is per-tick Python in both; this file decides, like the engine, which series
and which ticks it sees.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from tickerstream.engine import EngineConfig, EngineStats, TickBatch
from tickerstream.engine.lone import is_lone, pair_span_ms
from tickerstream.engine.moves import GAP_GROWTH_CAP, NEVER, deepen_at
from tickerstream.engine.pegs import PegMonitor
from tickerstream.engine.pegstore import UNJUDGEABLE
from tickerstream.engine.quality import (
    BASE_WINDOW_MS,
    CONFIRM,
    DAY_MS,
    GAP_SIGMAS,
    PAGE_ROUNDING_PP,
    SOURCE_PP,
    SOURCE_REL,
)
from tickerstream.engine.quanta import MIN_ESTIMATED_DECIMALS, UNROUNDED, price_decimals
from tickerstream.engine.registry import load_coin_pins, load_registry
from tickerstream.engine.scale import CONFIRM as CONFIRM_SCALE
from tickerstream.engine.scale import CONFIRM_MS, FACTOR, SETTLE_MS, SHIFT_TOL
from tickerstream.engine.spike import HOLD_AGAIN_AFTER, RECENT
from tickerstream.engine.windows import MIN_DECAY, MIN_SHOWN_SHARE
from tickerstream.events import Event, Move, MoveKind, PegEvent, Quality, Trigger, event_sort_key

NAN = math.nan
INF = math.inf

#: A ring point: (ts, price, variance rate known once its price was, its own quantum or NaN).
Point = tuple[int, float, float, float]
#: (symbol, coin id, quote currency): what a series is.
Key = tuple[str, str | None, str | None]
_ts_of = itemgetter(0)


def _f(fn: np.ufunc, *x: float) -> float:
    """A numpy ufunc on scalars, as one-element arrays: the engine's loops round like this."""
    return float(fn(*(np.array([v]) for v in x))[0])


def _max(a: float, b: float) -> float:
    """``np.maximum``: NaN wins (Python's ``max`` depends on the argument order)."""
    return a if a >= b or a != a else b


def _div(a: float, b: float) -> float:
    """``a / b`` as numpy divides: by zero gives +-inf or NaN instead of raising."""
    if b == 0.0:
        return NAN if a == 0.0 or a != a else math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def _same_scale(a: float, b: float) -> bool:
    """Is ``a`` within ``CONFIRM`` (2) times of ``b`` (NaN: no)?"""
    return 1.0 / CONFIRM_SCALE <= _div(a, b) <= CONFIRM_SCALE


def _point_quantum(q: float) -> float:
    """A ring point keeps its tick's quantum rounded up to a power of ten (``quantum_exponents``:
    0.05 -> 0.1, allowing float noise of 1e-9); unknown or zero -> NaN (the tick's own quantum
    then stands in for it)."""
    if not 0.0 < q < 1e127:
        return NAN
    e = min(max(-127, math.floor(math.log10(q)) - 1), 127)
    while e < 127 and 10.0**e * (1.0 + 1e-9) < q:
        e += 1
    return 10.0**e


@dataclass(slots=True)
class Series:
    """One (symbol, coin id, quote) series: its rings, volatility, move and 24 h check state."""

    symbol: str
    coin: str | None
    quote: str | None
    rings: list[deque[Point]]
    last_ts: int = -1
    last_px: float = NAN  # price of the last taken tick
    held_px: float = NAN  # price of the latest tick dropped as a scale jump (NaN: none, or confirmed)
    held_ts: int = -1  # ... its ts
    left_px: float = NAN  # the last taken price before the latest confirmed scale jump
    prior: float = NAN  # a USD peg's target: the price taken as before its first page (NaN: none)
    decimals: int = -1  # most decimals a price without a quantum needed so far
    first_ts: int = -1
    var: float = 0.0  # EWMA of r^2 / dt, not debiased
    var_prev: float = 0.0  # ... before the return into the last point (should it be a lone print)
    var_raw: float = 0.0  # the same without the rounding correction (a bound from below)
    var_raw_prev: float = 0.0
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RECENT))  # newest last
    spike_ts: int = -1  # the latest page held for the next one (engine/spike.py; -1: none)
    n_ret: int = 0
    armed: list[bool] = field(default_factory=list)  # per move horizon
    last_trig: list[int] = field(default_factory=list)  # ts of the latest triggering tick, per horizon
    last_fire: list[int] = field(default_factory=list)
    last_change: list[float] = field(default_factory=list)  # signed change of the latest event
    mismatch: bool = False  # the page's 24 h change disagrees (confirmed)
    streak: int = 0  # consecutive disagreeing checks
    peg: bool = False  # the one series of its symbol the peg monitor judges (or takes as reference)
    reference: bool = False
    shared: bool = False  # one of two coins under an unpinned pegged ticker: pages it cannot judge


class DequeEngine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.cfg = cfg = config or EngineConfig()
        m = cfg.moves
        self.ring_h = sorted({cfg.windows.horizon_s, *(m.horizons_s if m.enabled else ())})
        cap = cfg.windows.capacity
        self.bucket = [max(1, math.ceil(h * 1000 * (1.0 + m.anchor_slack) / (cap - 2))) for h in self.ring_h]
        self.hl_ms = m.ewma_halflife_s * 1000.0
        # The sigma floor as a variance rate, spelled as each engine module does (same rounding).
        self.floor_rate = (m.sigma_floor_daily * m.sigma_floor_daily) / 86_400.0
        self.day_floor_rate = m.sigma_floor_daily**2 / 86_400.0
        #: Per move horizon (ms): (threshold as a fraction, agreement, longest pair span in ms) of
        #: its lone-print test.
        self.lone = {
            h * 1000: (thr / 100.0, m.recede_ratio, pair_span_ms(h * 1000))
            for h, thr in zip(m.horizons_s, m.threshold_pct, strict=True)
            if m.enabled
        }
        #: The volatility leaves out lone prints at the smallest threshold (enabled or not).
        self.vol_lone = (min(m.threshold_pct) / 100.0, m.recede_ratio)
        self.by_symbol: dict[str, list[Series]] = {}
        self.n_series = 0
        self.stats = EngineStats()
        registry = load_registry(cfg.pegs) if cfg.pegs.enabled else {}
        self.pegs = PegMonitor(cfg.pegs, registry, self.stats)
        self.pins = load_coin_pins(cfg.pegs) if cfg.pegs.enabled else {}
        self.unjudged: set[str] = set()  # pegged/reference symbols with several candidate series
        self.coarse: set[Key] = set()
        self.watermark = -1
        #: Per tick of the last ``process`` call: a point of the series a peg takes as reference.
        self.last_reference_mask: list[bool] = []

    # --- series --------------------------------------------------------------------------------

    def _series_for(self, symbol: str, coin: str | None, quote: str | None) -> Series | str:
        """The tick's series, created or claimed as needed; "ambiguous" for a tick without a coin
        id on a ticker several coins share in its quote (whose price is it? never guessed), and
        "over_limit" when a new series would pass ``windows.max_series``."""
        rows = self.by_symbol.get(symbol, [])
        same_quote = [s for s in rows if s.quote == quote]
        if coin is None:
            if len(same_quote) == 1:
                return same_quote[0]
            if same_quote:
                return "ambiguous"
        else:
            for s in same_quote:
                if s.coin == coin:
                    return s
            if len(same_quote) == 1 and same_quote[0].coin is None:
                # The id-less series was this coin all along: it is claimed, and pegs re-decide.
                same_quote[0].coin = coin
                self._peg_series(symbol)
                return same_quote[0]
        if self.n_series >= self.cfg.windows.max_series:
            return "over_limit"
        nh = len(self.cfg.moves.horizons_s)
        s = Series(
            symbol,
            coin,
            quote,
            [deque(maxlen=self.cfg.windows.capacity) for _ in self.ring_h],
            armed=[True] * nh,
            last_trig=[NEVER] * nh,
            last_fire=[NEVER] * nh,
            last_change=[NAN] * nh,
        )
        self.by_symbol.setdefault(symbol, []).append(s)
        self.n_series += 1
        self.stats.symbols = self.n_series
        self._peg_series(symbol)
        return s

    def _peg_series(self, symbol: str) -> None:
        """Pegs compare like with like: the monitor judges the one USD-quoted (or unquoted) series
        of the coin pegs.toml pins for the symbol (any coin when it pins none); with two candidates
        it judges none (never a guess), and their pages are pages it cannot judge."""
        rows = self.by_symbol[symbol]
        for s in rows:
            s.peg = s.reference = s.shared = False
            s.prior = NAN
        if not self.pegs.is_relevant(symbol):
            return
        pin = self.pins.get(symbol)
        cands = [s for s in rows if s.quote in (None, "USD") and (pin is None or s.coin in (None, pin))]
        if len(cands) == 1:
            cands[0].peg = True
            cands[0].reference = symbol in self.pegs.by_ref
            spec = self.pegs.specs.get(symbol)
            if spec is not None and spec.peg == "USD":
                cands[0].prior = spec.ratio
            self.unjudged.discard(symbol)
        elif len(cands) > 1:
            self.unjudged.add(symbol)
            for s in cands:
                s.shared = symbol in self.pegs.specs
        self.stats.peg_ambiguous = len(self.unjudged)

    # --- ticks ---------------------------------------------------------------------------------

    def process(self, batch: TickBatch) -> list[Event]:
        n = len(batch)
        self.stats.ticks += n
        out: list[Event] = []
        pegs: list[PegEvent] = []
        quotes: list[str | None] = list(batch.currency) if batch.currency is not None else [None] * n
        coins = batch.coin_ids or [None] * n
        checked = batch.change is not None and batch.change_signed is not None
        change = batch.change.tolist() if batch.change is not None else [NAN] * n
        signed = batch.change_signed.tolist() if batch.change_signed is not None else [False] * n
        self.last_reference_mask = [False] * n
        for i, (sym, ts, price, tq, quote, coin) in enumerate(
            zip(
                batch.symbols,
                batch.ts.tolist(),
                batch.price.tolist(),
                batch.quantum.tolist(),
                quotes,
                coins,
                strict=True,
            )
        ):
            before = self.watermark
            s = self._series_for(sym, coin, quote)
            if isinstance(s, str):
                # Dropped before any series sees it, and it does not move the watermark; a pegged
                # symbol's ambiguous page still counts with its peg as one it could not judge.
                if s == "over_limit":
                    self.stats.series_limit += 1
                    continue
                self.stats.ambiguous_series += 1
                if sym in self.pegs.specs and quote in (None, "USD"):
                    pegs += self.pegs.run([sym], [ts], [price], [UNJUDGEABLE], [before], [before], before)
                continue
            self.watermark = after = max(before, ts)
            self.last_reference_mask[i] = s.reference
            if ts <= s.last_ts:  # the first tick at a ts wins; an older one would rewrite the past
                if ts == s.last_ts:
                    self.stats.duplicates += 1
                else:
                    self.stats.late += 1
                self.pegs.release_due(after, pegs)
                continue
            # A scale jump (8x or an eighth of the last taken tick; before one is taken, of a USD
            # peg's target, else none) is dropped, and is then nothing, not even a last price,
            # unless the latest dropped tick confirms its scale: within 2x of it and at most an
            # hour older, and (for a jump back to the scale left at the latest confirmed jump)
            # right before it, no taken tick between; a jump up by a power of ten (a decimal
            # shift) only when no tick was taken for 30 minutes; a USD peg at 8x its target never.
            last = s.last_px if s.last_px > 0 else s.prior
            r = price / last if last > 0 else NAN
            if r >= FACTOR or r <= 1.0 / FACTOR:
                held = s.held_px
                shift = FACTOR <= r < INF and abs(math.log10(r) - round(math.log10(r))) <= math.log10(
                    SHIFT_TOL
                )
                if (
                    not price >= FACTOR * s.prior  # a USD peg at 8x its target: never
                    and held == held
                    and ts - s.held_ts <= CONFIRM_MS
                    and _same_scale(price, held)
                    and (s.held_ts > s.last_ts or not _same_scale(price, s.left_px))
                    and not (shift and (ts - s.last_ts < SETTLE_MS or not s.held_ts > s.last_ts))
                ):
                    s.left_px = last
                    s.held_px = NAN
                else:
                    s.held_px, s.held_ts = price, ts
                    self.stats.scale_jumps += 1
                    self.last_reference_mask[i] = False
                    self.pegs.release_due(after, pegs)
                    continue
            self.stats.accepted += 1
            out += self._tick(s, ts, price, tq, change[i] if checked else None, signed[i])
            if s.peg:  # the peg monitor gets the quantum the page showed (NaN: unknown)
                pegs += self.pegs.run([sym], [ts], [price], [tq], [before], [after], after)
            elif s.shared:
                pegs += self.pegs.run([sym], [ts], [price], [UNJUDGEABLE], [before], [after], after)
            else:
                self.pegs.release_due(after, pegs)
        out += pegs
        out.sort(key=event_sort_key)
        return out

    def _tick(
        self, s: Series, ts: int, price: float, tq: float, page: float | None, signed: bool
    ) -> list[Event]:
        cfg = self.cfg
        m = cfg.moves
        out: list[Event] = []
        # The quantum: the page's, else the finest any of the series' prices needed so far.
        if math.isnan(tq):
            d = max(int(price_decimals(np.array([price]))[0]), MIN_ESTIMATED_DECIMALS)
            s.decimals = max(s.decimals, d)
            q = 0.0 if s.decimals >= UNROUNDED else _f(np.power, 10.0, -float(s.decimals))
        else:
            q = tq
        # Each ring keeps the first tick of each of its time buckets.
        kept = [ts // b != s.last_ts // b for b in self.bucket]
        if s.first_ts < 0:
            s.first_ts = ts
        long = s.rings[-1]
        # Volatility before this tick (for warm-up and the 24 h check's drift) ...
        n_before = s.n_ret
        rate_before = self._vol(s, long[-1][0])[0] if n_before > 0 else NAN
        # ... and with its own return, if it is a point of the estimator: a move measured from this
        # tick later is judged by the volatility known once its price is.
        if kept[-1] and long:
            p_ts, p_px = long[-1][0], long[-1][1]
            var0, raw0 = s.var, s.var_raw
            if self._lone_last(long, price):
                # The last point was a lone print: from now on it is as if it had never been, so
                # this return is from the point before it, one step from the variance before it.
                p_ts, p_px = long[-2][0], long[-2][1]
                var0, raw0 = s.var_prev, s.var_raw_prev
                s.n_ret -= 1
            r = _f(np.log, _div(price, p_px))
            q_rel = _div(q, price)
            sq = r * r - q_rel * q_rel / 6.0  # rounding noise of both ends, taken off
            dt_ms = float(ts - p_ts)
            decay = max(_f(np.power, 0.5, dt_ms / self.hl_ms), MIN_DECAY)
            s.var_prev, s.var_raw_prev = var0, raw0
            s.var = decay * var0 + _div((1.0 - decay) * sq, dt_ms / 1000.0)
            s.var_raw = decay * raw0 + _div((1.0 - decay) * (r * r), dt_ms / 1000.0)
            s.n_ret += 1
        elif kept[-1]:
            s.var_prev, s.var_raw_prev = s.var, s.var_raw
        own_rate, weight = self._vol(s, ts if kept[-1] else long[-1][0]) if s.n_ret > 0 else (NAN, 0.0)
        # Only an estimate on a half-life of history and enough returns may judge a later move.
        v_anchor = own_rate if s.n_ret >= m.zscore_min_returns and weight >= 0.5 else NAN

        anchors: dict[int, Point | None] = {}

        def anchor(h_ms: int) -> Point | None:
            """The as-of point at ts - h (one search per horizon, shared by moves and the 24 h check)."""
            if h_ms not in anchors:
                ring = s.rings[self.ring_h.index(h_ms // 1000)]
                anchors[h_ms] = self._asof(ring, ts - h_ms, price, self.lone.get(h_ms))
            return anchors[h_ms]

        if m.enabled and m.horizons_s:
            held = self._held(s, ts, price)
            for h, (hs, thr) in enumerate(zip(m.horizons_s, m.threshold_pct, strict=True)):
                a = anchor(hs * 1000)
                ev = None if held else self._move(s, h, hs, thr, ts, price, q, n_before, a, s.last_ts)
                if ev is not None:
                    out.append(ev)
                    self.stats.moves += 1
            # A quantum at least the smallest threshold: counted once per series, no event (the
            # rounding-aware change already keeps its rounding from firing).
            if _div(q, price) * 100.0 >= min(m.threshold_pct):
                self.coarse.add((s.symbol, s.coin, s.quote))
                self.stats.coarse_quantum = len(self.coarse)
        if page is not None and DAY_MS // 1000 in self.ring_h:
            day_ring = s.rings[self.ring_h.index(DAY_MS // 1000)]
            later = self._asof(day_ring, ts - DAY_MS + BASE_WINDOW_MS)
            earlier = self._asof(day_ring, ts - DAY_MS - BASE_WINDOW_MS)
            if earlier is not None and earlier[0] < ts - DAY_MS - 2 * BASE_WINDOW_MS:
                earlier = None  # a price from before a gap is no candle's open
            bases = (earlier, later)
            ev2 = self._check_change(s, ts, price, q, page, signed, anchor(DAY_MS), bases, rate_before)
            if ev2 is not None:
                out.append(ev2)
                self.stats.quality += 1
        qpt = _point_quantum(tq)  # the page's own quantum; an estimate is not stored
        for ring, k in zip(s.rings, kept, strict=True):
            if k:
                if len(ring) == ring.maxlen and ring is long:
                    self.stats.evicted += 1
                ring.append((ts, price, v_anchor, qpt))
        s.last_ts = ts
        s.last_px = price
        return out

    def _lone_last(self, long: deque[Point], price: float) -> bool:
        """Is the estimator's last point a lone print, now that its next point (``price``) is here?
        Far from the new point (the lower of the two, by the smallest threshold), a lone print between
        its neighbours, and the point before it is not one itself (of two in a row, the first)."""
        x, agree = self.vol_lone
        n = len(long)
        p1 = long[-1][1]
        if not abs(price - p1) >= min(price, p1) * x or n < 2:
            return False
        # numpy scalars: a zero neighbour divides to inf or NaN (no), as in the engine.
        c, k = np.float64(price), np.float64(p1)
        k1, k2 = np.float64(long[-2][1]), np.float64(long[-3][1] if n >= 3 else NAN)
        with np.errstate(invalid="ignore", divide="ignore"):
            return bool(is_lone(k1, k, c, x, agree)) and not bool(is_lone(k2, k1, k, x, agree))

    def _vol(self, s: Series, t_last: int) -> tuple[float, float]:
        """(variance rate, EWMA weight) with the estimator's latest point at ``t_last``: the EWMA
        started at zero, so it is debiased by its total weight (0.5 after one half-life). Rounding
        noise taken off is bounded: never below a fifth of the returns as shown (nor below zero:
        no volatility seen, the floors apply)."""
        weight = 1.0 - _f(np.power, 0.5, (t_last - s.first_ts) / self.hl_ms)
        return max(max(s.var, s.var_raw * MIN_SHOWN_SHARE) / weight, 0.0), weight

    @staticmethod
    def _asof(
        ring: deque[Point], target: int, price: float = NAN, lone: tuple[float, float, int] | None = None
    ) -> Point | None:
        """The latest point at or before ``target`` among those the ring holds before this tick.
        ``lone``: (threshold, agreement, longest pair span) of a move horizon: an anchor far off
        both its neighbours, which agree with each other, is a lone print and the point before it
        stands in (lone.py); so is an anchor of a lone pair (two points in a row each far off the
        points around them, which agree and are at most the span apart), for which the point
        before the pair stands in. Only anchors the tick's price is not back near are looked at."""
        j = bisect.bisect_right(ring, target, key=_ts_of) - 1
        if j < 0:
            return None
        pt = ring[j]
        if lone is not None:
            x, agree, pair_ms = lone
            p = pt[1]
            if abs(price - p) >= p * (x * agree):

                def px(k: int) -> float:
                    return ring[k][1] if 0 <= k < len(ring) else NAN

                def beyond(b: float, a: float, *ps: float) -> bool:
                    """Each of ``ps`` at least x beyond both b and a on one side; b, a agree."""
                    up = all(q >= b * (1.0 + x) and q >= a * (1.0 + x) for q in ps)
                    down = all(q <= b * (1.0 - x) and q <= a * (1.0 - x) for q in ps)
                    return (up or down) and abs(_div(a, b) - 1.0) < x * agree

                before, after = px(j - 1), px(j + 1)
                far_before, far_after = abs(p - before) >= before * x, abs(p - after) >= after * x
                if far_before and far_after and beyond(before, after, p):
                    return ring[j - 1]
                # a pair: the anchor is its second point, or its first (the points around it at
                # most pair_ms apart)
                if (
                    far_after
                    and not far_before
                    and beyond(px(j - 2), after, before, p)
                    and ring[j + 1][0] - ring[j - 2][0] <= pair_ms
                ):
                    return ring[j - 2]
                if (
                    far_before
                    and not far_after
                    and beyond(before, px(j + 2), p, after)
                    and ring[j + 2][0] - ring[j - 1][0] <= pair_ms
                ):
                    return ring[j - 1]
        return pt

    def _held(self, s: Series, ts: int, price: float) -> bool:
        """Whether this page waits for the next one: off the page before it (at most spike_hold_s
        earlier) and off each of the RECENT latest pages by the smallest threshold, and no page of
        the series was held in the last HOLD_AGAIN_AFTER x spike_hold_s. Its change is then
        undefined: it neither triggers nor recedes."""
        m = self.cfg.moves
        far = min(m.threshold_pct) / 100.0
        pages = list(s.recent)
        s.recent.append((ts, price))
        if m.spike_hold_s <= 0 or not pages or ts - pages[-1][0] > m.spike_hold_s * 1000:
            return False
        if not all(abs(price - p) >= min(price, p) * far for _, p in pages):
            return False
        if s.spike_ts >= 0 and ts - s.spike_ts <= HOLD_AGAIN_AFTER * m.spike_hold_s * 1000:
            return False
        s.spike_ts = ts
        return True

    def _move(
        self,
        s: Series,
        h: int,
        hs: int,
        thr: float,
        ts: int,
        price: float,
        q: float,
        n_before: int,
        a: Point | None,
        prev_ts: int,
    ) -> Move | None:
        """One (series, horizon) at one tick: measures, then the armed / deepened / reminder rules.
        ``prev_ts``: the series' previous tick (-1: none)."""
        m = self.cfg.moves
        window = int(hs * 1000 * (1.0 + m.anchor_slack))
        # The first tick after a gap longer than the anchor window: measured from the last point
        # before it (however long ago), by its z and the threshold grown to the span (thr x
        # sqrt(span / h)), and a new episode.
        across = a is not None and prev_ts >= 0 and ts - prev_ts > window
        if a is not None and a[0] < ts - window and not across:
            # Later ticks after such a gap: measured from the first point back (after ts - h).
            # A first page back far off the point before the gap and this tick, which agree, is a
            # lone print: the page after it stands in.
            ring = s.rings[self.ring_h.index(hs)]
            k = bisect.bisect_right(ring, ts - hs * 1000, key=_ts_of)
            lone = self.lone.get(hs * 1000)
            if lone is not None and 0 < k < len(ring):
                with np.errstate(invalid="ignore", divide="ignore"):
                    k += bool(is_lone(np.float64(a[1]), np.float64(ring[k][1]), np.float64(price), *lone[:2]))
            a = ring[k] if 0 < k < len(ring) else None
        if a is None or not a[1] > 0:
            return None  # undefined change (no anchor, or a zero price): neither triggers nor recedes
        a_ts, a_px, a_var, a_q = a
        # The regime at the anchor, before the move began; none known there (warm-up): no z (the
        # current estimate would count the move's own returns).
        rate = _max(a_var, self.floor_rate)
        # The smallest change both shown prices allow, each within half its own quantum.
        half = q * 0.5
        a_half = half if math.isnan(a_q) else a_q * 0.5
        sign = 1.0 if price >= a_px else -1.0
        ratio = _div(price - half * sign, _max(a_px + a_half * sign, 0.0)) - 1.0
        least = _max(ratio * sign, 0.0) * sign * 100.0
        sigma = _max(math.sqrt(rate * max((ts - a_ts) / 1000.0, hs * 1.0)), q / price)
        absc = abs(least)
        # Below this bound |z| < zscore_k * recede_ratio for sure, so z decides nothing and is never
        # reported: the engine skips the logarithm there (z reads 0), and so does this.
        z_reach = 1.12 / 100.0 / (m.zscore_k * m.recede_ratio)
        z = 0.0
        if absc >= min(thr, 10.0) or absc * z_reach >= sigma:
            z = _f(np.log1p, least / 100.0) / sigma
        if n_before < m.zscore_min_returns:
            z = NAN
        absz = abs(z)
        span = min(max(((ts - a_ts) / 1000.0) / (hs * 1.0), 1.0), GAP_GROWTH_CAP**2)
        c_hit = absc >= (thr * math.sqrt(span) if across else thr)
        z_hit = absz >= m.zscore_k
        if not (c_hit or z_hit):
            # Re-armed by a receding tick only ``rearm_after`` of the horizon after the latest
            # triggering tick (pages lagging the move between triggering ones are not its end).
            low = absc < thr * m.recede_ratio and not absz >= m.zscore_k * m.recede_ratio
            if low and ts - s.last_trig[h] >= int(hs * 1000 * m.rearm_after):
                s.armed[h] = True  # the move receded
            return None
        s.last_trig[h] = ts  # a trigger, whether it fires or not
        level = s.last_change[h]
        kind: MoveKind
        if s.armed[h] or across or least * level < 0:
            kind = "new"  # armed, across a gap, or a reversal through the trigger: a new episode
        elif c_hit and least * level > 0 and absc >= deepen_at(abs(level), thr):
            kind = "deepened"  # the next multiple of the threshold beyond the latest event
        elif ts - s.last_fire[h] >= m.cooldown_for(h) * 1000:
            kind = "reminder"
        else:
            return None
        s.armed[h] = False
        s.last_fire[h] = ts
        s.last_change[h] = least
        shown = (price / a_px - 1.0) * 100.0
        trig: Trigger = "both" if c_hit and z_hit else ("threshold" if c_hit else "zscore")
        return Move(
            s.symbol, s.coin, s.quote, ts, a_ts, hs, a_px, price, round(shown, 4),
            None if math.isnan(z) else round(z, 3), None if math.isnan(sigma) else round(sigma * 100.0, 4),
            q, trig, "up" if shown > 0 else "down", kind,
        )  # fmt: skip

    def _check_change(
        self,
        s: Series,
        ts: int,
        price: float,
        q: float,
        page: float,
        signed: bool,
        day: Point | None,
        bases: tuple[Point | None, Point | None],
        var_rate: float,
    ) -> Quality | None:
        """The page's 24 h change against the series' own day (engine/quality.py)."""
        slack = int(DAY_MS * (1.0 + self.cfg.moves.anchor_slack))
        if not math.isfinite(page) or day is None or day[0] < ts - slack:
            return None
        d_ts, d_px, _, d_q = day
        earlier_pt, later_pt = bases  # the as-of points an hour before and after a day back
        earlier_px, earlier_q = (NAN, NAN) if earlier_pt is None else (earlier_pt[1], earlier_pt[3])
        later_px, later_q = (NAN, NAN) if later_pt is None else (later_pt[1], later_pt[3])
        base_q = float(np.fmax(np.fmax(np.fmax(d_q, later_q), earlier_q), q))  # the coarsest of them
        var_rate = _max(var_rate, self.day_floor_rate)
        half = q * 0.5
        base_half = base_q * 0.5
        candidates = [x for x in (earlier_px, d_px, later_px) if math.isfinite(x)]
        base_lo, base_hi = min(candidates), max(candidates)
        lo = (_div(price - half, base_hi + base_half) - 1.0) * 100.0
        below = base_lo - base_half
        hi = ((price + half) / below - 1.0) * 100.0 if below > 0 else INF
        gap_s = max((ts - DAY_MS) - d_ts, 0) / 1000.0
        mag = abs(page)
        drift = GAP_SIGMAS * math.sqrt(var_rate * gap_s) * 100.0  # NaN without a return yet
        w = PAGE_ROUNDING_PP + SOURCE_PP + SOURCE_REL * mag + (drift if math.isfinite(drift) else 0.0)

        def inside(x: float, width: float) -> bool:
            return x >= lo - width and x <= hi + width

        plus, minus = inside(mag, w), inside(-mag, w)
        agree = inside(page, w) if signed else plus or minus
        close = inside(page, w / 2) if signed else inside(mag, w / 2) or inside(-mag, w / 2)
        st = self.stats
        st.change_checks += 1
        st.change_disagree += not agree
        st.sign_recovered += (not signed) and plus != minus and mag > w
        if close:
            s.streak = 0
            bad = False  # agrees: decisive
        elif agree:
            return None  # between w/2 and w: neither
        else:
            s.streak += 1
            if s.streak < CONFIRM:
                return None  # one odd page is not a broken feed
            bad = True
        if bad == s.mismatch:
            return None
        s.mismatch = bad
        st.change_mismatch += 1 if bad else -1
        return Quality(
            symbol=s.symbol,
            coin_id=s.coin,
            currency=s.quote,
            ts=ts,
            kind="change_mismatch" if bad else "change_agrees",
            page_change_pct=page,
            page_sign_known=signed,
            engine_change_pct=round((price / d_px - 1.0) * 100.0, 4),
            engine_low_pct=round(lo, 4),
            engine_high_pct=round(hi, 4) if math.isfinite(hi) else None,
            tolerance_pp=round(w, 4),
            from_ts=d_ts,
        )

    def flush(self) -> list[Event]:
        out: list[Event] = list(self.pegs.flush())
        out.sort(key=event_sort_key)
        return out
