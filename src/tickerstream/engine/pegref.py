"""Reference prices of referenced pegs (BTC for WBTC) and how far a judgement against them can be trusted.

A pegged tick at ``ts`` is judged against the reference's price *at* ``ts``, which we rarely observe
exactly: scraped pages come minutes apart and a reference may go missing. What we know is the
reference's nearest points before and after ``ts`` (within ``ref_max_age_s``) and its recent
volatility. From those, :meth:`RefHistory.band` gives an interval that holds the reference price at
``ts`` with high probability:

- the hull of the points used (both when the reference ticked on each side of ``ts``: a reference
  that moved 5 % between two points could have been anywhere in between when the pegged tick was
  scraped), widened by
- ``ref_z`` sigmas of a random walk over the time to the nearest point: ``sigma * sqrt(age)`` with
  one point, the Brownian-bridge ``sigma * sqrt(a * b / (a + b))`` between two.

``sigma`` (per sqrt second) comes from the reference's own last ``ref_vol_points`` points as of
``ts`` (sum of squared log returns over elapsed time), floored at ``ref_vol_floor_daily_pct`` and
replaced by ``ref_vol_prior_daily_pct`` while there are too few returns. So the age a reference
may have scales with its volatility: a calm BTC stays usable for many minutes, a crashing one for
seconds. A band whose half-width exceeds the asset's tolerance (``ref_uncertainty_ratio`` x its warn
level) is no sound basis for a judgement: the tick is not judged and, if that lasts, the peg goes
``unknown`` rather than raising a false alarm or a false all-clear. Within the tolerance the
decision uses the smallest deviation consistent with the band, so reference noise cannot alarm.

A point's age is counted from when its *price* was first shown, not from its own ts: a source
repeating one price (a stale cache) still ticks, but tells nothing about where the price is now.
So the band widens with the time since the last change, and a price unchanged for more than
``ref_max_age_s`` is stale outright (docs/pegs.md, "A reference's age").

A lone print (a point ``ref_lone_pct`` off both neighbours, which agree: a misparsed page) is no
reference point and not in the volatility (:meth:`RefHistory.lone`); a tick whose nearest point
on either side is one is not judged (a true one-page spike looks the same). Only the point after it
tells, so a judgement at ``ts`` sees the points up to the first at or after ``ts`` and, when that one
jumped, the next (both within the wait: :meth:`RefHistory.view_end`); the monitor releases a tick
once they are known (:meth:`RefHistory.settled`) or its wait ended, so replay and Kafka judge alike.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from tickerstream.engine.lone import is_lone

#: A lone reference print's neighbours agree within this fraction of ``ref_lone_pct`` (the move
#: detector's default ``recede_ratio``, which its lone-print rule uses the same way).
REF_LONE_AGREE = 0.5
#: Returns needed before the reference's own volatility replaces the prior.
MIN_VOL_RETURNS = 4
_DAY_S = 86_400.0


@dataclass(slots=True)  # not frozen: one per referenced pegged tick (a frozen __init__ costs 2-3x)
class RefBand:
    """Where the reference price at a tick's ts lies: ``[lo, hi]``, whose half-width in bps is
    ``uncertainty_bps``; the as-of ``price`` reported (the point before ts, else the one after),
    and ``age_s``, the event time to the nearest point used."""

    lo: float
    hi: float
    price: float
    age_s: float
    uncertainty_bps: float


@dataclass(frozen=True, slots=True)
class RefModel:
    """The settings :meth:`RefHistory.band` needs (from ``PegConfig``)."""

    max_age_ms: int
    #: A point after ts is used only within this (``ref_max_wait_s``): what a pegged tick waits
    #: for is also all it may see, so replay and Kafka judge with the same points.
    max_after_ms: int
    z: float
    vol_points: int
    vol_floor: float  # per sqrt(second)
    vol_prior: float  # per sqrt(second)
    #: A point this far (a fraction) off both neighbours, which agree within ``lone_x * lone_agree``,
    #: is a lone print (``ref_lone_pct``; the move detector's rule, engine/lone.py).
    lone_x: float = 0.05
    lone_agree: float = REF_LONE_AGREE

    @staticmethod
    def daily_pct_to_per_sqrt_s(pct: float) -> float:
        return pct / 100.0 / math.sqrt(_DAY_S)


@dataclass(slots=True)
class RefHistory:
    """Recent (ts, price) of one reference symbol, ts strictly increasing, and per point ``since``:
    the ts of the first point of its run of equal prices (when the price last changed)."""

    ts: list[int]
    price: list[float]
    since: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.since) != len(self.ts):
            self.since = runs_since(self.ts, self.price)

    def add(self, ts: int, price: float, keep: int) -> bool:
        if self.ts and ts <= self.ts[-1]:
            return False
        self.since.append(self.since[-1] if self.price and price == self.price[-1] else ts)
        self.ts.append(ts)
        self.price.append(price)
        if len(self.ts) > 2 * keep:  # trim in steps so appends stay O(1) amortised
            del self.ts[:-keep]
            del self.price[:-keep]
            del self.since[:-keep]
        return True

    @property
    def last_ts(self) -> int:
        return self.ts[-1] if self.ts else -1

    def lone(self, k: int, end: int, model: RefModel) -> bool:
        """Whether point ``k`` is a lone print as seen from points ``0..end`` (those a judgement may
        use, :meth:`view_end`): far off both neighbours, which agree (``lone.is_lone`` at
        ``model.lone_x``), and neither neighbour is itself such a point. ``end`` (its next point is
        not known) is taken as it is. In an alternation (two sources out of step: a fresh page, a
        stale one, a fresh one...) no point is lone: which side is right is not known, so the
        alternation stays in the hull and the volatility; when the point after next is not in view,
        the point is taken as lone."""
        if not 0 < k < end:
            return False
        p, x, agree = self.price, model.lone_x, model.lone_agree
        if not is_lone(p[k - 1], p[k], p[k + 1], x, agree):
            return False
        if k >= 2 and is_lone(p[k - 2], p[k - 1], p[k], x, agree):
            return False
        return k + 2 > end or not is_lone(p[k], p[k + 1], p[k + 2], x, agree)

    def _far(self, k: int, model: RefModel) -> bool:
        """Point ``k`` is far enough off the one before it to be a lone print."""
        return k > 0 and abs(self.price[k] / self.price[k - 1] - 1.0) >= model.lone_x

    def view_end(self, ts: int, model: RefModel) -> int:
        """The last point a judgement at ``ts`` may use (-1: none). The first point at or after
        ``ts`` within the wait (``max_after_ms``), else the last before ``ts``; and when that first
        point is far off the one before it (it may be a lone print, which only its next point can
        tell), also its next point if within the wait. A pegged tick is judged once these points
        are known (:meth:`settled`), never with a later one, so replay and Kafka judge alike."""
        j = bisect.bisect_left(self.ts, ts)
        n = len(self.ts)
        if j == n or self.ts[j] - ts > model.max_after_ms:
            return j - 1
        if j + 1 < n and self.ts[j + 1] - ts <= model.max_after_ms and self._far(j, model):
            return j + 1
        return j

    def settled(self, ts: int, model: RefModel) -> bool:
        """Whether every point :meth:`view_end` may reach for ``ts`` is known (points arrive in ts
        order); otherwise a tick at ``ts`` waits for the next point or the end of its wait."""
        n = len(self.ts)
        if not n or self.ts[-1] < ts:
            return False
        if not self._far(n - 1, model):
            return True  # the first point at or after ts is the last (no jump) or has a next one
        j = bisect.bisect_left(self.ts, ts)
        return self.ts[j] - ts > model.max_after_ms or j + 1 < n

    def sigma(self, upto: int, model: RefModel, end: int | None = None) -> float:
        """Volatility per sqrt(second) from the points up to index ``upto`` (inclusive), lone prints
        (as seen from points ``0..end``; default ``upto``) left out: the return across one counts
        once, from the point before it to the point after."""
        end = upto if end is None else end
        lo = max(0, upto - model.vol_points)
        p = self.price
        first = lo + 1 if lo > 0 and self._far(lo, model) and self.lone(lo, end, model) else lo
        # Only a point far off the one before it can be lone: the rule is tested on those alone.
        up, down = math.log1p(model.lone_x), math.log1p(-model.lone_x)
        ssq, n, prev = 0.0, 0, first
        for i in range(first + 1, upto + 1):
            r = math.log(p[i] / p[prev])
            if (r >= up or r <= down) and self.lone(i, end, model):
                continue  # the next return is measured across it
            ssq += r * r
            n += 1
            prev = i
        if n < MIN_VOL_RETURNS:
            return model.vol_prior
        elapsed = (self.ts[prev] - self.ts[first]) / 1000.0
        return max(model.vol_floor, math.sqrt(ssq / elapsed)) if elapsed > 0 else model.vol_prior

    def band(self, ts: int, model: RefModel) -> RefBand | None:
        """The reference at ``ts`` as an interval, or None without a point within ``max_age_ms``.

        A point stands for its price as of ``since`` (when that price was first shown), not as of
        its own ts: a repeat says the source is alive, not that the price is current. So the
        interval widens with the time since the price last changed, and a price unchanged for
        longer than ``max_age_ms`` gives an infinitely uncertain band (stale, not missing)."""
        end = self.view_end(ts, model)
        if end < 0:
            return None
        j = bisect.bisect_right(self.ts, ts, 0, end + 1)  # self.ts[j - 1] <= ts < self.ts[j]
        # A lone print is no reference point, but it is the nearest point on one side of ts: where
        # the reference stood at ts is not known (a real one-page spike that pegged ticks tracked
        # is, on the reference alone, a misparse). The points beyond it stand in for the reported
        # price and age, and the band is infinitely uncertain: the tick is not judged. Two lone
        # prints are never adjacent.
        i = j - 1
        beside_lone = False
        if i > 0 and self._far(i, model) and self.lone(i, end, model):
            i -= 1
            beside_lone = True
        before = i if i >= 0 and ts - self.ts[i] <= model.max_age_ms else None
        m = j
        if m < end and self._far(m, model) and self.lone(m, end, model):
            m += 1
            beside_lone = True
        after = m if m <= end and self.ts[m] - ts <= model.max_age_ms else None
        if beside_lone and (before is not None or after is not None):
            at = before if before is not None else after
            assert at is not None
            p = self.price[at]
            beyond = (ts - self.since[at] if at == before else self.ts[at] - ts) / 1000.0
            return RefBand(p, p, p, beyond, math.inf)
        if after is not None and self.since[after] <= ts:
            # The first point after ts repeats the price shown at or before ts: no news of ts. Its
            # run stands for ts (the point before it when kept; when trimming dropped the run's
            # start, the point itself: same price, same ``since``).
            before, after = max(m - 1, 0), None
        if before is None and after is None:
            return None
        if before is not None:
            changed = self.since[before]
            # Volatility from the points up to the change: the repeats after it are no observations.
            first = bisect.bisect_left(self.ts, changed, 0, before + 1)
            if first > 1 and self.price[first - 2] == self.price[before] and self.lone(first - 1, end, model):
                # A lone print inside a run of one price does not end it.
                changed = self.since[first - 2]
                first = bisect.bisect_left(self.ts, changed, 0, before + 1)
            if ts - changed > model.max_age_ms:
                p = self.price[before]
                return RefBand(p, p, p, (ts - changed) / 1000.0, math.inf)
            if changed == ts:
                p = self.price[before]
                return RefBand(p, p, p, 0.0, 0.0)
            sigma = self.sigma(first, model, end)
        if before is not None and after is not None:
            a = (ts - changed) / 1000.0
            b = (self.ts[after] - ts) / 1000.0
            pts = (self.price[before], self.price[after])
            spread = sigma * math.sqrt(a * b / (a + b))
            price, age = self.price[before], min(a, b)
        elif before is not None:
            age = (ts - changed) / 1000.0
            pts = (self.price[before], self.price[before])
            spread = sigma * math.sqrt(age)
            price = self.price[before]
        else:
            assert after is not None
            age = (self.ts[after] - ts) / 1000.0
            pts = (self.price[after], self.price[after])
            spread = self.sigma(after, model, end) * math.sqrt(age)
            price = self.price[after]
        k = model.z * spread
        lo, hi = min(pts) * math.exp(-k), max(pts) * math.exp(k)
        return RefBand(lo, hi, price, age, math.log(hi / lo) / 2 * 1e4)

    def changed_before(self, ts: int) -> tuple[float | None, float | None]:
        """The newest point at or before ``ts``, however old: its price and the time from when that
        price was first shown to ``ts`` (seconds); (None, None) without one."""
        i = bisect.bisect_right(self.ts, ts) - 1
        return (None, None) if i < 0 else (self.price[i], (ts - self.since[i]) / 1000.0)


def runs_since(ts: list[int], price: list[float], first: int | None = None) -> list[int]:
    """Per point, the ts of the first point of its run of equal prices; ``first`` is the first
    point's own (its run may have begun before the points kept), else its ts."""
    out: list[int] = []
    for i, (t, p) in enumerate(zip(ts, price, strict=True)):
        if i == 0:
            out.append(t if first is None else min(first, t))
        else:
            out.append(out[-1] if p == price[i - 1] else t)
    return out
