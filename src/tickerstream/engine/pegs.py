"""Peg monitoring: deviation of pegged assets from their target, as states with hysteresis.

Pegged symbols are a few dozen among thousands, so this part runs per pegged tick in plain Python,
in stream order; the engine hands it only the ticks of pegged and reference symbols.

**As-of reference join.** A referenced peg (WBTC -> BTC) is judged against the reference's latest
price with ts' <= the tick's ts, at most ``ref_max_age_s`` older. Ticks of one page snapshot share a
ts and may arrive in any order or in different batches, so a pegged tick is *held* until the
reference has been seen at ts' >= its ts, or until the event-time watermark (the largest ts the
engine has processed, advanced tick by tick in stream order) passes ``ts + ref_max_wait_s``; it is
then judged with whatever fresh as-of price exists, or counted in ``released_without_ref``.
Release points are positions in the stream, not batch ends, so results do not depend on batching.

**States.** ``ok`` / ``warn`` / ``critical`` by |deviation|. A higher state is entered at once; a
lower one only after ``min_exit_ticks`` consecutive ticks spanning ``min_exit_duration_s`` below its
exit level (lower than the entry level), to the highest state any of those ticks allowed. Every
change is an event; returning to ``ok`` ends the episode and reports its duration and worst deviation.
Decisions use the rounding-aware deviation (see ``PegConfig.display_quantum``); events report the
deviation of the price as shown.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from tickerstream.engine.config import PegConfig
from tickerstream.engine.registry import PegSpec
from tickerstream.engine.stats import EngineStats
from tickerstream.events import PEG_STATE_RANK, PegEvent, PegState

_STATES: tuple[PegState, ...] = ("ok", "warn", "critical")


@dataclass(slots=True)
class PegTrack:
    """Detector state of one pegged symbol."""

    state: PegState = "ok"
    episode_start: int = 0
    worst_bps: float = 0.0
    streak_ticks: int = 0  # consecutive ticks allowing a lower state
    streak_start: int = 0
    streak_level: int = 0  # highest state those ticks allowed
    deviation_bps: float = 0.0
    last_ts: int = -1


@dataclass(slots=True)
class RefHistory:
    """Recent (ts, price) of one reference symbol, ts strictly increasing."""

    ts: list[int]
    price: list[float]

    def add(self, ts: int, price: float, keep: int) -> bool:
        if self.ts and ts <= self.ts[-1]:
            return False
        self.ts.append(ts)
        self.price.append(price)
        if len(self.ts) > 2 * keep:  # trim in steps so appends stay O(1) amortised
            del self.ts[:-keep]
            del self.price[:-keep]
        return True

    def asof(self, ts: int, max_age_ms: int) -> float | None:
        i = bisect.bisect_right(self.ts, ts) - 1
        if i < 0 or ts - self.ts[i] > max_age_ms:
            return None
        return self.price[i]


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
        self.held: dict[str, deque[tuple[int, float]]] = {}
        self.refs: dict[str, RefHistory] = {ref: RefHistory([], []) for ref in self.by_ref}
        self.wait_ms = config.ref_max_wait_s * 1000
        self.max_age_ms = config.ref_max_age_s * 1000
        self._next_deadline: int | None = None  # smallest ts + wait among held ticks

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
        wm_before: list[int],
        wm_after: list[int],
        wm_end: int,
    ) -> list[PegEvent]:
        """Ticks of pegged/reference symbols in stream order, with the watermark around each."""
        out: list[PegEvent] = []
        for sym, t, p, before, after in zip(symbols, ts, price, wm_before, wm_after, strict=True):
            self.release_due(before, out)
            if sym in self.by_ref:
                self.add_reference(sym, t, p, out)
            if sym in self.specs:
                self._on_pegged(sym, t, p, after, out)
            self.release_due(after, out)
        self.release_due(wm_end, out)
        return out

    def add_reference(self, ref: str, ts: int, price: float, out: list[PegEvent]) -> None:
        if not self.refs[ref].add(ts, price, self.config.ref_history):
            self.stats.ref_late += 1
            return
        for sym in self.by_ref[ref]:
            q = self.held.get(sym)
            while q and q[0][0] <= ts:
                self._release(sym, q, out)

    def release_due(self, watermark: int, out: list[PegEvent]) -> None:
        """Release every held tick whose wait ended: watermark > ts + ref_max_wait_s."""
        if self._next_deadline is None or watermark <= self._next_deadline:
            return
        for sym in sorted(self.held):
            q = self.held[sym]
            while q and q[0][0] + self.wait_ms < watermark:
                self._release(sym, q, out)
        self._update_deadline()

    def flush(self) -> list[PegEvent]:
        out: list[PegEvent] = []
        for sym in sorted(self.held):
            q = self.held[sym]
            while q:
                self._release(sym, q, out)
        self._update_deadline()
        return out

    def _on_pegged(self, sym: str, ts: int, price: float, watermark: int, out: list[PegEvent]) -> None:
        ref = self.specs[sym].reference
        q = self.held.get(sym)
        if ref is None or (not q and (self._ref_seen(ref) >= ts or ts + self.wait_ms < watermark)):
            self._evaluate(sym, ts, price, out)
            return
        if q is None:
            q = self.held[sym] = deque()
        q.append((ts, price))
        self.stats.held += 1
        self.stats.held_total += 1
        deadline = ts + self.wait_ms
        if self._next_deadline is None or deadline < self._next_deadline:
            self._next_deadline = deadline
        while q and q[0][0] <= self._ref_seen(ref):
            self._release(sym, q, out)

    def _ref_seen(self, ref: str) -> int:
        h = self.refs[ref].ts
        return h[-1] if h else -1

    def _release(self, sym: str, q: deque[tuple[int, float]], out: list[PegEvent]) -> None:
        ts, price = q.popleft()
        self.stats.held -= 1
        if not q:
            del self.held[sym]
        self._evaluate(sym, ts, price, out)

    def _update_deadline(self) -> None:
        heads = [q[0][0] for q in self.held.values() if q]
        self._next_deadline = min(heads) + self.wait_ms if heads else None

    # --- the state machine -----------------------------------------------------------------------

    def _evaluate(self, sym: str, ts: int, price: float, out: list[PegEvent]) -> None:
        spec = self.specs[sym]
        ref_price: float | None = None
        if spec.reference is not None:
            ref_price = self.refs[spec.reference].asof(ts, self.max_age_ms)
            if ref_price is None:
                self.stats.released_without_ref += 1
                return
            target = ref_price * spec.ratio
        else:
            target = spec.ratio
        shown = (price / target - 1.0) * 1e4
        dev = abs(self._judged_bps(price, target))
        level = 2 if dev >= spec.critical_bps else 1 if dev >= spec.warn_bps else 0
        track = self.tracks.get(sym)
        if track is None:
            track = self.tracks[sym] = PegTrack()
        track.deviation_bps = shown
        track.last_ts = ts
        cur = PEG_STATE_RANK[track.state]
        if cur and abs(shown) > abs(track.worst_bps):
            track.worst_bps = shown
        if level > cur:
            if cur == 0:
                track.episode_start = ts
                track.worst_bps = shown
            track.streak_ticks = 0
            self._change(sym, spec, track, level, ts, price, target, ref_price, shown, out)
            return
        if cur == 0:
            return
        # Which lower state does this tick allow? Exit levels are below entry levels (hysteresis).
        allowed = cur
        if dev < spec.warn_exit_bps:
            allowed = 0
        elif cur == 2 and dev < spec.critical_exit_bps:
            allowed = 1
        if allowed >= cur:
            track.streak_ticks = 0
            return
        if track.streak_ticks == 0:
            track.streak_start = ts
            track.streak_level = allowed
        else:
            track.streak_level = max(track.streak_level, allowed)
        track.streak_ticks += 1
        if (
            track.streak_ticks >= self.config.min_exit_ticks
            and ts - track.streak_start >= self.config.min_exit_duration_s * 1000
        ):
            track.streak_ticks = 0
            self._change(sym, spec, track, track.streak_level, ts, price, target, ref_price, shown, out)

    def _judged_bps(self, price: float, target: float) -> float:
        """Smallest deviation consistent with a displayed price rounded to ``display_quantum``."""
        q = self.config.display_quantum
        if q <= 0 or price < 1.0:
            return (price / target - 1.0) * 1e4
        lo, hi = price - q / 2, price + q / 2
        if lo > target:
            return (lo / target - 1.0) * 1e4
        if hi < target:
            return (hi / target - 1.0) * 1e4
        return 0.0

    def _change(
        self,
        sym: str,
        spec: PegSpec,
        track: PegTrack,
        level: int,
        ts: int,
        price: float,
        target: float,
        ref_price: float | None,
        shown: float,
        out: list[PegEvent],
    ) -> None:
        prev = track.state
        state = _STATES[level]
        track.state = state
        ended = level == 0
        out.append(
            PegEvent(
                symbol=sym,
                ts=ts,
                peg=spec.peg,
                target=round(target, 10),
                price=price,
                ref_price=ref_price,
                deviation_bps=round(shown, 2),
                state=state,
                prev_state=prev,
                duration_s=(ts - track.episode_start) / 1000 if ended else None,
                worst_bps=round(track.worst_bps, 2) if ended else None,
            )
        )
        self.stats.pegs += 1

    # --- state transfer --------------------------------------------------------------------------

    def status(self, sym: str) -> tuple[str, float] | None:
        t = self.tracks.get(sym)
        return None if t is None else (t.state, t.deviation_bps)

    def export(self, symbols: set[str] | None) -> dict[str, Any]:
        """JSON-able state of the given pegged symbols, plus every reference history (the pegs of
        restored symbols need them whoever owns the reference)."""

        def wanted(s: str) -> bool:
            return symbols is None or s in symbols

        return {
            "tracks": {s: asdict(t) for s, t in sorted(self.tracks.items()) if wanted(s)},
            "held": {s: [list(x) for x in q] for s, q in sorted(self.held.items()) if wanted(s)},
            "refs": {r: [h.ts, h.price] for r, h in sorted(self.refs.items())},
        }

    def merge(self, state: dict[str, Any]) -> None:
        for s, t in state["tracks"].items():
            if s in self.specs:
                self.tracks[s] = PegTrack(**t)
        for s, items in state["held"].items():
            if s in self.specs:
                old = self.held.pop(s, None)
                self.stats.held -= len(old) if old else 0
                if items:
                    self.held[s] = deque((int(t), float(p)) for t, p in items)
                    self.stats.held += len(items)
        for r, (ts, price) in state["refs"].items():
            if r in self.refs:
                merged = dict(zip(self.refs[r].ts, self.refs[r].price, strict=True))
                merged.update(zip(ts, price, strict=True))
                keys = sorted(merged)[-self.config.ref_history :]
                self.refs[r] = RefHistory(keys, [merged[k] for k in keys])
        self._update_deadline()

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget pegged symbols. Reference histories stay: other pegs may still need them."""
        for s in symbols:
            self.tracks.pop(s, None)
            q = self.held.pop(s, None)
            if q:
                self.stats.held -= len(q)
        self._update_deadline()
