"""The peg state machine of one pegged symbol: states, confirmation, hysteresis, episodes, updates.

Fed one tick at a time in stream order by ``PegMonitor`` (``engine/pegs.py``), either *judged*
(a sound target exists: the judged deviation decides) or *unjudged* (no reference, or one too
uncertain). Everything here is a function of the ticks' event times and prices, never of the
wall clock or of batch boundaries, so replay and Kafka give the same events.

- ``ok`` / ``warn`` / ``critical`` by |judged deviation|. A higher state is entered once the level
  has held for the asset's ``confirm_s`` (consecutive judged ticks spanning it; the state entered
  is the highest level that trailing ticks among them, spanning ``confirm_s``, all reached), or at
  once with ``confirm_s = 0`` or with a second judged tick beyond ``confirm_bypass_bps`` (one tick
  never, nor two with many pages between them: ``_partner``). After an entry the trailing ticks
  already beyond the next level count toward its confirmation (``_confirm_from_trailing``): the
  page that entered warn at -300 bps and the next at -400 confirm critical.
- A lower state only after ``min_exit_ticks`` consecutive ticks spanning ``min_exit_duration_s``
  below its exit level (hysteresis), to the highest state they allowed, once the pages that kept
  the state are overdue (``HOLD_OVERDUE``: a stale mirror's pages at the peg between a live site's
  pages off it are no way back) or outnumbered (``EXIT_VOTE_MS``). A tick whose price step is
  wider than the gap between a level it leaves and that level's exit level (a cent at $1: 100 bps,
  the warn gap 25) cannot show the price back inside (``_coarse``): ``min_exit_ticks`` fine ticks
  of the streak spanning ``min_exit_duration_s`` confirm the exit on their own, coarse ones only
  once the streak spans ``coarse_exit_factor`` x ``min_exit_duration_s``.
- A depeg *episode* runs from leaving ``ok`` to returning to it; it starts at the first tick of
  the confirmed run and ends at the first tick of the final run back inside the warn exit level.
- ``unknown``: no sound judgement for ``unknown_after_s``: ticks without one (no reference, one too
  uncertain, or pages the engine could not attribute to the pegged coin: ``ambiguous_ticks``) for
  that long after the last judged tick (or the first tick, before any). It ends a running episode
  (its duration then reaches the last soundly judged tick: how long the depeg was *seen*). It is
  left for warn/critical once that level is confirmed like any entry (the state stays ``unknown``
  meanwhile), for ``ok`` once the judged ticks since entering it span ``unknown_exit_s`` (two at
  least: a lone judged tick among unjudged ones does not flap it). Reminders in ``unknown`` are due
  on any tick.
- A tick without a sound judgement is no information, not contrary evidence: "consecutive judged
  ticks" skip it, so it breaks no confirmation, held deviation or run leaving ``unknown``. Only a
  judged tick below the level resets a confirmation; entering ``unknown`` drops it. So does a tick
  whose rounding allows a higher level than it proves (``Observation.reach``: $0.98 in cents is -150
  to -250 bps) for that level: it neither resets nor joins the confirmation of it.
- Pages beyond a level that keep coming for ``SUSTAIN_MS`` confirm it even with contradicting
  pages between them, when they are at least half the judged pages (``_sustain``): two sources
  that disagree for a quarter of an hour are a depeg until both show the peg (the exit needs
  consecutive pages back inside). When such pages beyond the critical level are the minority for
  half an hour (a live site off the peg beside a mirror at it that pages more often), the asset
  goes from ``ok`` to ``unknown`` (``SOURCES_DISAGREE``) instead of staying ``ok`` in silence.
- Only confirmed deviations count beyond entry too: the *held* deviation of a tick is the smallest
  among the consecutive judged ticks spanning ``confirm_s`` up to it (``_held``). ``worst_bps`` is
  the largest held deviation of the episode; ``deepened`` fires when the held |judged deviation|
  crosses the next multiple of ``update_step_bps`` beyond the deepest reported so far. An entry
  reports what held at it, not its own tick (a misparsed page completing it would mute the
  updates). ``reminder`` after ``reminder_interval_s`` without an event, except while an exit is
  being confirmed (the exit is the next event).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from tickerstream.engine.config import PegConfig
from tickerstream.engine.registry import PegSpec
from tickerstream.events import PEG_STATE_RANK, PegEvent, PegKind, PegState, UnknownReason, episode_id

_LEVELS: tuple[PegState, ...] = ("ok", "warn", "critical")
#: Two judged pages beyond ``confirm_bypass_bps`` on one side this close confirm each other even
#: with pages between them that contradict (a stale mirror still at $1.00 between a live site's
#: pages at $0.75): the live pages say it twice within the hour. At most ``BYPASS_MAX_BETWEEN``
#: pages may come between them: two bad rows among 24 pages at the peg are no depeg, while a live
#: site a mirror outnumbers 4:1 still confirms a collapse (2 pages between silenced it for good).
BYPASS_WINDOW_MS = 3_600_000
BYPASS_MAX_BETWEEN = 8
#: ... or, with more between them, this many pages beyond it on one side within the hour: a bound
#: alone only moved the cliff (a mirror paging 10 times as often as the live site silenced it).
BYPASS_CHAIN = 3
#: Below the bypass, pages beyond a level on one side that keep coming (each at most
#: ``SUSTAIN_GAP_MS`` after the one before, ``SUSTAIN_PAGES`` at least) for ``SUSTAIN_MS`` confirm
#: it whatever pages come between, as long as they are at least as many as those: a stale mirror
#: still at $1.0000 between a live site's pages at $0.97 breaks every run of consecutive pages, and
#: kept a -300 bps depeg silent for 10 hours; one page in 20 just beyond a level (a price hovering
#: under it, a cents site's rounding) is no depeg.
SUSTAIN_MS = 900_000
SUSTAIN_GAP_MS = 900_000
SUSTAIN_PAGES = 3
#: An exit waits until the pages that kept the state are overdue: this many times the gap between
#: the last two of them (at most ``SUSTAIN_GAP_MS``) after the last one. Pages at the peg between
#: a live site's pages off it (a stale mirror) are then no way back; when every site is back at
#: the peg, the pages off it are overdue by the time ``min_exit_duration_s`` has passed.
HOLD_OVERDUE = 1.5
#: ... unless the pages allowing a lower state are the majority of the judged pages of this long
#: (``_outvoted``): then the pages keeping the state are a minority, a mirror stuck at the depeg
#: price beside a live site back at the peg, which must not hold it either. Half an hour, so that
#: a live site's pages every 10-20 minutes outnumber a mirror's two at the peg.
EXIT_VOTE_MS = 1_800_000
UNKNOWN: PegState = "unknown"
#: From ``ok``: pages beyond the critical level that keep coming (``_split``: none more than
#: ``SUSTAIN_GAP_MS`` after the one before) for ``DISAGREE_MS``, ``SUSTAIN_PAGES`` at least and at
#: more than one price, but outnumbered (at most ``DISAGREE_OUTNUMBERED`` to 1) by the pages between
#: them, which confirmed nothing. No price moves between -300 bps and the peg page after page
#: for half an hour: two sources disagree (a live site off the peg and a mirror stuck at $1.0000),
#: and which one is right cannot be read from the pages. The majority decided, and a mirror paging
#: twice as often as the live site kept a -300 bps depeg silent for 10 hours. The asset goes
#: ``unknown`` with this reason instead, until no page beyond came for ``DISAGREE_EXIT_MS`` or they
#: confirm the level (an hour: a site with wrong rows now and then, at random, would otherwise flap
#: the state in and out). Pages beyond that all show one price are a stale page (a mirror stuck at
#: $0.97 after a recovery, beside a live site back at the peg), and a few pages beyond among many
#: more at the peg are a flaky source: the majority still decides.
SOURCES_DISAGREE: UnknownReason = "sources_disagree"
DISAGREE_MS = 1_800_000
DISAGREE_OUTNUMBERED = 3
DISAGREE_EXIT_MS = 3_600_000


def _level(spec: PegSpec, dev: float) -> int:
    """The level (index into ``_LEVELS``) an |judged deviation| reaches."""
    return 2 if dev >= spec.critical_bps else 1 if dev >= spec.warn_bps else 0


def _level_beyond(spec: PegSpec, reach: float) -> int:
    """The highest level a page's far end (``Observation.reach``) passes."""
    return 2 if reach > spec.critical_bps else 1 if reach > spec.warn_bps else 0


