"""Peg monitoring: deviation of pegged assets from their target, as states with episodes.

Pegged symbols are a few dozen among thousands, so this part runs per pegged tick in plain Python,
in stream order; the engine hands it only the ticks of pegged and reference symbols. docs/pegs.md
describes the semantics for users; the pieces:

- **Reference join** (here). A referenced peg (WBTC -> BTC) is judged against where the reference
  stood at the tick's ts. Ticks of one page snapshot share a ts and may arrive in any order or in
  different batches, so a pegged tick is *held* until the reference has been seen at ts' >= its ts
  (and at the point after that one when it jumped: it may be a lone print, ``RefHistory.settled``),
  or until the event-time watermark (the largest ts the engine has processed, advanced tick by tick
  in stream order) passes ``ts + ref_max_wait_s``. Release points are positions in the stream, not
  batch ends, so results do not depend on batching. A caller that feeds the reference from
  elsewhere (the Kafka processor: BTC may live on another instance) also caps the watermark per
  reference (:meth:`PegMonitor.set_horizons`): a held tick then waits until the reference's points
  up to ``ts + ref_max_wait_s`` are known, however far other symbols' ticks have moved the watermark.
  The verdict depends only on those points, so it equals the replay's, just later.
- **Reference quality** (``pegref.py``): the reference at ts as an interval from its nearest points
  and its recent volatility; too wide an interval, or no point within ``ref_max_age_s``, and the
  tick is not judged (counted in ``ref_stale`` / ``released_without_ref``).
- **Judgement** (here): the smallest deviation consistent with the price's rounding (the tick's own
  quantum; ``display_quantum`` for cents from 1 up when it has none) and the reference interval,
  a premium judged as at the peg for a one-sided peg (registry ``side = "below"``); events also
  report the deviation as shown.
- **States, episodes, updates** (``pegstate.py``).
- **Pages it cannot judge**: a pegged symbol's tick without a coin id on a ticker several coins
  share is dropped by the engine (whose price is it?), but the monitor still sees it, marked with
  the quantum ``UNJUDGEABLE``: it goes through the same hold queue as the symbol's other ticks (so
  Kafka and replay step the state machine in the same order) and counts as a page without a sound
  judgement (``ambiguous_ticks``); it never moves a reference.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tickerstream.engine.config import PegConfig
from tickerstream.engine.pegref import REF_LONE_AGREE, RefHistory, RefModel
from tickerstream.engine.pegstate import Observation, PegStateMachine, PegTrack
from tickerstream.engine.pegstore import (
    STATE_VERSION,
    UNJUDGEABLE,
    Held,
    held_json,
    merged_history,
    read_held,
    read_tracks,
)
from tickerstream.engine.registry import PegSpec
from tickerstream.engine.stats import EngineStats
from tickerstream.events import PegEvent


@dataclass(frozen=True, slots=True)
class PegStatus:
    """What the metrics show of one pegged symbol (``Engine.peg_report``)."""

    state: str
    peg: str  # "USD" or the reference symbol
    deviation_bps: float | None  # at the last judged tick, as shown
    worst_bps: float  # of the running episode; 0 outside one
    ref_age_s: float | None  # at the last tick; None for USD pegs or without any reference
    last_ts: int  # event time of the last tick (ms), -1 before any
    sources_disagree: bool = False  # unknown because its pages disagree (``SOURCES_DISAGREE``)


class PegMonitor:
    def __init__(self, config: PegConfig, registry: dict[str, PegSpec], stats: EngineStats) -> None:
        self.config = config
        self.specs = registry
        self.stats = stats
        self.by_ref: dict[str, list[str]] = {}
        for spec in registry.values():
            if spec.reference is not None:
                self.by_ref.setdefault(spec.reference, []).append(spec.symbol)
        self.tracks: dict[str, PegTrack] = {}
        self.held: dict[str, deque[Held]] = {}
        self.refs: dict[str, RefHistory] = {ref: RefHistory([], []) for ref in self.by_ref}
        self.wait_ms = config.ref_max_wait_s * 1000
        self.model = RefModel(
            max_age_ms=config.ref_max_age_s * 1000,
            max_after_ms=self.wait_ms,
            z=config.ref_z,
            vol_points=config.ref_vol_points,
            vol_floor=RefModel.daily_pct_to_per_sqrt_s(config.ref_vol_floor_daily_pct),
            vol_prior=RefModel.daily_pct_to_per_sqrt_s(config.ref_vol_prior_daily_pct),
            lone_x=config.ref_lone_pct / 100.0,
            lone_agree=REF_LONE_AGREE,
        )
        self.machine = PegStateMachine(config)
        #: Per reference: every point of it with a smaller ts is known (``set_horizons``). Absent: no
        #: cap (a replay sees the reference in its own stream, so its watermark is enough).
        self.horizon: dict[str, int] = {}
        self._next_deadline: int | None = None  # smallest ts + wait among releasable held ticks

    @property
    def references(self) -> set[str]:
        return set(self.by_ref)

    def is_relevant(self, symbol: str) -> bool:
        return symbol in self.specs or symbol in self.by_ref

    # --- input -----------------------------------------------------------------------------------

    def run(
        self,
        symbols: list[str],
        ts: list[int],
        price: list[float],
        quantum: list[float],
        wm_before: list[int],
        wm_after: list[int],
        wm_end: int,
    ) -> list[PegEvent]:
        """Ticks of pegged/reference symbols in stream order, with each one's price quantum (NaN:
        unknown; ``UNJUDGEABLE``: a page of the pegged symbol whose coin is not known) and the
        watermark around it."""
        out: list[PegEvent] = []
        by_ref, specs = self.by_ref, self.specs
        for sym, t, p, q, before, after in zip(symbols, ts, price, quantum, wm_before, wm_after, strict=True):
            # release_due's own test, inlined: it runs twice per pegged tick and is rarely due.
            if self._next_deadline is not None and before > self._next_deadline:
                self.release_due(before, out)
            if sym in by_ref and q != UNJUDGEABLE:
                self.add_reference(sym, t, p, out)
            if sym in specs:
                self._on_pegged(sym, t, p, q, after, out)
            if self._next_deadline is not None and after > self._next_deadline:
                self.release_due(after, out)
        self.release_due(wm_end, out)
        return out

    def add_reference(self, ref: str, ts: int, price: float, out: list[PegEvent]) -> None:
        hist = self.refs[ref]
        if not hist.add(ts, price, self.config.ref_history):
            self.stats.ref_late += 1
            return
        for sym in self.by_ref[ref]:
            q = self.held.get(sym)
            while q and hist.settled(q[0][0], self.model):
                self._release(sym, q, out)

    def release_due(self, watermark: int, out: list[PegEvent]) -> None:
        """Release every held tick whose wait ended: ts + ref_max_wait_s < watermark, and below its
        reference's horizon (when capped)."""
        if self._next_deadline is None or watermark <= self._next_deadline:
            return
        for sym in sorted(self.held):
            q = self.held[sym]
            cap = self._cap(sym)
            limit = watermark if cap is None else min(watermark, cap)
            while q and q[0][0] + self.wait_ms < limit:
                self._release(sym, q, out)
        self._update_deadline()

    def set_horizons(self, horizons: Mapping[str, int | None], watermark: int, out: list[PegEvent]) -> None:
        """Per reference: every point of it with ts < its ``until`` is known (None: lift the cap). Held
        ticks of its pegs are released by the watermark only below it; those the new horizons allow go
        at once, but only once *all* of them are in: a reference without a horizon yet is uncapped, so
        releasing after the first one would judge the other references' held ticks by the watermark
        alone (a new instance restores held ticks with a watermark far past their wait)."""
        for ref, until in horizons.items():
            if ref not in self.by_ref:
                continue
            if until is None:
                self.horizon.pop(ref, None)
            else:
                self.horizon[ref] = until
        self._update_deadline()
        self.release_due(watermark, out)

    def blocked(self, watermark: int) -> set[str]:
        """References whose horizon alone holds a pegged tick back: the watermark has passed its
        ts + wait (a replay would have judged it), the reference's points up to there are unknown."""
        out: set[str] = set()
        for sym, q in self.held.items():
            if q and q[0][0] + self.wait_ms < watermark:
                ref = self.specs[sym].reference
                if ref is not None and ref in self.horizon and q[0][0] + self.wait_ms >= self.horizon[ref]:
                    out.add(ref)
        return out

    def _cap(self, sym: str) -> int | None:
        ref = self.specs[sym].reference
        return None if ref is None else self.horizon.get(ref)

    def flush(self) -> list[PegEvent]:
        out: list[PegEvent] = []
        for sym in sorted(self.held):
            q = self.held[sym]
            while q:
                self._release(sym, q, out)
        self._update_deadline()
        return out

    def _on_pegged(
        self, sym: str, ts: int, price: float, quantum: float, watermark: int, out: list[PegEvent]
    ) -> None:
        ref = self.specs[sym].reference
        q = self.held.get(sym)
        if ref is None:
            self._evaluate(sym, ts, price, quantum, out)
            return
        due = ts + self.wait_ms
        # Waited enough as release_due decides: past the watermark and below the reference's horizon.
        hist = self.refs[ref]
        if not q and (
            hist.settled(ts, self.model) or (due < watermark and due < self.horizon.get(ref, watermark))
        ):
            self._evaluate(sym, ts, price, quantum, out)
            return
        if q is None:
            q = self.held[sym] = deque()
        q.append((ts, price, quantum))
        self.stats.held += 1
        self.stats.held_total += 1
        # A head at or past its reference's horizon waits for set_horizons, not for the watermark.
        releasable = len(q) == 1 and due < self.horizon.get(ref, due + 1)
        if releasable and (self._next_deadline is None or due < self._next_deadline):
            self._next_deadline = due
        while q and hist.settled(q[0][0], self.model):
            self._release(sym, q, out)

    def _release(self, sym: str, q: deque[Held], out: list[PegEvent]) -> None:
        ts, price, quantum = q.popleft()
        self.stats.held -= 1
        if not q:
            del self.held[sym]
        self._evaluate(sym, ts, price, quantum, out)

    def _update_deadline(self) -> None:
        """The smallest ts + wait among held heads the watermark may release (below their horizon)."""
        due = []
        for sym, q in self.held.items():
            if q:
                d = q[0][0] + self.wait_ms
                cap = self._cap(sym)
                if cap is None or d < cap:
                    due.append(d)
        self._next_deadline = min(due) if due else None

    # --- judgement ------------------------------------------------------------------------------

    def _evaluate(self, sym: str, ts: int, price: float, quantum: float, out: list[PegEvent]) -> None:
        spec = self.specs[sym]
        track = self.tracks.get(sym)
        if track is None:
            track = self.tracks[sym] = PegTrack()
        obs = self._observe(spec, ts, price, quantum)
        event = self.machine.step(spec, track, obs)
        if event is not None:
            out.append(event)
            self.stats.pegs += 1

    def _observe(self, spec: PegSpec, ts: int, price: float, quantum: float) -> Observation:
        if quantum == UNJUDGEABLE:
            self.stats.peg_ambiguous_pages += 1
            return Observation(ts, price, None, None, reason="ambiguous_ticks")
        if spec.reference is None:
            lo = hi = spec.ratio
            ref_price = ref_age = None
        else:
            hist = self.refs[spec.reference]
            band = hist.band(ts, self.model)
            if band is None:
                self.stats.released_without_ref += 1
                return Observation(ts, price, *hist.changed_before(ts), reason="no_reference")
            if band.uncertainty_bps > self.config.ref_uncertainty_ratio * spec.warn_bps:
                self.stats.ref_stale += 1
                return Observation(ts, price, band.price, band.age_s, reason="stale_reference")
            # The reference's shown price is rounded too; its quantum is not carried with reference
            # points across instances, so the fallback rounding of its price applies everywhere.
            half = self._fallback_quantum(band.price) / 2
            lo, hi = (band.lo - half) * spec.ratio, (band.hi + half) * spec.ratio
            ref_price, ref_age = band.price, band.age_s
        target = (ref_price if ref_price is not None else 1.0) * spec.ratio
        # Rounded to 1e-6 bps so that float noise cannot decide a threshold: 0.98 is exactly
        # -200 bps (critical), not -199.99999999999983.
        shown = round((price / target - 1.0) * 1e4, 6)
        q = self._fallback_quantum(price) if math.isnan(quantum) else quantum
        p_lo, p_hi = price - q / 2, price + q / 2
        judged = round(self._judged_bps(p_lo, p_hi, lo, hi), 6)
        # The far end: the largest deviation the page allows (pegstate: a page that allows a level
        # it does not prove is no evidence against that level); below the target only, for a
        # one-sided peg.
        below = 1.0 - p_lo / hi
        reach = round(max(below, 0.0 if spec.side == "below" else p_hi / lo - 1.0) * 1e4, 6)
        step_bps = q / target * 1e4
        if spec.side == "below" and judged > 0:
            # A premium of an asset that trades above its peg by design (LUSD) is at the peg, and
            # certainly so whatever the page's rounding: no coarse page (pegstate._coarse).
            judged, step_bps = 0.0, 0.0
        return Observation(
            ts, price, ref_price, ref_age, target, shown, judged, step_bps=step_bps, reach=reach
        )

    def _fallback_quantum(self, price: float) -> float:
        """The rounding assumed for a price whose quantum is unknown (a v1 tick, a reference point):
        ``display_quantum`` from 1 up, none below (the seed widget shows six decimals there)."""
        q = self.config.display_quantum
        return q if price >= 1.0 else 0.0

    @staticmethod
    def _judged_bps(p_lo: float, p_hi: float, lo: float, hi: float) -> float:
        """Smallest deviation consistent with a price anywhere in ``[p_lo, p_hi]`` (the shown one
        within half its quantum: the step its page showed, or ``_fallback_quantum``) and a target
        anywhere in ``[lo, hi]``: 0 when the two intervals overlap."""
        if p_lo > hi:
            return (p_lo / hi - 1.0) * 1e4
        if p_hi < lo:
            return (p_hi / lo - 1.0) * 1e4
        return 0.0

    # --- state transfer --------------------------------------------------------------------------

    def status(self, sym: str) -> tuple[str, float] | None:
        t = self.tracks.get(sym)
        return None if t is None else (t.state, t.deviation_bps or 0.0)

    def report(self, sym: str) -> PegStatus | None:
        t = self.tracks.get(sym)
        if t is None:
            return None
        peg = self.specs[sym].peg
        return PegStatus(
            t.state, peg, t.deviation_bps, t.worst_seen_bps, t.ref_age_s, t.last_ts, t.disagreeing
        )

    def export(self, symbols: set[str] | None) -> dict[str, Any]:
        """JSON-able state of the given pegged symbols, plus every reference history (the pegs of
        restored symbols need them whoever owns the reference)."""

        def wanted(s: str) -> bool:
            return symbols is None or s in symbols

        return {
            "version": STATE_VERSION,
            "tracks": {s: asdict(t) for s, t in sorted(self.tracks.items()) if wanted(s)},
            "held": {s: [held_json(x) for x in d] for s, d in sorted(self.held.items()) if wanted(s)},
            "refs": {r: [h.ts, h.price, h.since[:1]] for r, h in sorted(self.refs.items())},
        }

    def merge(self, state: dict[str, Any]) -> None:
        # First: they refuse unreadable state before anything changes.
        tracks = read_tracks(state)
        held = {s: [read_held(x) for x in items] for s, items in state["held"].items()}
        for s, t in tracks.items():
            if s in self.specs:
                self.tracks[s] = t
        for s, items in held.items():
            if s in self.specs:
                old = self.held.pop(s, None)
                self.stats.held -= len(old) if old else 0
                if items:
                    self.held[s] = deque(items)
                    self.stats.held += len(items)
        for r, (ts, price, *rest) in state["refs"].items():
            if r in self.refs:
                self.refs[r] = merged_history(
                    self.refs[r], ts, price, rest[0] if rest else [], self.config.ref_history
                )
        self._update_deadline()

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget pegged symbols. Reference histories stay: other pegs may still need them."""
        for s in symbols:
            self.tracks.pop(s, None)
            q = self.held.pop(s, None)
            if q:
                self.stats.held -= len(q)
        self._update_deadline()
