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
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

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

    def sigma(self, upto: int, model: RefModel) -> float:
        """Volatility per sqrt(second) from the points up to index ``upto`` (inclusive)."""
        lo = max(0, upto - model.vol_points)
        if upto - lo < MIN_VOL_RETURNS:
            return model.vol_prior
        ssq = 0.0
        for i in range(lo + 1, upto + 1):
            r = math.log(self.price[i] / self.price[i - 1])
            ssq += r * r
        elapsed = (self.ts[upto] - self.ts[lo]) / 1000.0
        return max(model.vol_floor, math.sqrt(ssq / elapsed)) if elapsed > 0 else model.vol_prior

    def band(self, ts: int, model: RefModel) -> RefBand | None:
        """The reference at ``ts`` as an interval, or None without a point within ``max_age_ms``.

        A point stands for its price as of ``since`` (when that price was first shown), not as of
        its own ts: a repeat says the source is alive, not that the price is current. So the
        interval widens with the time since the price last changed, and a price unchanged for
        longer than ``max_age_ms`` gives an infinitely uncertain band (stale, not missing)."""
        j = bisect.bisect_right(self.ts, ts)  # self.ts[j - 1] <= ts < self.ts[j]
        before = j - 1 if j > 0 and ts - self.ts[j - 1] <= model.max_age_ms else None
        after = (
            j if j < len(self.ts) and self.ts[j] - ts <= min(model.max_age_ms, model.max_after_ms) else None
        )
        if after is not None and self.since[after] <= ts:
            # The first point after ts repeats the price shown at or before ts: no news of ts. Its
            # run stands for ts (the point before it when kept; when trimming dropped the run's
            # start, the point itself: same price, same ``since``).
            before, after = max(j - 1, 0), None
        if before is None and after is None:
            return None
        if before is not None:
            changed = self.since[before]
            if ts - changed > model.max_age_ms:
                p = self.price[before]
                return RefBand(p, p, p, (ts - changed) / 1000.0, math.inf)
            if changed == ts:
                p = self.price[before]
                return RefBand(p, p, p, 0.0, 0.0)
            # Volatility from the points up to the change: the repeats after it are no observations.
            first = bisect.bisect_left(self.ts, changed, 0, before + 1)
            sigma = self.sigma(first, model)
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
            spread = self.sigma(after, model) * math.sqrt(age)
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