@dataclass(slots=True)
class PegTrack:
    """Detector state of one pegged symbol (JSON-able: it goes into checkpoints as is)."""

    state: str = "ok"
    episode_start: int = -1
    worst_bps: float = 0.0  # shown deviation of largest magnitude in the episode
    reported_bps: float = 0.0  # deepest |judged| reported by an event of the episode
    last_event_ts: int = -1
    streak_ticks: int = 0  # consecutive ticks allowing a lower state
    streak_start: int = 0
    streak_level: int = 0  # highest state those ticks allowed
    fine_ticks: int = 0  # the trailing ones among them whose price step is fine (_coarse)
    fine_start: int = 0
    inside_since: int = -1  # first tick of the current run inside the warn exit level
    confirm_ticks: int = 0  # consecutive judged ticks above the current state
    confirm_start: int = -1
    confirm_level: int = 0  # lowest level those ticks reached
    confirm_sign: int = 0  # their side: +1 above the target, -1 below
    # The consecutive judged ticks of the last confirm_s (and the one before it): [ts, shown, judged].
    recent: list[list[float]] = field(default_factory=list)
    #: The last judged tick beyond ``confirm_bypass_bps``: [ts, shown, judged] (None: none since
    #: entering unknown or ever).
    beyond: list[float] | None = None
    beyond_other: int = 0  # judged pages since it that were not beyond the bypass on its side
    #: The ts of the judged pages beyond the bypass on its side within ``BYPASS_WINDOW_MS`` of it.
    beyond_recent: list[int] = field(default_factory=list)
    #: The pages beyond the current state on one side that keep coming, contradicted or not
    #: (``_sustain``): first and last ts (-1: none), side, pages, lowest level, and the smallest
    #: deviation among them (shown, |judged|).
    sustain_start: int = -1
    sustain_last: int = -1
    sustain_sign: int = 0
    sustain_pages: int = 0
    sustain_other: int = 0  # judged pages between them that did not reach beyond the state
    sustain_level: int = 0
    sustain_shown: float = 0.0
    sustain_bps: float = 0.0
    #: From ``ok``, the judged pages beyond the critical level that keep coming, whatever came
    #: between (``_split``): first and last ts (-1: none), pages, the other judged pages between
    #: them, the first page's price and whether a later one showed another (``SOURCES_DISAGREE``).
    split_start: int = -1
    split_last: int = -1
    split_pages: int = 0
    split_other: int = 0
    split_price: float = 0.0
    split_varied: bool = False
    #: Inside an episode, its judged ticks of the last ``EXIT_VOTE_MS``: [ts, shown, judged]
    #: (``_persisting``, ``_outvoted``).
    window: list[list[float]] = field(default_factory=list)
    #: The last judged page that kept the state (allowed no lower one) and the time since the one
    #: before it (-1, 0: none): an exit waits until the pages keeping the state are overdue.
    hold_ts: int = -1
    hold_gap: int = 0
    sound_since: int = -1  # first judged tick since entering unknown (-1: none)
    first_ts: int = -1
    last_ts: int = -1
    judged_ts: int = -1  # last soundly judged tick
    unknown_since: int = -1
    unknown_reason: str | None = None  # of the last tick without a sound judgement
    deviation_bps: float | None = None  # at the last judged tick, as shown
    judged_bps: float | None = None
    worst_seen_bps: float = 0.0  # = worst_bps while in an episode, 0 otherwise (for metrics)
    ref_age_s: float | None = None  # at the last tick

    @property
    def disagreeing(self) -> bool:
        """In ``unknown`` because its pages disagree (``SOURCES_DISAGREE``)?"""
        return self.state == UNKNOWN and self.unknown_reason == SOURCES_DISAGREE

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PegTrack:
        names = {f.name for f in fields(cls)}
        unknown = set(obj) - names
        if unknown:
            raise ValueError(f"peg track has unknown fields {sorted(unknown)}")
        return cls(**obj)


