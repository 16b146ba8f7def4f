"""Move detection: per (series, horizon), a threshold on the change over the horizon or a z-score of
that change against the series' volatility over the same horizon, fired once per sustained move.

Both measures allow for the display rounding: the change used is the smallest one consistent with
the two shown prices (each within half a quantum of the truth), and sigma over the horizon is never
below the quantum's relative size. ``z = ln(1 + change) / (sigma_per_sqrt_second * sqrt(elapsed))``
with ``elapsed`` the time from the as-of anchor to the tick (within ``h * (1 + anchor_slack)``).

Every accepted tick is evaluated (not just the last of a batch), so the events do not depend on
how the stream is cut into batches. The trigger measures are computed for all ticks at once; only
the ticks that trigger (rare) go through the small per-tick state machine:

- ``armed`` (initially true): a trigger on an armed (series, horizon) fires (``kind="new"``) and
  disarms it;
- while disarmed, the same move is reported again only when it *deepens*: its rounding-aware
  change, in the same direction, reaches the next multiple of the threshold beyond the change of
  its latest event (``kind="deepened"``: a -20 % day on the 10 % threshold is reported at -10 % and
  at -20 %, each with its own z), or when it still triggers one cooldown (``cooldown_s``, by default the
  horizon) after its latest event (``kind="reminder"``);
- a trigger against the direction of the latest event is a new episode (``kind="new"``): the
  reversal is reported when it happens, never as a reminder of the move it reverses;
- it re-arms after a tick whose change is defined and where both measures are below
  ``recede_ratio`` of their trigger levels (the move receded), when that tick comes at least
  ``rearm_after`` of the horizon (a quarter: 15 min for 1 h, 6 h for 24 h) after the latest tick
  that triggered: pages of sources lagging the move (minutes behind, or stale) between live pages
  that still trigger do not end it (one crash, one `new`), while a move that receded for that long
  has ended, however few pages showed it (a second crash hours later is `new`).

State per row and horizon: ``armed`` (1 B), ``last_fire_ts`` (8 B), ``last_change`` (8 B, the
signed change of the latest event), ``anchor_price`` (8 B, for metrics) and ``last_trig_ts`` (8 B,
the latest triggering tick's ts).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tickerstream.engine.config import MoveConfig
from tickerstream.engine.grouping import NO_TS, Grouped
from tickerstream.engine.spike import RECENT, held_pages, latest_pages
from tickerstream.events import Move, MoveKind, Trigger

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Across a gap the threshold grows to at most this multiple of the horizon's: -40 % on a coin back
#: after three weeks away (a relisting) was silent with the growth unbounded (10 % x sqrt 21 =
#: 45.8 %); a price that far from the last one seen is news however long ago that was.
GAP_GROWTH_CAP = 3.0

#: ``last_fire_ts`` of a (row, horizon) that never fired: so far back that any cooldown has passed.
NEVER = -(2**62)


class MoveDetector:
    def __init__(self, config: MoveConfig, rows: int = 0) -> None:
        self.config = config
        self.horizons_ms = [h * 1000 for h in config.horizons_s]
        nh = len(self.horizons_ms)
        self.armed = np.ones((0, nh), dtype=bool)
        self.last_fire_ts = np.full((0, nh), NEVER, dtype=np.int64)
        #: Signed rounding-aware change (%) of the latest event per row and horizon (NaN: none yet).
        self.last_change = np.full((0, nh), np.nan)
        #: As-of price at ``last ts - h`` per row and horizon, from the row's latest tick (metrics).
        self.anchor_price = np.full((0, nh), np.nan)
        #: ts of the row's latest triggering tick per horizon (a receding tick re-arms only when it
        #: comes ``rearm_after`` of the horizon later).
        self.last_trig_ts = np.full((0, nh), NEVER, dtype=np.int64)
        #: Per row and horizon, the threshold of its symbol (``symbol_threshold_pct``; NaN: not
        #: looked up yet). Only kept when the config overrides a symbol's thresholds.
        self.row_threshold = np.full((0, nh), np.nan)
        #: Per row, its latest pages (newest first; NO_TS: none) and the ts of its latest page held for
        #: the next one (``spike.py``; NO_TS: none).
        self.recent_px = np.full((0, RECENT), np.nan)
        self.recent_ts = np.full((0, RECENT), NO_TS, dtype=np.int64)
        self.spike_held_ts = np.zeros(0, dtype=np.int64)
        self.grow(rows)

    def grow(self, rows: int) -> None:
        old = self.armed.shape[0]
        if rows <= old:
            return
        nh = len(self.horizons_ms)
        add = rows - old
        self.armed = np.concatenate([self.armed, np.ones((add, nh), dtype=bool)])
        self.last_fire_ts = np.concatenate([self.last_fire_ts, np.full((add, nh), NEVER, dtype=np.int64)])
        self.last_change = np.concatenate([self.last_change, np.full((add, nh), np.nan)])
        self.anchor_price = np.concatenate([self.anchor_price, np.full((add, nh), np.nan)])
        self.last_trig_ts = np.concatenate([self.last_trig_ts, np.full((add, nh), NEVER, dtype=np.int64)])
        self.row_threshold = np.concatenate([self.row_threshold, np.full((add, nh), np.nan)])
        self.recent_px = np.concatenate([self.recent_px, np.full((add, RECENT), np.nan)])
        self.recent_ts = np.concatenate([self.recent_ts, np.full((add, RECENT), NO_TS, dtype=np.int64)])
        self.spike_held_ts = np.concatenate([self.spike_held_ts, np.full(add, NO_TS, dtype=np.int64)])

    def reset(self, rows: I64) -> None:
        self.armed[rows] = True
        self.last_fire_ts[rows] = NEVER
        self.last_change[rows] = np.nan
        self.anchor_price[rows] = np.nan
        self.last_trig_ts[rows] = NEVER
        self.row_threshold[rows] = np.nan  # a reused row may hold another symbol
        self.recent_px[rows] = np.nan
        self.recent_ts[rows] = NO_TS
        self.spike_held_ts[rows] = NO_TS

    def _thresholds(self, g: Grouped, names: list[str]) -> F64 | None:
        """Per segment of ``g`` and horizon, its symbol's thresholds; None when no symbol has its
        own (then each horizon's ``threshold_pct`` applies to every tick)."""
        own = self.config.symbol_threshold_pct
        if not own:
            return None
        rows = g.seg_rows
        missing = rows[np.isnan(self.row_threshold[rows, 0])]
        for row in missing.tolist():
            self.row_threshold[row] = own.get(names[row].upper(), self.config.threshold_pct)
        out: F64 = self.row_threshold[rows]
        return out

    def _held(self, g: Grouped, gap_ms: I64, seg_thr: F64 | None) -> B | None:
        """Per tick, whether it waits for the next page (``spike.py``; None: none does), far being
        its symbol's smallest threshold; the rows' latest pages are kept for the next batch."""
        cfg = self.config
        if cfg.spike_hold_s <= 0:
            return None
        if seg_thr is None:
            far = np.full(g.seg_rows.size, min(cfg.threshold_pct) / 100.0)
        else:
            far = np.min(seg_thr, axis=1) / 100.0
        hold_ms = cfg.spike_hold_s * 1000
        held = held_pages(g, gap_ms, self.recent_px, self.recent_ts, self.spike_held_ts, far, hold_ms)
        latest_pages(g, self.recent_px, self.recent_ts)
        return held if held.any() else None

    def detect(
        self,
        g: Grouped,
        q: F64,
        n_before: I64,
        anchors: list[tuple[I64, F64, F64, F64]],
        last_ts: I64,
        names: list[str],
        coins: list[str | None],
        quotes: list[str | None],
        repeats: B | None = None,
    ) -> list[Move]:
        """Evaluate every accepted tick of ``g`` for every horizon; update state; return the moves.

        ``q`` is each tick's price quantum, ``n_before`` the returns its series had before it,
        ``anchors[h]`` the as-of (ts, price, variance rate, quantum) at ``ts - horizon`` per tick,
        ``last_ts[row]`` each series' last tick before the batch, ``names[row]``, ``coins[row]``
        and ``quotes[row]`` the series' symbol, coin id and quote. A page far off the series'
        latest pages at fast cadence waits for the next page (``spike.py``). A tick that ``repeats``
        a lone print (a stale mirror's row again) neither triggers nor recedes.
        z uses the variance rate at the anchor, its own return counted (the volatility known before
        the move began, so a slide does not dilute its own z); none is known there during warm-up,
        and then no z.
        """
        cfg = self.config
        out: list[Move] = []
        seg_start = g.per_tick(g.starts)
        last = g.ends - 1
        half = q * 0.5
        warm = n_before >= cfg.zscore_min_returns
        floor_rate = (cfg.sigma_floor_daily * cfg.sigma_floor_daily) / 86_400.0
        with np.errstate(invalid="ignore", divide="ignore"):
            q_rel = q / g.price
        z_reach = 1.12 / 100.0 / (cfg.zscore_k * cfg.recede_ratio)  # |change in %| x this >= sigma
        # Each tick's previous tick in its series: a tick after a gap longer than a horizon's
        # anchor window is measured across the gap (below).
        # (A series' first tick has none: gap 0.) One maximum decides for every horizon whether any
        # tick needs that test at all (rarely: gaps are few).
        prev_ts = np.empty(len(g), dtype=np.int64)
        prev_ts[1:] = g.ts[:-1]
        before = last_ts[g.seg_rows]
        prev_ts[g.starts] = np.where(before == NO_TS, g.ts[g.starts], before)
        gap_ms = g.ts - prev_ts
        widest_gap = int(gap_ms.max())
        seg_thr = self._thresholds(g, names)
        held = self._held(g, gap_ms, seg_thr)
        if repeats is not None:
            held = repeats if held is None else held | repeats
        for h, (h_ms, base_thr) in enumerate(zip(self.horizons_ms, cfg.threshold_pct, strict=True)):
            a_ts, a_px, a_var, a_q = anchors[h]
            # Each tick's threshold: the horizon's, or its symbol's own (an array then).
            thr: float | F64 = base_thr if seg_thr is None else g.per_tick(seg_thr[:, h])
            with np.errstate(invalid="ignore"):
                # The variance rate known at the anchor, the regime before the move began; NaN (so
                # no z) when the series was still warming up there: the current estimate would count
                # the move's own returns, and a crash would read as a calm day.
                rate = np.maximum(a_var, floor_rate)
            window_ms = int(h_ms * (1.0 + cfg.anchor_slack))
            # A zero price (a misparse) is no anchor: no change can be measured from it.
            anchored = (a_ts != NO_TS) & (a_px > 0)
            usable = anchored & (a_ts >= g.ts - window_ms)
            # The first tick after a gap in the series longer than the anchor window has no anchor
            # within it: measured from the last point before the gap instead (``from_ts`` shows
            # the span), however long ago, and judged by its z over that span and by the horizon's
            # threshold grown to the span (below; it is calibrated for the horizon, not for hours
            # of gap): "-8 % since last seen 2 h ago" is news when the pages come back, not hours
            # later, and so is "-40 % since last seen 3 days ago" (a relisting, a migration).
            across = None
            if widest_gap > window_ms:
                across = (gap_ms > window_ms) & anchored
                usable |= across
            with np.errstate(invalid="ignore", divide="ignore"):
                # The smallest change consistent with both shown prices (each within q/2 of the
                # truth): a change that could be pure rounding is no change at all.
                # +1 rising, -1 falling: multiplying by it is exact and, unlike np.where on a
                # condition that flips tick to tick, costs no branch mispredictions. (A change the
                # rounding absorbs may come out as -0.0 instead of 0.0: only its absolute value
                # is ever read, and a zero change never fires.)
                sign = (g.price >= a_px) * 2.0 - 1.0
                # Each price with its own quantum: the anchor's may be coarser (the seed widget
                # shows $1.08 in cents, $0.97 with six decimals); unknown -> the tick's.
                a_half = a_q * 0.5
                np.copyto(a_half, half, where=np.isnan(a_half))
                ratio = (g.price - half * sign) / np.maximum(a_px + a_half * sign, 0.0) - 1.0
                least = np.maximum(ratio * sign, 0.0) * sign * 100.0
                if not usable.all():
                    least[~usable] = np.nan
                # z over the horizon: log change over sigma * sqrt(elapsed), sigma per sqrt(second)
                # (floored), and never below the quantum's relative size. Elapsed is at least the
                # horizon: measured from the first page back after a gap (seconds before the tick),
                # two sites' few bps of basis read as a z 10 hour; such a change is judged as a
                # change over the horizon, like any other.
                elapsed_s = np.maximum((g.ts - a_ts) / 1000.0, h_ms / 1000.0)
                sigma = np.maximum(np.sqrt(rate * elapsed_s), q_rel)
                absc = np.abs(least)
                # |ln(1 + c)| <= 1.12 |c| while |c| <= 10 %: below that bound's reach of a z-score
                # test (``zscore_k * recede_ratio``, the lower one) and of the threshold, the exact z
                # decides nothing and is never reported, so the logarithm (a third of this loop's
                # cost) runs only for the few ticks near a test; the others read as 0.
                need = np.flatnonzero((absc >= np.minimum(thr, 10.0)) | (absc * z_reach >= sigma))
                z = np.zeros(len(g))
                z[need] = np.log1p(least[need] / 100.0) / sigma[need]
                if not warm.all():
                    z[~warm] = np.nan
                if held is not None:
                    # A held page's change is undefined until the next page: it neither triggers
                    # nor recedes.
                    z[held] = np.nan
                    absc[held] = np.nan
                absz = np.abs(z)
                # NaN (no usable anchor, warm-up) compares false: neither triggers nor recedes.
                if across is None:
                    c_hit = absc >= thr
                else:
                    # Across a gap the horizon's threshold is grown to the span as a random walk's
                    # typical change grows, thr * sqrt(span / h): -40 % after 5 days away is news
                    # on 24 h (over 22.4 %) whatever the z, +6 % over 5 hours is no 1 h move.
                    grown = thr * np.sqrt(np.clip(elapsed_s / (h_ms / 1000.0), 1.0, GAP_GROWTH_CAP**2))
                    c_hit = absc >= np.where(across, grown, thr)
                z_hit = absz >= cfg.zscore_k
                trig = c_hit | z_hit
                # Receded only when the change is defined and both measures are low: a NaN change
                # (no anchor) says nothing about the move and must not re-arm the detector.
                low = (absc < thr * cfg.recede_ratio) & ~(absz >= cfg.zscore_k * cfg.recede_ratio)
            # ... and only ``rearm_after`` of the horizon after the latest triggering tick: a page of
            # a source lagging behind the move (its change over h still small) between live pages
            # that trigger must not re-arm it (one crash, one `new`). The latest trigger before
            # each tick: in the batch (a low tick never triggers) or, if none in its segment, the
            # row's state.
            prior = g.per_tick(self.last_trig_ts[g.seg_rows, h])
            trig_pos = np.flatnonzero(trig)
            if trig_pos.size:
                # Only the ticks of the (few) segments with a trigger look for one in the batch.
                with_trig = np.zeros(g.seg_rows.size, dtype=bool)
                with_trig[g.seg_of[trig_pos]] = True
                sub = np.flatnonzero(g.per_tick(with_trig))
                k = np.searchsorted(trig_pos, sub, side="left") - 1
                j = trig_pos[np.maximum(k, 0)]
                in_seg = (k >= 0) & (j >= seg_start[sub])
                prior[sub[in_seg]] = g.ts[j[in_seg]]
                k_end = np.searchsorted(trig_pos, last, side="right") - 1
                j_end = trig_pos[np.maximum(k_end, 0)]
                has = (k_end >= 0) & (j_end >= g.starts)
                self.last_trig_ts[g.seg_rows[has], h] = g.ts[j_end[has]]
            recede = low & (g.ts - prior >= int(h_ms * cfg.rearm_after))
            self.anchor_price[g.seg_rows, h] = np.where(usable[last], a_px[last], np.nan)
            # Index of the latest receding tick at or before a tick (-1 if none in the batch), asked
            # only for the candidates and each segment's last tick; values from an earlier segment
            # are < seg_start, so they read as "none in this row".
            receding = np.flatnonzero(recede)
            armed0 = self.armed[g.seg_rows, h]
            recede_last = _latest_at_or_before(receding, last)
            end_armed = armed0 | (recede_last >= g.starts)
            # A sustained move triggers on many ticks; keep only those that could fire: armed
            # before the batch, re-armed by a recede earlier in the batch, past the cooldown of
            # the last pre-batch event, or deeper than it by a threshold. An in-batch event only
            # makes a later one less likely, except that a new event in the batch lowers the level
            # a deepening is measured from: keep every trigger of the (rare) segments that have one.
            cand = np.flatnonzero(trig)
            recede_cand = _latest_at_or_before(receding, cand)
            seg = g.seg_of[cand]
            cooldown_ms = cfg.cooldown_for(h) * 1000
            pre_fire = self.last_fire_ts[g.seg_rows[seg], h]
            pre_change = self.last_change[g.seg_rows[seg], h]
            maybe = armed0[seg] | (recede_cand >= seg_start[cand]) | (g.ts[cand] - pre_fire >= cooldown_ms)
            # A tick measured across a gap is measured from a point after the latest event: no
            # continuation of it can be told, so it opens an episode (`new`, as when armed).
            gap_new = np.zeros(cand.size, dtype=bool) if across is None else across[cand]
            maybe |= gap_new
            cand_thr = np.full(cand.size, thr) if isinstance(thr, float) else thr[cand]
            with np.errstate(invalid="ignore"):
                next_level = deepen_at(np.abs(pre_change), cand_thr)
                deeper = (least[cand] * np.sign(pre_change) >= next_level) & c_hit[cand]
                # A trigger against the direction of the latest event opens a new episode (below);
                # its level then has the other sign, so keep its segment's later triggers too.
                opposite = least[cand] * pre_change < 0
            opens = maybe | opposite
            keep = opens | deeper | np.isin(seg, seg[opens])
            cand = cand[keep]
            cand_thr = cand_thr[keep]
            fired: dict[int, int] = {}  # segment -> index of its latest fired tick
            last_fire: dict[int, int] = {}
            last_change: dict[int, float] = {}
            for i, s, ts, rp, a0, pf, pc, gn, t_i in zip(
                cand.tolist(),
                g.seg_of[cand].tolist(),
                g.ts[cand].tolist(),
                recede_cand[keep].tolist(),
                armed0[g.seg_of[cand]].tolist(),
                pre_fire[keep].tolist(),
                pre_change[keep].tolist(),
                gap_new[keep].tolist(),
                cand_thr.tolist(),
                strict=True,
            ):
                f_pos = fired.get(s)
                armed = (a0 or rp >= g.starts[s]) if f_pos is None else rp > f_pos
                armed |= gn
                c = float(least[i])
                level = last_change.get(s, pc)
                kind: MoveKind
                if armed or c * level < 0:
                    # Armed, or against the direction of the latest event (NaN level: never): a
                    # reversal through the trigger is news now, and a new episode (the old one ended),
                    # never a reminder of a move the other way.
                    kind = "new"
                elif c_hit[i] and c * level > 0 and abs(c) >= deepen_at(abs(level), t_i):
                    kind = "deepened"  # the next multiple of the threshold (NaN level: never)
                elif ts - last_fire.get(s, pf) >= cooldown_ms:
                    kind = "reminder"
                else:
                    continue
                fired[s] = i
                last_fire[s] = ts
                last_change[s] = c
                row = int(g.seg_rows[s])
                self.last_fire_ts[row, h] = ts
                self.last_change[row, h] = c
                px, a = float(g.price[i]), float(a_px[i])
                shown = (px / a - 1.0) * 100.0
                trigger: Trigger = (
                    "both" if c_hit[i] and z_hit[i] else ("threshold" if c_hit[i] else "zscore")
                )
                out.append(
                    Move(
                        symbol=names[row],
                        coin_id=coins[row],
                        currency=quotes[row],
                        ts=ts,
                        from_ts=int(a_ts[i]),
                        horizon_s=cfg.horizons_s[h],
                        from_price=a,
                        to_price=px,
                        change_pct=round(shown, 4),
                        zscore=None if math.isnan(z[i]) else round(float(z[i]), 3),
                        sigma_pct=None if math.isnan(sigma[i]) else round(float(sigma[i]) * 100.0, 4),
                        quantum=float(q[i]),
                        trigger=trigger,
                        direction="up" if shown > 0 else "down",
                        kind=kind,
                    )
                )
            for s, f_pos in fired.items():
                end_armed[s] = recede_last[s] > f_pos
            self.armed[g.seg_rows, h] = end_armed
        return out


def deepen_at(level: F64 | float, thr: F64 | float) -> F64 | float:
    """The |change| at which a move whose latest event was at |change| ``level`` deepens: the next
    multiple of the threshold beyond it, and at least a quarter of a threshold beyond it. A 24 h
    move reported at -19.72 % deepened at -20.17 % a page later, 0.45 points on: the grid's
    artefact, which the desk reads as news (the first event already said "about -20 %"); it now
    deepens at -22.22 % at the earliest. A move reported at -10.6 % still deepens at -20 %."""
    out: F64 | float = np.maximum((np.floor(level / thr) + 1.0) * thr, level + 0.25 * thr)
    return out


def _latest_at_or_before(positions: I64, at: I64) -> I64:
    """Per ``at[i]``: the largest value of the sorted ``positions`` that is <= it, else -1. A binary
    search per query: cheaper than a running maximum over every tick when queries are few."""
    k = np.searchsorted(positions, at, side="right") - 1
    out: I64 = np.where(k >= 0, positions[np.maximum(k, 0)] if positions.size else -1, -1)
    return out
