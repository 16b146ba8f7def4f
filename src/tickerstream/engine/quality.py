"""Data quality from the source's own 24 h change: recover its sign, and say when it disagrees.

Seed-style pages show each coin's 24 h change, often as a bare magnitude (``change_sign_known``
false). Once the engine holds a day of a series' history it knows that change too, so it can

- recover the sign of an unsigned page change (counted: ``sign_recovered``), and
- tell when the page and the history disagree: a page row mapped to the wrong coin, a stale
  scrape, or a source whose "24 h" means something else. Such a tick is still used (its price is
  what the page showed); the disagreement is reported, not guessed away.

Per accepted tick with a page change and an as-of point a day back (the 24 h ring, within
``moves.anchor_slack``): the engine's change over the day is an interval ``[lo, hi]`` (every true
price within half a quantum of both shown prices), widened by ``w``:

- the page's display rounding of a percentage (0.005 pp);
- the source's base: the engine's anchor is its last point at or before a day back; a source may
  take the first price after it, or the open of the hourly candle holding a day back (up to an
  hour before it). So the as-of prices an hour before a day back, at it and an hour after it are
  all possible bases: the interval spans them (the bundled sample's pages use the first snapshot
  after a day back);
- 4 sigma of price drift over the gap between the anchor's ts and exactly a day back;
- the source's own definition: sites compute "24 h" from their own aggregated prices and clocks,
  so even with an anchor seconds from a day back the bundled sample's page changes differ from
  the pages' own prices by 0.09 pp at the median and 0.5 pp at p95. Allowed: 0.5 pp + 10 % of
  the change.

A signed page change agrees when it lies in ``[lo - w, hi + w]``; an unsigned one when ``+m`` or
``-m`` does, and its sign is recovered when exactly one does (and ``m > w``).

A series enters ``mismatch`` after ``CONFIRM`` consecutive disagreeing checks (one jump between
the anchor and a day back, or one odd page, is not a broken feed) and leaves it on a check that
agrees within ``w / 2`` (hysteresis: a page on the border does not flap). Each transition is a
``Quality`` event (``change_mismatch``, ``change_agrees``): one bad mapping is one event, not one
per tick. State per series: ``mismatch`` (bool) and the current run of disagreeing checks, both in
the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tickerstream.engine.grouping import NO_TS, Grouped
from tickerstream.engine.stats import EngineStats
from tickerstream.events import Quality

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

DAY_MS = 86_400_000
#: Half a unit of the last decimal a page shows a percentage with (``1.23%``).
PAGE_ROUNDING_PP = 0.005
#: Sigmas of price drift allowed over the gap between the anchor and exactly a day back.
GAP_SIGMAS = 4.0
#: How far a source's own "24 h change" may differ from the change of its own shown prices.
SOURCE_PP, SOURCE_REL = 0.5, 0.10
#: Consecutive disagreeing checks before a series is reported as mismatching.
CONFIRM = 3
#: How long after exactly a day back a source's base price may be taken (see the module doc).
BASE_WINDOW_MS = 3_600_000
#: Verdict of a tick: agrees within w/2, disagrees beyond w, or in between (no change of state).
AGREES, DISAGREES, NEUTRAL = 0, 1, -1


@dataclass(frozen=True, slots=True)
class DayAnchor:
    """Per accepted tick: the as-of point a day back (NO_TS: none usable), the as-of prices an hour
    before and after that (``earlier``, ``later``; NaN: none: the ends of the possible bases) and
    the current variance rate."""

    ts: I64
    price: F64
    earlier: F64
    later: F64
    #: Quantum to allow for at the base prices (the coarsest of theirs and the tick's).
    quantum: F64
    var_rate: F64


class ChangeCheck:
    def __init__(self, rows: int = 0) -> None:
        self.mismatch = np.zeros(rows, dtype=bool)
        self.streak = np.zeros(rows, dtype=np.int64)  # consecutive disagreeing checks so far

    def grow(self, rows: int) -> None:
        old = self.mismatch.shape[0]
        if rows > old:
            self.mismatch = np.concatenate([self.mismatch, np.zeros(rows - old, dtype=bool)])
            self.streak = np.concatenate([self.streak, np.zeros(rows - old, dtype=np.int64)])

    def reset(self, rows: I64) -> None:
        self.mismatch[rows] = False
        self.streak[rows] = 0

    def check(
        self,
        g: Grouped,
        q: F64,
        change: F64,
        signed: B,
        day: DayAnchor,
        series: tuple[list[str], list[str | None], list[str | None]],
        stats: EngineStats,
    ) -> list[Quality]:
        """Judge every accepted tick of ``g`` that has a page change (``change``/``signed`` in
        ``g``'s order); update the per-series state; return the transitions as events."""
        page = change
        usable = np.isfinite(page) & (day.ts != NO_TS)
        if not usable.any():
            return []
        with np.errstate(invalid="ignore", divide="ignore"):
            half = q * 0.5
            base_half = day.quantum * 0.5
            base_lo = np.fmin(np.fmin(day.price, day.earlier), day.later)  # fmin: NaN is "none"
            base_hi = np.fmax(np.fmax(day.price, day.earlier), day.later)
            lo = ((g.price - half) / (base_hi + base_half) - 1.0) * 100.0
            below = base_lo - base_half
            hi = np.where(below > 0, ((g.price + half) / below - 1.0) * 100.0, np.inf)
            gap_s = np.maximum((g.ts - DAY_MS) - day.ts, 0) / 1000.0
            mag = np.abs(page)
            drift = GAP_SIGMAS * np.sqrt(day.var_rate * gap_s) * 100.0
            w = PAGE_ROUNDING_PP + SOURCE_PP + SOURCE_REL * mag + np.where(np.isfinite(drift), drift, 0.0)

            def inside(x: F64, width: F64) -> B:
                return (x >= lo - width) & (x <= hi + width)

            as_signed = inside(page, w)
            plus, minus = inside(mag, w), inside(-mag, w)
            agree = np.where(signed, as_signed, plus | minus)
            close = np.where(signed, inside(page, w / 2), inside(mag, w / 2) | inside(-mag, w / 2))
        agree &= usable
        recovered = usable & ~signed & (plus != minus) & (mag > w)
        stats.change_checks += int(np.count_nonzero(usable))
        stats.change_disagree += int(np.count_nonzero(usable & ~agree))
        stats.sign_recovered += int(np.count_nonzero(recovered))
        verdict = np.where(close, AGREES, np.where(agree, NEUTRAL, DISAGREES))
        verdict[~usable] = NEUTRAL
        events = self._transitions(g, verdict, page, signed, lo, hi, w, day, series)
        stats.change_mismatch = int(np.count_nonzero(self.mismatch))
        return events

    def _transitions(
        self,
        g: Grouped,
        verdict: I64,
        page: F64,
        signed: B,
        lo: F64,
        hi: F64,
        w: F64,
        day: DayAnchor,
        series: tuple[list[str], list[str | None], list[str | None]],
    ) -> list[Quality]:
        """State changes, vectorised. Checks are the ticks with a verdict; a disagreeing check ends a
        run of ``streak`` of them (continuing the series' run from before the batch when no check in
        the batch broke it). Decisive checks set the state: a run reaching ``CONFIRM`` -> mismatch,
        a close agreement -> ok; others leave it. A transition is a decisive check whose state
        differs from the previous decisive one's (or the series' state before the batch)."""
        checks = np.flatnonzero(verdict != NEUTRAL)
        if checks.size == 0:
            return []
        bad = verdict[checks] == DISAGREES
        seg = g.seg_of[checks]
        k = np.arange(checks.size)
        first = np.ones(checks.size, dtype=bool)
        first[1:] = seg[1:] != seg[:-1]
        last = np.ones(checks.size, dtype=bool)
        last[:-1] = seg[1:] != seg[:-1]
        seg_start = np.maximum.accumulate(np.where(first, k, 0))
        last_good = np.maximum.accumulate(np.where(~bad, k, -1))
        carried = last_good < seg_start  # no agreeing check earlier in this segment
        rows_of = g.seg_rows[seg]
        streak = np.where(carried, self.streak[rows_of] + k - seg_start + 1, k - last_good)
        streak[~bad] = 0
        self.streak[rows_of[last]] = streak[last]
        decisive = (bad & (streak >= CONFIRM)) | (verdict[checks] == AGREES)
        at = checks[decisive]
        if at.size == 0:
            return []
        v = bad[decisive]
        seg = seg[decisive]
        prev = np.empty_like(v)
        prev[1:] = v[:-1]
        first = np.ones(at.size, dtype=bool)
        first[1:] = seg[1:] != seg[:-1]
        prev[first] = self.mismatch[g.seg_rows[seg[first]]]
        last = np.ones(at.size, dtype=bool)
        last[:-1] = seg[1:] != seg[:-1]
        self.mismatch[g.seg_rows[seg[last]]] = v[last]
        symbols, coins, quotes = series
        out: list[Quality] = []
        for i, bad in zip(at[v != prev].tolist(), v[v != prev].tolist(), strict=True):
            row = int(g.rows[i])
            engine = (float(g.price[i]) / float(day.price[i]) - 1.0) * 100.0
            out.append(
                Quality(
                    symbol=symbols[row],
                    coin_id=coins[row],
                    currency=quotes[row],
                    ts=int(g.ts[i]),
                    kind="change_mismatch" if bad else "change_agrees",
                    page_change_pct=float(page[i]),
                    page_sign_known=bool(signed[i]),
                    engine_change_pct=round(engine, 4),
                    engine_low_pct=round(float(lo[i]), 4),
                    engine_high_pct=round(float(hi[i]), 4) if np.isfinite(hi[i]) else None,
                    tolerance_pp=round(float(w[i]), 4),
                    from_ts=int(day.ts[i]),
                )
            )
        return out