@dataclass(slots=True)  # not frozen: one per pegged tick, and a frozen __init__ costs 2-3x
class Observation:
    """One pegged tick as the monitor saw it. ``target``/``shown``/``judged`` are None when the tick
    could not be judged (then ``reason`` says why)."""

    ts: int
    price: float
    ref_price: float | None
    ref_age_s: float | None
    target: float | None = None
    shown: float | None = None
    judged: float | None = None
    reason: UnknownReason | None = None
    #: One price step of the page (its quantum) in bps of the target: how far apart the deviations
    #: of two neighbouring shown prices are (a cent at $1: 100 bps).
    step_bps: float = 0.0
    #: The largest |deviation| the page allows (the far end of its rounding and of the reference's
    #: interval; ``judged`` is the near end): USDC shown in cents at $0.98 is -150 to -250 bps.
    #: 0: not known (the page is taken at its judged value).
    reach: float = 0.0


class PegStateMachine:
    """Turns observations of one symbol into events; holds no per-symbol state itself."""

    def __init__(self, config: PegConfig) -> None:
        self.cfg = config
        self.exit_ms = config.min_exit_duration_s * 1000
        self.coarse_exit_ms = config.min_exit_duration_s * config.coarse_exit_factor * 1000
        self.unknown_ms = config.unknown_after_s * 1000
        self.reminder_ms = config.reminder_interval_s * 1000
        self.unknown_exit_ms = config.unknown_exit_s * 1000

    def step(self, spec: PegSpec, t: PegTrack, obs: Observation) -> PegEvent | None:
        if t.first_ts < 0:
            t.first_ts = obs.ts
        if obs.reason != "ambiguous_ticks":
            # A page that may be another coin's is no tick of this one: the last tick's time (the
            # metric that alerts when a stablecoin's ticks stop) and its reference age stay.
            t.last_ts = obs.ts
            t.ref_age_s = obs.ref_age_s
        if obs.judged is None:
            return self._unjudged(spec, t, obs)
        return self._judged(spec, t, obs)

    # --- no sound judgement ----------------------------------------------------------------------

    def _unjudged(self, spec: PegSpec, t: PegTrack, obs: Observation) -> PegEvent | None:
        # A tick without a sound judgement is no information about the peg, not contrary evidence:
        # it breaks no run of judged ticks (confirming a depeg, its held deviation, or the way out
        # of unknown). Only unknown_after_s of them with no judged tick in between count (below).
        if not (t.disagreeing and obs.reason == "ambiguous_ticks"):
            # A page of another coin is no tick of this one: it leaves a disagreement the reason. A
            # missing or stale reference is the reason from here on (the alert says so).
            t.unknown_reason = obs.reason
        if t.state == UNKNOWN:
            return self._reminder(spec, t, obs)
        since = t.judged_ts if t.judged_ts >= 0 else t.first_ts
        if obs.ts - since < self.unknown_ms:
            return None
        prev = t.state
        in_episode = PEG_STATE_RANK.get(prev, 0) > 0
        duration = (t.judged_ts - t.episode_start) / 1000 if in_episode else None
        ev = self._event(spec, t, obs, "change", prev, UNKNOWN, episode=in_episode, duration=duration)
        t.state = UNKNOWN
        t.unknown_since = obs.ts
        self._reset_episode(t)
        # Leaving needs judged ticks from here on (ambiguous pages alone may have led here).
        t.recent.clear()
        t.window.clear()
        t.beyond, t.beyond_recent = None, []
        t.sustain_start = t.split_start = -1
        t.hold_ts = -1
        t.sound_since = -1
        return ev

    # --- judged ticks ----------------------------------------------------------------------------

    def _judged(self, spec: PegSpec, t: PegTrack, obs: Observation) -> PegEvent | None:
        assert obs.judged is not None and obs.shown is not None
        if t.sound_since < 0:
            t.sound_since = obs.ts
        t.judged_ts = obs.ts
        t.deviation_bps = obs.shown
        t.judged_bps = obs.judged
        dev = abs(obs.judged)
        level = _level(spec, dev)
        if t.state == "ok" or t.disagreeing:
            self._split(t, obs, level)
        if t.state == UNKNOWN:
            return self._leave_unknown(spec, t, obs, level, *self._held(spec, t, obs))
        cur = PEG_STATE_RANK[t.state]
        # A page that allows a higher level than it proves (USDC at a true -250 bps shown in cents
        # as $0.98: -150 to -250) is no evidence either way about that level: like a page that
        # cannot be judged, it neither resets a confirmation of it nor joins the pages that
        # confirm one (held). Otherwise a cents site beside a four-decimal one kept a -250 bps
        # depeg in warn for as long as both paged. Its far end must pass the level, not touch it:
        # $1.00 in cents is below $1.005, so it is no warn page.
        inconclusive = level <= cur < _level_beyond(spec, obs.reach)
        held, bypass_from = (None, -1) if inconclusive else self._held(spec, t, obs)
        if cur:
            if held is not None and abs(held[0]) > abs(t.worst_bps):
                t.worst_bps = t.worst_seen_bps = held[0]
            if dev >= spec.warn_exit_bps:
                t.inside_since = -1
            elif t.inside_since < 0:
                t.inside_since = obs.ts
        if level > cur:
            t.streak_ticks = 0
            self._hold(t, obs)
            ev = self._enter(spec, t, obs, cur, level, held, bypass_from)
            if ev is not None or not cur:
                return ev
            return self._update(spec, t, obs, held)
        if not inconclusive:
            t.confirm_ticks = 0
            t.sustain_other += 1  # counts only while a run of pages beyond is kept (_sustain)
        if not cur:
            return None
        ev = self._exit(spec, t, obs, cur, dev)
        if ev is not None or t.streak_ticks:
            # While an exit is being confirmed the next event is the exit itself (within
            # min_exit_duration_s, or the reminder on the tick that breaks the streak): a reminder
            # of "critical" on a page back at the peg would read as a depeg that is not there.
            return ev
        return self._update(spec, t, obs, held)

    def _held(self, spec: PegSpec, t: PegTrack, obs: Observation) -> tuple[tuple[float, float] | None, int]:
        """The deviation this tick confirms: (shown, |judged|) of smallest magnitude among the
        consecutive judged ticks spanning the last ``confirm_s`` up to it (each the smallest of
        its kind), or of this tick and the one before when both are beyond ``confirm_bypass_bps``
        (``_partner``); None when neither (the run is shorter than ``confirm_s``). ``worst_bps``
        and ``deepened`` count only these, so one bad page neither deepens an episode nor sets its
        worst. Also the ts of the page that confirmed this one beyond the bypass (-1: none)."""
        assert obs.judged is not None and obs.shown is not None
        recent = t.recent
        partner = self._partner(t, obs, recent[-1] if recent else None)
        recent.append([obs.ts, obs.shown, obs.judged])
        cutoff = obs.ts - spec.confirm_s * 1000
        while len(recent) > 1 and recent[1][0] <= cutoff:
            del recent[0]
        held: tuple[float, float] | None = None
        # Only the trailing pages on this page's side count: a page at -2500 and one at +3000 are
        # two bad prints, not a deviation that held (a page at the peg, judged 0, ends the run too).
        k = len(recent)
        while k and recent[k - 1][2] * obs.judged > 0:
            k -= 1
        run = recent[k:]
        if run and run[0][0] <= cutoff:
            shown = min((r[1] for r in run), key=abs)
            held = (shown, min(abs(r[2]) for r in run))
        bypass_from = -1
        if partner is not None:
            # The smaller of the two pages beyond the bypass is what they confirm.
            bypass_from = int(partner[0])
            pick = partner if abs(partner[2]) <= abs(obs.judged) else recent[-1]
            if held is None or abs(pick[2]) > held[1]:
                held = (pick[1], abs(pick[2]))
        if abs(obs.judged) >= self.cfg.confirm_bypass_bps:
            if t.beyond is None or t.beyond[2] * obs.judged <= 0:
                t.beyond_recent = []
            t.beyond, t.beyond_other = [obs.ts, obs.shown, obs.judged], 0
            t.beyond_recent = [ts for ts in t.beyond_recent if obs.ts - ts <= BYPASS_WINDOW_MS] + [obs.ts]
        elif t.beyond is not None:
            t.beyond_other += 1
        # Only inside an episode (its pages kept from its start), and only when this page could
        # show more than what held.
        window = t.window
        if t.episode_start < 0:
            if window:
                window.clear()
            return held, bypass_from
        window.append([obs.ts, obs.shown, obs.judged])
        while window[0][0] < obs.ts - EXIT_VOTE_MS:
            del window[0]
        if held is None or abs(obs.judged) > held[1]:
            persisting = self._persisting(spec, t, obs)
            if persisting is not None and (held is None or persisting[1] > held[1]):
                held = persisting
        return held, bypass_from

    @staticmethod
    def _persisting(spec: PegSpec, t: PegTrack, obs: Observation) -> tuple[float, float] | None:
        """The deviation the pages on this tick's side at the current state's level or beyond held
        over the last ``SUSTAIN_MS`` whatever came between (as a level is confirmed by persistence,
        ``_sustain``): (shown, |judged|) of the smallest among them, when they span half of it,
        number ``SUSTAIN_PAGES`` and are at least as many as the others; else None. Inside an
        episode it stands in for ``_held`` when deeper: a level confirmed beside a stale mirror
        otherwise kept its entry's ``worst_bps`` and never deepened, the mirror's pages breaking
        every run (or, off the peg themselves, holding the smallest deviation down)."""
        assert obs.judged is not None
        level_bps = spec.critical_bps if PEG_STATE_RANK.get(t.state, 0) >= 2 else spec.warn_bps
        sign = 1.0 if obs.judged > 0 else -1.0
        count, first, pick, pages = 0, -1.0, None, 0
        since = obs.ts - SUSTAIN_MS
        for r in t.window:  # the judged pages of the last EXIT_VOTE_MS, this one included (_held)
            if r[0] < since:
                continue
            pages += 1
            dev = r[2] * sign
            if dev >= level_bps:
                count += 1
                if first < 0:
                    first = r[0]
                if pick is None or dev < pick[2] * sign:
                    pick = r
        others = pages - count
        if pick is None or count < max(SUSTAIN_PAGES, others) or obs.ts - first < SUSTAIN_MS // 2:
            return None
        return pick[1], abs(pick[2])

    def _partner(self, t: PegTrack, obs: Observation, prev: list[float] | None) -> list[float] | None:
        """The page that confirms this one beyond ``confirm_bypass_bps`` (a deviation that needs no
        ``confirm_s``, only a second page): the judged tick before it, or the last one beyond the
        bypass within ``BYPASS_WINDOW_MS``, on the same side. One page is not enough however far off
        it is: the gross errors are the typical bad ticks (another coin's row, a zero), and a
        one-page critical on one of them is the false alarm a desk trusts the tool to spare it; a
        second page costs one page of latency. None when nothing confirms it."""
        assert obs.judged is not None
        bypass = self.cfg.confirm_bypass_bps
        if abs(obs.judged) < bypass:
            return None
        if prev is not None and prev[2] * obs.judged > 0 and abs(prev[2]) >= bypass:
            return prev
        b = t.beyond
        if b is None or b[2] * obs.judged <= 0 or obs.ts - b[0] > BYPASS_WINDOW_MS:
            return None
        if t.beyond_other <= BYPASS_MAX_BETWEEN:
            return b
        # However many pages came between: the third page beyond it within the hour (a live site a
        # mirror outnumbers 10:1 still says it, two bad rows do not).
        recent = sum(1 for ts in t.beyond_recent if obs.ts - ts <= BYPASS_WINDOW_MS)
        return b if recent + 1 >= BYPASS_CHAIN else None

    def _leave_unknown(
        self,
        spec: PegSpec,
        t: PegTrack,
        obs: Observation,
        level: int,
        held: tuple[float, float] | None,
        bypass_from: int,
    ) -> PegEvent | None:
        """To warn/critical once the level is confirmed like any entry; to ok once the judged ticks
        since entering unknown span ``unknown_exit_s`` (two at least, however far apart: ticks
        without a sound judgement between them say nothing). Until then the state stays
        ``unknown``, and its reminders are due on judged ticks too."""
        if level:
            ev = self._enter(spec, t, obs, 0, level, held, bypass_from)
            return ev if ev is not None else self._reminder(spec, t, obs)
        t.confirm_ticks = 0
        t.sustain_other += 1
        if obs.ts - t.sound_since < self.unknown_exit_ms or self._still_disagree(t, obs):
            return self._reminder(spec, t, obs)
        duration = (obs.ts - t.unknown_since) / 1000
        t.unknown_since = -1
        t.state = "ok"
        return self._event(spec, t, obs, "change", UNKNOWN, "ok", episode=False, duration=duration)

    @staticmethod
    def _still_disagree(t: PegTrack, obs: Observation) -> bool:
        """In ``unknown`` for ``SOURCES_DISAGREE``: are the pages beyond still coming (the last at
        most ``DISAGREE_EXIT_MS`` ago, a live site paging irregularly included)? The pages at the
        peg are then no way back to ``ok``."""
        return t.disagreeing and obs.ts - t.split_last <= DISAGREE_EXIT_MS

    def _enter(
        self,
        spec: PegSpec,
        t: PegTrack,
        obs: Observation,
        cur: int,
        level: int,
        held: tuple[float, float] | None,
        bypass_from: int,
    ) -> PegEvent | None:
        assert obs.shown is not None
        start = obs.ts
        if bypass_from >= 0:  # confirmed beyond the bypass (``_held``) by an earlier page
            start = min(bypass_from, t.confirm_start if t.confirm_ticks else obs.ts)
        elif spec.confirm_s:
            assert obs.judged is not None
            sign = 1 if obs.judged > 0 else -1
            if t.confirm_ticks == 0 or sign != t.confirm_sign:
                # A page on the other side starts over: two bad prints either side confirm nothing.
                t.confirm_start, t.confirm_level, t.confirm_sign, t.confirm_ticks = obs.ts, level, sign, 0
            else:
                t.confirm_level = min(t.confirm_level, level)
            t.confirm_ticks += 1
            sustained = self._sustain(t, obs, level)
            if obs.ts - t.confirm_start >= spec.confirm_s * 1000:
                # The trailing ticks beyond a higher level may span confirm_s too (they are what held).
                confirmed = _level(spec, held[1]) if held is not None else 0
                level, start = max(t.confirm_level, confirmed), t.confirm_start
            elif sustained:
                level, start = t.sustain_level, t.sustain_start
                held = (t.sustain_shown, t.sustain_bps)
            elif self._disagree(t, obs):
                return self._sources_disagree(spec, t, obs)
            else:
                return None
        t.streak_ticks = 0
        t.sustain_start = t.split_start = -1
        if cur and held is not None and abs(held[0]) > abs(t.worst_bps):
            t.worst_bps = t.worst_seen_bps = held[0]  # a higher level entered within the episode
        self._confirm_from_trailing(spec, t, level)
        prev = t.state
        duration = None
        if prev == UNKNOWN:
            duration = (obs.ts - t.unknown_since) / 1000
            t.unknown_since = -1
        # What the entry reports is what the confirmation established (held), not the entering
        # tick's own value: one bad page at -950 bps entering on a real -300 must not set the
        # episode's depth (and mute every deepened up to -900). Without the recent ticks (a track
        # restored from peg state v4 or older), the level's threshold is what is established.
        depth = held[1] if held is not None else spec.critical_bps if level == 2 else spec.warn_bps
        if not cur:
            # The confirming ticks all reached the level, so they confirm a deviation (held).
            self._open_episode(t, start, held[0] if held is not None else obs.shown, depth)
        t.reported_bps = max(t.reported_bps, depth)
        t.state = _LEVELS[level]
        return self._event(spec, t, obs, "change", prev, t.state, episode=True, duration=duration)

    @staticmethod
    def _sustain(t: PegTrack, obs: Observation, level: int) -> bool:
        """Count a page beyond the current state (at ``level``) into the pages on its side that keep
        coming, whatever came between; True once they confirm their lowest level. Market-data
        bad-tick filters accept a price that persists; here it must persist for ``SUSTAIN_MS`` on
        ``SUSTAIN_PAGES`` pages and on at least as many pages as came between (the other judged
        pages counted since the run began), so one bad page, a short burst or a price hovering
        under the level with a page beyond it now and then never does."""
        assert obs.judged is not None and obs.shown is not None
        sign = 1 if obs.judged > 0 else -1
        dev = abs(obs.judged)
        if t.sustain_start < 0 or sign != t.sustain_sign or obs.ts - t.sustain_last > SUSTAIN_GAP_MS:
            t.sustain_start, t.sustain_sign, t.sustain_pages, t.sustain_level = obs.ts, sign, 0, level
            t.sustain_shown, t.sustain_bps, t.sustain_other = obs.shown, dev, 0
        t.sustain_last = obs.ts
        t.sustain_pages += 1
        t.sustain_level = min(t.sustain_level, level)
        if dev < t.sustain_bps:
            t.sustain_shown, t.sustain_bps = obs.shown, dev
        return (
            t.sustain_pages >= max(SUSTAIN_PAGES, t.sustain_other) and obs.ts - t.sustain_start >= SUSTAIN_MS
        )

    @staticmethod
    def _split(t: PegTrack, obs: Observation, level: int) -> None:
        """In ``ok`` or ``unknown`` for ``SOURCES_DISAGREE``: count a judged page into the pages
        beyond the critical level that keep coming (each at most ``SUSTAIN_GAP_MS`` after the one
        before), or into the other pages between them. Pages at the warn level on the way down
        count as others, so a depeg that ramps through warn beside a mirror is judged as one that
        jumps."""
        if level < 2:
            if t.split_start >= 0:
                t.split_other += 1
            return
        if t.split_start < 0 or obs.ts - t.split_last > SUSTAIN_GAP_MS:
            t.split_start, t.split_pages, t.split_other = obs.ts, 0, 0
            t.split_price, t.split_varied = obs.price, False
        elif obs.price != t.split_price:
            t.split_varied = True
        t.split_last = obs.ts
        t.split_pages += 1

    @staticmethod
    def _disagree(t: PegTrack, obs: Observation) -> bool:
        """In ``ok``: have pages beyond the critical level, at more than one price, kept coming for
        ``DISAGREE_MS`` (``_split``) while outnumbered (they confirmed nothing), but by no more than
        ``DISAGREE_OUTNUMBERED`` to 1? See ``SOURCES_DISAGREE``."""
        return (
            t.state == "ok"
            and t.split_varied
            and t.split_pages >= SUSTAIN_PAGES
            and t.split_pages * DISAGREE_OUTNUMBERED >= t.split_other
            and obs.ts - t.split_start >= DISAGREE_MS
        )

    def _sources_disagree(self, spec: PegSpec, t: PegTrack, obs: Observation) -> PegEvent:
        """``ok`` -> ``unknown`` for ``SOURCES_DISAGREE`` (the pages of another coin between do not
        change the reason, a missing reference does: ``_unjudged``). The run of pages beyond is
        kept: while they come, the state stays (``_leave_unknown``)."""
        t.unknown_reason = SOURCES_DISAGREE
        t.state = UNKNOWN
        t.unknown_since = obs.ts
        t.sound_since = -1
        return self._event(spec, t, obs, "change", "ok", UNKNOWN, episode=False)

    @staticmethod
    def _confirm_from_trailing(spec: PegSpec, t: PegTrack, level: int) -> None:
        """After entering ``level``, the confirmation of a higher one starts at the trailing
        consecutive judged ticks already beyond it (the tick that entered included): they count
        as they would from any lower state. A confirmation spanning ``confirm_s`` would have
        entered that level already, so the run lies within ``recent``."""
        t.confirm_ticks = 0
        for ts, _shown, judged in reversed(t.recent):
            reached = _level(spec, abs(judged))
            sign = 1 if judged > 0 else -1
            if reached <= level or (t.confirm_ticks and sign != t.confirm_sign):
                break
            t.confirm_sign = sign
            t.confirm_level = reached if t.confirm_ticks == 0 else min(t.confirm_level, reached)
            t.confirm_start = int(ts)
            t.confirm_ticks += 1

    def _exit(self, spec: PegSpec, t: PegTrack, obs: Observation, cur: int, dev: float) -> PegEvent | None:
        # Which lower state does this tick allow? Exit levels are below entry levels (hysteresis).
        allowed = cur
        if dev < spec.warn_exit_bps:
            allowed = 0
        elif cur == 2 and dev < spec.critical_exit_bps:
            allowed = 1
        if allowed >= cur:
            t.streak_ticks = 0
            self._hold(t, obs)
            return None
        if t.streak_ticks == 0:
            t.streak_start = obs.ts
            t.streak_level = allowed
            t.fine_ticks = 0
        else:
            t.streak_level = max(t.streak_level, allowed)
        t.streak_ticks += 1
        coarse = self._coarse(spec, obs, cur, allowed)
        if not coarse:
            if t.fine_ticks == 0:
                t.fine_start = obs.ts
            t.fine_ticks += 1
        min_ticks = self.cfg.min_exit_ticks
        if t.streak_ticks < min_ticks or obs.ts - t.streak_start < self.exit_ms:
            return None
        # A page too coarse to show the price inside the exit level is no evidence of a return
        # (nor against one: it is inside by its judged deviation). The fine pages of the streak
        # confirm the exit by the usual rule on their own; coarse pages alone, once the streak
        # spans coarse_exit_factor x min_exit_duration_s.
        fine = not coarse and t.fine_ticks >= min_ticks and obs.ts - t.fine_start >= self.exit_ms
        if not fine and obs.ts - t.streak_start < self.coarse_exit_ms:
            return None
        overdue = min(t.hold_gap * HOLD_OVERDUE, SUSTAIN_GAP_MS)
        if t.hold_ts >= 0 and obs.ts - t.hold_ts < overdue and not self._outvoted(spec, t, cur):
            # The pages that kept the state are not overdue yet, nor outnumbered: a stale mirror's
            # two pages at the peg between a live site's pages (10 minutes apart) are no way back.
            return None
        t.streak_ticks = 0
        prev = t.state
        t.state = _LEVELS[t.streak_level]
        # Pages beyond the state left confirm nothing about a later one.
        t.sustain_start, t.beyond, t.beyond_recent, t.hold_ts = -1, None, [], -1
        if t.streak_level:
            return self._event(spec, t, obs, "change", prev, t.state, episode=True)
        back = t.inside_since if t.inside_since >= 0 else t.streak_start
        duration = (back - t.episode_start) / 1000
        ev = self._event(spec, t, obs, "change", prev, t.state, episode=True, duration=duration)
        self._reset_episode(t)
        return ev

    @staticmethod
    def _outvoted(spec: PegSpec, t: PegTrack, cur: int) -> bool:
        """Do the judged pages of the last ``EXIT_VOTE_MS`` that allow a lower state than ``cur``
        outnumber those that do not? Then the pages keeping the state are a minority (a mirror
        stuck at the depeg price beside a live site back at the peg), which must not hold it."""
        exit_bps = spec.critical_exit_bps if cur >= 2 else spec.warn_exit_bps
        lower = sum(1 for r in t.window if abs(r[2]) < exit_bps)
        return 2 * lower > len(t.window)

    @staticmethod
    def _hold(t: PegTrack, obs: Observation) -> None:
        """Count a judged page that keeps the state (allows no lower one)."""
        t.hold_gap = obs.ts - t.hold_ts if t.hold_ts >= 0 else 0
        t.hold_ts = obs.ts

    @staticmethod
    def _coarse(spec: PegSpec, obs: Observation, cur: int, allowed: int) -> bool:
        """Is one price step of this page wider than the gap between a level it leaves and that
        level's exit level? Then the page cannot tell a price back inside the exit level from one
        still at the entry level: USDT at a true $1.004 in cents reads $1.01 (judged 50 bps: warn)
        or $1.00 (judged 0: inside 25), so hysteresis alone would flap with the rounding."""
        gap = math.inf
        if allowed == 0:
            gap = spec.warn_bps - spec.warn_exit_bps
        if cur == 2:
            gap = min(gap, spec.critical_bps - spec.critical_exit_bps)
        return obs.step_bps > gap

    def _update(
        self, spec: PegSpec, t: PegTrack, obs: Observation, held: tuple[float, float] | None
    ) -> PegEvent | None:
        step = self.cfg.update_step_bps
        # Levels are multiples of the step (400, 500, ... bps), so updates read as round numbers
        # and do not drift with where the episode happened to start, and at least a quarter step
        # beyond the deepest reported: an entry confirmed at -296 then `deepened` at -301 a page
        # later was the grid's artefact, not news. Only a confirmed (held) deviation counts: one
        # bad page is no deepening.
        rep = t.reported_bps
        if step and held is not None and held[1] >= max((math.floor(rep / step) + 1) * step, rep + step / 4):
            t.reported_bps = held[1]
            return self._event(spec, t, obs, "deepened", t.state, t.state, episode=True)
        return self._reminder(spec, t, obs)

    def _reminder(self, spec: PegSpec, t: PegTrack, obs: Observation) -> PegEvent | None:
        if not self.reminder_ms or obs.ts - t.last_event_ts < self.reminder_ms:
            return None
        state: PegState = t.state  # type: ignore[assignment]
        if state == UNKNOWN and obs.reason is None and t.unknown_reason is None:
            return None  # restored from a state that did not keep the reason: the next unjudged tick
        return self._event(spec, t, obs, "reminder", state, state, episode=state != UNKNOWN)

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _open_episode(t: PegTrack, start: int, worst: float, dev: float) -> None:
        t.episode_start = start
        t.worst_bps = t.worst_seen_bps = worst
        t.reported_bps = dev
        t.inside_since = -1
        t.streak_ticks = 0

    @staticmethod
    def _reset_episode(t: PegTrack) -> None:
        t.episode_start = -1
        t.worst_bps = t.worst_seen_bps = 0.0
        t.reported_bps = 0.0
        t.inside_since = -1
        t.streak_ticks = 0
        t.confirm_ticks = 0

    def _event(
        self,
        spec: PegSpec,
        t: PegTrack,
        obs: Observation,
        kind: PegKind,
        prev: str,
        state: str,
        *,
        episode: bool,
        duration: float | None = None,
    ) -> PegEvent:
        t.last_event_ts = obs.ts
        unknown = state == UNKNOWN
        reason = (obs.reason or t.unknown_reason) if unknown else None
        return PegEvent(
            symbol=spec.symbol,
            ts=obs.ts,
            kind=kind,
            peg=spec.peg,
            target=None if obs.target is None or unknown else round(obs.target, 10),
            price=obs.price,
            ref_price=obs.ref_price,
            ref_age_s=None if obs.ref_age_s is None else round(obs.ref_age_s, 3),
            deviation_bps=None if obs.shown is None or unknown else round(obs.shown, 2),
            judged_bps=None if obs.judged is None or unknown else round(obs.judged, 2),
            state=state,  # type: ignore[arg-type]
            prev_state=prev,  # type: ignore[arg-type]
            episode_id=episode_id(spec.symbol, t.episode_start) if episode else None,
            episode_start=t.episode_start if episode else None,
            worst_bps=round(t.worst_bps, 2) if episode else None,
            duration_s=duration,
            unknown_reason=reason,  # type: ignore[arg-type]
        )
