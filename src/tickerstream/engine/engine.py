"""``Engine``: a batch of ticks in, move and peg events out, on event time only.

Same ticks in, same events out, byte for byte, however the stream is cut into batches: every tick
is evaluated in its place in the stream (moves per symbol in ts order, pegs in stream order with a
tick-by-tick watermark), and each call returns its events sorted by (ts, symbol, type, horizon).

A series is (symbol, coin id, quote currency) (``series``): a window never mixes two coins that share
a ticker, or two quotes of one coin. Hot path for a batch of n ticks: one dict lookup per tick
(symbol -> its first series' row) and a vectorised check of quote and coin id, then numpy over the whole
batch: a stable argsort by row, late/duplicate filtering, the price quantum (given, or estimated
per series), an exact segmented recurrence for the time-based EWMA volatility, per move horizon two
vectorised binary searches per row plus one packed searchsorted for the as-of anchor at ``ts - h``
in that horizon's time-bucketed ring, and a scatter into the rings. Python touches only the ticks
that could fire a move and the ticks of pegged/reference symbols. Semantics: docs/moves.md.

Memory at the defaults (capacity 256, rings for 1 h and 24 h): about 13 KB per series (2 x 256 x
25 B of rings, ~150 B of per-series state, ~100 B for its key and dict entries), so 10,000 series
take about 130 MB; rows grow by half, so up to 1.5x the rows in use may be allocated
(``bench/bench_engine.py --symbols 10000 --ticks 400000``: 10,000 rows, 12,979 B each, 129.8 MB).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.engine import checkpoint
from tickerstream.engine.batch import TickBatch
from tickerstream.engine.config import EngineConfig
from tickerstream.engine.drops import RunState, judge_drops
from tickerstream.engine.grouping import NO_TS, Grouped, group_and_accept
from tickerstream.engine.lone import REPEAT_STEPS, pair_span_ms, repeats_of_lone_prints
from tickerstream.engine.moves import MoveDetector
from tickerstream.engine.pegfeed import NONE, PegFeed
from tickerstream.engine.pegs import PegMonitor, PegStatus
from tickerstream.engine.quality import BASE_WINDOW_MS, DAY_MS, ChangeCheck, DayAnchor
from tickerstream.engine.quanta import quantum_exponents
from tickerstream.engine.registry import load_coin_pins, load_registry
from tickerstream.engine.scale import RowState, ScaleVerdict, without
from tickerstream.engine.series import AMBIGUOUS, OVER_LIMIT, SeriesIndex, SeriesKey
from tickerstream.engine.stale import FrozenRuns, StaleVerdict, frozen_runs
from tickerstream.engine.stats import EngineStats
from tickerstream.engine.summary import WindowStats, window_stats
from tickerstream.engine.windows import Windows
from tickerstream.events import Event, PegEvent, SourceEvent, SourceKind, event_sort_key

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
log = logging.getLogger(__name__)
#: ``windows.stale_after_s = 0`` (off): runs are still kept, no run is ever this long.
_NEVER_STALE_MS = 2**62


class Engine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = cfg = config or EngineConfig()
        self._stats = EngineStats()
        self.series = SeriesIndex(cfg.windows.max_series)
        self._limit_logged = False
        horizons = (
            [cfg.windows.horizon_s, *cfg.moves.horizons_s] if cfg.moves.enabled else [cfg.windows.horizon_s]
        )
        # The volatility leaves out lone prints as far off both neighbours as the smallest move
        # threshold (docs/moves.md): one misparsed page must not set sigma for days.
        self.windows = Windows(
            horizons,
            cfg.windows.capacity,
            cfg.moves.anchor_slack,
            cfg.moves.ewma_halflife_s,
            lone=(min(cfg.moves.threshold_pct) / 100.0, cfg.moves.recede_ratio),
        )
        self.moves = MoveDetector(cfg.moves, self.windows.rows)
        self.quality = ChangeCheck(self.windows.rows)
        # The page's 24 h change is checked against the ring of exactly one day, when there is one.
        self._has_day_ring = DAY_MS in {r.horizon_ms for r in self.windows.rings}
        self._floor_rate = cfg.moves.sigma_floor_daily**2 / 86_400.0
        # A move is never measured from a lone print (engine/lone.py): far as its horizon's threshold
        # off both neighbours, which agree. At the smallest threshold any symbol has: a symbol's own
        # below the horizon's would otherwise take a print within it for an anchor, and measure a
        # false move from it.
        mc = cfg.moves
        self._lone = {
            h * 1000: (
                min([thr, *(t[i] for t in mc.symbol_threshold_pct.values())]) / 100.0,
                mc.recede_ratio,
                pair_span_ms(h * 1000),
            )
            for i, (h, thr) in enumerate(zip(mc.horizons_s, mc.threshold_pct, strict=True))
            if mc.enabled
        }
        # A repeated lone print is judged at the smallest lone distance, on the shortest ring
        # (``_repeated_prints``).
        self._repeat_x = min((lone[0] for lone in self._lone.values()), default=math.inf)
        self._shortest_ring = int(np.argmin([r.horizon_ms for r in self.windows.rings]))
        registry = load_registry(cfg.pegs) if cfg.pegs.enabled else {}
        self.pegs = PegMonitor(cfg.pegs, registry, self._stats)
        pins = load_coin_pins(cfg.pegs) if cfg.pegs.enabled else {}
        self._peg_feed = PegFeed(self.pegs, self.series, pins, self.windows.rows, self._stats)
        self._watermark = NO_TS
        self._touched: I64 = np.empty(0, dtype=np.int64)
        self._coarse: set[SeriesKey] = set()  # series already reported as having a too coarse quantum
        self._last_rows: I64 = np.zeros(0, dtype=np.int64)  # per tick of the last batch (< 0: dropped)
        self._last_mask: npt.NDArray[np.bool_] | None = None  # last_reference_mask of a split batch

    # --- input -----------------------------------------------------------------------------------

    def process(self, batch: TickBatch) -> list[Event]:
        """Append a batch (ticks in stream order) and return its events (moves, peg events, quality
        events), sorted by ``event_sort_key``. Late ticks, duplicates and ticks no series can take
        (ambiguous, over the series limit) are dropped and counted."""
        self._last_mask = None
        if len(batch) == 0:
            self._last_rows = np.zeros(0, dtype=np.int64)
            return []
        rows, changed, cut = self.series.rows(batch.symbols, batch.currency, batch.coin_ids)
        if changed:
            self._series_changed(changed)
        if cut is None:
            return self._process_rows(batch, rows)
        # A tick re-identifies the series of a symbol with earlier ticks in this batch: the batch is
        # processed in parts, each as a batch of its own (``SeriesIndex.rows``), so that its events
        # do not depend on where the stream was cut. Each part keeps its own reference mask.
        events: list[Event] = []
        all_rows, masks = [], []
        while cut is not None:
            events += self._process_rows(batch.take(np.arange(cut, dtype=np.int64)), rows[:cut])
            all_rows.append(self._last_rows)
            masks.append(self.last_reference_mask)
            batch = batch.take(np.arange(cut, len(batch), dtype=np.int64))
            rows, changed, cut = self.series.rows(batch.symbols, batch.currency, batch.coin_ids)
            if changed:
                self._series_changed(changed)
        events += self._process_rows(batch, rows)
        self._last_mask = np.concatenate([*masks, self.last_reference_mask])
        self._last_rows = np.concatenate([*all_rows, self._last_rows])
        events.sort(key=event_sort_key)
        return events

    def _process_rows(self, batch: TickBatch, rows: I64) -> list[Event]:
        """``process`` of a batch whose rows are resolved and whose series need no cut."""
        n = len(batch)
        st = self._stats
        st.ticks += n
        self._last_rows = rows
        dropped = rows < 0
        full, keep, unjudged = batch, None, NONE
        if dropped.any():
            # A tick without a coin id on a shared ticker: whose price is it? Not guessed. A pegged
            # symbol's is still a page its peg could not be judged on (``_unjudgeable``).
            ambiguous = rows == AMBIGUOUS
            st.ambiguous_series += int(np.count_nonzero(ambiguous))
            self._count_over_limit(int(np.count_nonzero(rows == OVER_LIMIT)))
            unjudged = self._peg_feed.unjudgeable(batch, ambiguous)
            keep = np.flatnonzero(~dropped)
            rows, batch = rows[keep], batch.take(keep)
            if len(batch) == 0:
                if unjudged.size == 0:
                    return []
                pegged = self._peg_feed.run(full, keep, NONE, unjudged, self._watermark)
                return sorted(pegged, key=event_sort_key)
        win = self.windows
        g = group_and_accept(rows, batch.ts, batch.price, batch.quantum, win.last_ts)
        # The peg monitor takes a frozen source's repeats (``seen``): for a reference they say the
        # source is alive (its age runs from the last change), and they are published to other instances.
        seen = g
        events: list[Event] = []
        if len(g):
            seen, g = self._drop_jumps_and_repeats(g, batch, rows, keep, events)
        st.late += g.late
        st.duplicates += g.duplicates
        st.accepted += len(g)
        if len(g):
            q = win.quantum(g)
            kept = win.kept(g)
            before, own = win.returns_and_vol(g, q, kept[-1])
            var_rate, n_before = before.rate, before.n
            # The variance a later move may be judged by (at its anchor): the one known once the
            # anchor's price is, its own return included (a rebound measured from a crash's low is
            # judged with the crash counted, as from the tick after it); only once it rests on at
            # least one half-life of history and zscore_min_returns returns, else that move has no z
            # (fewer returns, e.g. ten rather than a half-life's, gave 1.5-2x the |z| >= 4 episodes
            # under calm GBM in the scorecard: too noisy an estimate to call a move unusual).
            mature = (own.n >= self.config.moves.zscore_min_returns) & (own.weight >= 0.5)
            v_anchor = np.where(mature, own.rate, np.nan)
            # Ring points keep the quantum their source showed; an estimated one (NO_Q) is not
            # stored, since the estimate only gets finer and then holds for the older points too.
            qexp = quantum_exponents(g.quantum)
            anchors: dict[int, tuple[I64, F64, F64, F64]] = {}

            def anchor(h_ms: int) -> tuple[I64, F64, F64, F64]:
                """As-of point at ts - h per tick (one search per horizon, shared by its users); after
                a gap over ts - h, the first point back (the 24 h check leaves those out)."""
                if h_ms not in anchors:
                    k = next(i for i, r in enumerate(win.rings) if r.horizon_ms == h_ms)
                    window = int(h_ms * (1.0 + self.config.moves.anchor_slack))
                    anchors[h_ms] = win.asof(
                        win.rings[k], g, kept[k], g.ts - h_ms, v_anchor, qexp, self._lone.get(h_ms), window
                    )
                return anchors[h_ms]

            s = self.series
            if self.config.moves.enabled and self.moves.horizons_ms:
                per_h = [anchor(h_ms) for h_ms in self.moves.horizons_ms]
                repeats = self._repeated_prints(g, q, kept)
                moves = self.moves.detect(
                    g, q, n_before, per_h, win.last_ts, s.symbol, s.coin, s.quote, repeats
                )
                st.moves += len(moves)
                events.extend(moves)
                self._note_coarse(g, q)
            if batch.change is not None and batch.change_signed is not None and self._has_day_ring:
                k = next(i for i, r in enumerate(win.rings) if r.horizon_ms == DAY_MS)
                ring, at = win.rings[k], g.ts - DAY_MS
                later = win.asof(ring, g, kept[k], at + BASE_WINDOW_MS, v_anchor, qexp)
                earlier = win.asof(ring, g, kept[k], at - BASE_WINDOW_MS, v_anchor, qexp)
                day = self._day_anchor(g, q, anchor(DAY_MS), earlier, later, var_rate)
                change, signed = batch.change[g.order], batch.change_signed[g.order]
                checked = self.quality.check(g, q, change, signed, day, (s.symbol, s.coin, s.quote), st)
                st.quality += len(checked)
                events.extend(checked)
            st.evicted += win.write(g, kept, v_anchor, qexp)
            self._touched = g.seg_rows
        feed = self._peg_feed
        relevant = feed.relevant[seen.seg_rows]
        pos = np.sort(seen.order[seen.per_tick(relevant)]) if relevant.any() else seen.order[:0]
        shared = feed.unjudgeable_rows[seen.seg_rows]
        if shared.any():  # pages of a pegged symbol two unpinned coins share (``PegFeed.choose``)
            at = np.sort(seen.order[seen.per_tick(shared)])
            unjudged = np.union1d(unjudged, at if keep is None else keep[at])
        events.extend(feed.run(full, keep, pos if keep is None else keep[pos], unjudged, self._watermark))
        self._watermark = max(self._watermark, int(batch.ts.max()))
        events.sort(key=event_sort_key)
        return events

    def _repeated_prints(
        self, g: Grouped, q: F64, kept: list[npt.NDArray[np.bool_]]
    ) -> npt.NDArray[np.bool_] | None:
        """Per tick, whether it repeats a lone print of its series: far from the tick before it, at
        exactly the price of points of the shortest ring that were far off both their neighbours
        while those agreed, ``REPEAT_PRINTS`` times (``repeats_of_lone_prints``). A stale mirror
        between a live site's pages, paging every quarter hour after a crash, read +40 % each time,
        a `new` every 30-60 minutes once the live pages re-armed the detector. Only on pages whose
        quantum ``q`` is at most a tenth of the distance (``REPEAT_STEPS``): on coarser ones one
        price recurs by chance (a coin at $0.000019 in six decimals has a handful of shown
        prices). None: no tick does.

        With ``moves.spike_hold_s`` on, such a page waits for the next one, which is far from it
        (``spike.py``), and its repeats must not be taken for it: the live site a mirror
        outnumbers shows a crash at one price twice, the first page held, the second the one that
        reports it."""
        if self.config.moves.spike_hold_s > 0:
            return None
        x, agree, win = self._repeat_x, self.config.moves.recede_ratio, self.windows
        # Far from the tick before: |p - prev| >= x * min(p, prev), as one ratio (a tick a pass).
        ratio = np.empty(len(g), dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(g.price[1:], g.price[:-1], out=ratio[1:])
            ratio[g.starts] = g.price[g.starts] / win.last_price[g.seg_rows]
            cand = np.flatnonzero((ratio >= 1.0 + x) | (ratio * (1.0 + x) <= 1.0))
            cand = cand[q[cand] * REPEAT_STEPS <= g.price[cand] * x]
        if not cand.size:
            return None
        k = self._shortest_ring
        hits = repeats_of_lone_prints(win.held(win.rings[k], g, kept[k]), g, cand, x, agree)
        if not hits.size:
            return None
        out = np.zeros(len(g), dtype=bool)
        out[cand[hits]] = True
        return out

    def _drop_jumps_and_repeats(
        self, g: Grouped, batch: TickBatch, rows: I64, keep: I64 | None, events: list[Event]
    ) -> tuple[Grouped, Grouped]:
        """Scale jumps, then stale repeats, judged together as tick by tick would (``engine/drops.py``:
        a dropped tick never hides a later one) and dropped. Returns the ticks less the scale jumps
        (the peg monitor's) and the ticks taken."""
        win = self.windows
        prior = self._peg_feed.scale_prior
        state = RowState(win.last_price, win.last_ts, win.held_price, win.held_ts, win.left_price, prior)
        stale_ms = self.config.windows.stale_after_s * 1000 or _NEVER_STALE_MS
        drops = judge_drops(g, batch, rows, state, RunState(win.run_since, win.run_repeats, stale_ms))
        if drops.scale is not None:
            self._drop_scale_jumps(drops.scale, keep)
        if drops.stale is None:  # every tick a scale jump
            return drops.seen, drops.seen
        return drops.seen, self._drop_stale_repeats(drops.seen, drops.stale, events)

    def _drop_scale_jumps(self, verdict: ScaleVerdict, keep: I64 | None) -> None:
        """A tick at 8x or an eighth of its series' last taken one is a misparse until a second page
        at its scale confirms it (``engine/scale.py``): dropped and counted, never a point, a move
        or a reference price for other instances."""
        win = self.windows
        win.held_price[verdict.rows] = verdict.held
        win.held_ts[verdict.rows] = verdict.held_ts
        win.left_price[verdict.rows] = verdict.left
        if verdict.dropped.size:
            self._stats.scale_jumps += int(verdict.dropped.size)
            pos = verdict.dropped
            self._last_rows[pos if keep is None else keep[pos]] = -1

    def _drop_stale_repeats(self, g: Grouped, verdict: StaleVerdict, events: list[Event]) -> Grouped:
        """A tick repeating a precise price its series has shown for ``windows.stale_after_s`` is a
        frozen source's (``engine/stale.py``): dropped and counted, never a point, a move or a 24 h
        check (the peg monitor still sees it). The runs are kept whether the rule is on or off, so
        turning it on never judges a run by an old start. A run found frozen, and the changed
        price that resumes it, are source events (appended to ``events``). Returns ``g`` less the
        dropped repeats."""
        win = self.windows
        runs = frozen_runs(g, verdict.drop, win.last_price, win.run_since, win.run_frozen)
        win.run_since[g.seg_rows] = verdict.run_since
        win.run_repeats[g.seg_rows] = verdict.run_repeats
        win.run_frozen[g.seg_rows] = runs.run_frozen
        if runs.frozen_at.size or runs.resumed_at.size:
            events.extend(self._source_events(g, runs))
        if verdict.drop is None:
            return g
        self._stats.stale_repeats += int(np.count_nonzero(verdict.drop))
        return without(g, verdict.drop)

    def _source_events(self, g: Grouped, runs: FrozenRuns) -> list[SourceEvent]:
        """The frozen and resumed events of a batch (counted in the stats), each frozen one logged."""
        s = self.series

        def event(i: int, kind: SourceKind, frozen_price: float, since: int) -> SourceEvent:
            row = int(g.rows[i])
            ts, px = int(g.ts[i]), float(g.price[i])
            return SourceEvent(s.symbol[row], s.coin[row], s.quote[row], ts, kind, px, frozen_price, since)

        out: list[SourceEvent] = []
        for i, since in zip(runs.frozen_at.tolist(), runs.frozen_since.tolist(), strict=True):
            out.append(event(i, "frozen", float(g.price[i]), since))
            log.warning(
                "engine.frozen_source series=%s price=%r since=%d: the same precise price for "
                "windows.stale_after_s; its repeats are dropped until it changes",
                s.key(int(g.rows[i])),
                float(g.price[i]),
                since,
            )
        resumed = (runs.resumed_at.tolist(), runs.resumed_from.tolist(), runs.resumed_since.tolist())
        out += [event(i, "resumed", was, since) for i, was, since in zip(*resumed, strict=True)]
        self._stats.sources += len(out)
        return out

    def _day_anchor(
        self,
        g: Grouped,
        q: F64,
        at_day: tuple[I64, F64, F64, F64],
        an_hour_earlier: tuple[I64, F64, F64, F64],
        an_hour_later: tuple[I64, F64, F64, F64],
        var_rate: F64,
    ) -> DayAnchor:
        """What the 24 h change check compares the page with: the as-of point a day back (within
        the anchor slack), the ones an hour before and after it (sources take their base at
        different times: the first price after a day back, the open of the hourly candle holding
        it), the coarsest quantum of those prices and the tick's, and the variance rate (floored).
        The point an hour before counts only if it is at most an hour older than that (not a
        price from before a gap), and the first point back after a gap is no day-back price."""
        a_ts, a_px, _, a_q = at_day
        e_ts, earlier_px, _, earlier_q = an_hour_earlier
        _, later_px, _, later_q = an_hour_later
        slack = int(DAY_MS * (1.0 + self.config.moves.anchor_slack))
        a_ts = np.where((a_ts >= g.ts - slack) & (a_ts <= g.ts - DAY_MS), a_ts, NO_TS)
        recent = (e_ts != NO_TS) & (e_ts >= g.ts - DAY_MS - 2 * BASE_WINDOW_MS)
        earlier_px = np.where(recent, earlier_px, np.nan)
        base_q = np.fmax(np.fmax(np.fmax(a_q, later_q), np.where(recent, earlier_q, np.nan)), q)
        rate = np.maximum(var_rate, self._floor_rate)
        return DayAnchor(a_ts, a_px, earlier_px, later_px, base_q, rate)

    @property
    def last_reference_mask(self) -> npt.NDArray[np.bool_]:
        """Per tick of the last ``process`` call: is it a point of a reference series (``BTC`` in USD
        for WBTC)? The processor publishes exactly those to other instances. (Computed on demand:
        a replay never asks.)"""
        if self._last_mask is not None:  # a batch processed in two parts, each with its own flags
            return self._last_mask
        rows = self._last_rows
        mask: npt.NDArray[np.bool_] = self._peg_feed.reference[np.maximum(rows, 0)] & (rows >= 0)
        return mask

    def _count_over_limit(self, n: int) -> None:
        """Ticks of new series past ``windows.max_series``: counted, and logged once per engine."""
        if n == 0:
            return
        self._stats.series_limit += n
        if not self._limit_logged:
            self._limit_logged = True
            log.warning(
                "engine.series_limit max_series=%d: ticks of new series are dropped (counted in "
                'ticker_engine_dropped_ticks_total{reason="series_limit"}); raise windows.max_series '
                "if this many series are real (about 13 KB each)",
                self.series.max_series,
            )

    def _series_changed(self, symbols: set[str]) -> None:
        """New or re-identified series: make room for them, and decide which of them pegs judge."""
        if self.series.size > self.windows.rows:
            self.windows.grow(self.series.size)
            self.moves.grow(self.windows.rows)
            self.quality.grow(self.windows.rows)
            self._peg_feed.grow(self.windows.rows)
        for symbol in sorted(symbols):
            self._peg_feed.choose(symbol)
        self._stats.symbols = len(self.series)

    def _note_coarse(self, g: Grouped, q: F64) -> None:
        """Series whose price quantum is at least the smallest move threshold: the display cannot
        show a move of that size, so no threshold alert can be trusted and none is sent on rounding.
        Counted (``stats.coarse_quantum``) and logged once per series, never alerted."""
        with np.errstate(invalid="ignore", divide="ignore"):
            coarse = q / g.price * 100.0 >= min(self.config.moves.threshold_pct)
        if not coarse.any():
            return
        for row in np.unique(g.rows[coarse]).tolist():
            key = self.series.key(row)
            if key not in self._coarse:
                self._coarse.add(key)
                i = int(np.flatnonzero(coarse & (g.rows == row))[0])
                # stdlib logging (rendered like ours by log.configure_logging): a log call from
                # the engine must never raise into the hot path, whatever the handler's stream.
                log.warning(
                    "engine.coarse_quantum series=%s price=%r quantum=%r: one price step >= the move "
                    "threshold; its rounding is not reported as a move",
                    key,
                    float(g.price[i]),
                    float(q[i]),
                )
        self._stats.coarse_quantum = len(self._coarse)

    def observe_reference(self, symbols: Sequence[str], ts: Any, prices: Any) -> list[Event]:
        """Reference prices from outside (the Kafka reference-price topic: BTC may be owned by another
        instance). Updates the as-of reference store only (no windows, no moves, no watermark) and
        may release held pegged ticks. Symbols no peg refers to are ignored."""
        out: list[PegEvent] = []
        refs = self.pegs.by_ref
        for sym, t, p in zip(symbols, np.asarray(ts).tolist(), np.asarray(prices).tolist(), strict=True):
            if sym in refs:
                self.pegs.add_reference(sym, int(t), float(p), out)
        events: list[Event] = list(out)
        events.sort(key=event_sort_key)
        return events

    def set_reference_horizons(self, horizons: Mapping[str, int | None]) -> list[Event]:
        """Per reference symbol: every point of it with a smaller ts is known (``observe_reference``
        or this engine's own ticks); None lifts the cap. A held pegged tick is then released by the
        watermark only below its reference's horizon, so ticks of other symbols may run ahead
        without deciding it early. Returns the events of ticks this releases now. A replay never
        calls it: its stream carries the reference, and the watermark alone is exact there."""
        out: list[PegEvent] = []
        self.pegs.set_horizons(horizons, self._watermark, out)  # all of them, then one release
        events: list[Event] = list(out)
        events.sort(key=event_sort_key)
        return events

    def blocked_references(self) -> set[str]:
        """References whose horizon alone holds a pegged tick the watermark would have released."""
        return self.pegs.blocked(self._watermark)

    def flush(self) -> list[Event]:
        """End of input (replay end): judge every held pegged tick with whatever reference is fresh."""
        events: list[Event] = list(self.pegs.flush())
        events.sort(key=event_sort_key)
        return events

    # --- state -----------------------------------------------------------------------------------

    def checkpoint(self, symbols: Iterable[str] | None = None) -> bytes:
        """Versioned bytes (npz + JSON) of all state for ``symbols`` (None = all; every series of
        each): windows, move detectors, peg episodes, held ticks, plus every reference history and
        the watermark."""
        symbols = None if symbols is None else list(symbols)
        wanted_symbols = self.series.symbols() if symbols is None else sorted(set(symbols))
        # Ordered by series key, not row: the bytes must not depend on the rows an engine used.
        keyed = sorted(
            ((self.series.key(r), r) for s in wanted_symbols for r in self.series.rows_of(s)),
            key=lambda kr: tuple("" if part is None else part for part in kr[0]),
        )
        rows = np.array([r for _, r in keyed], dtype=np.int64)
        wanted = None if symbols is None else set(wanted_symbols)
        return checkpoint.dump(
            self.windows,
            self.moves,
            self.quality,
            [k for k, _ in keyed],
            rows,
            self.pegs.export(wanted),
            self._watermark,
        )

    def restore(self, data: bytes) -> None:
        """Merge a checkpoint: the series of the symbols in ``data`` replace ours, others are untouched."""
        keys, arrays, pegs, watermark = checkpoint.load(data, self.config)
        self.pegs.merge(pegs)  # first: it refuses unreadable peg state before anything changes
        symbols = {k[0] for k in keys}
        self._forget(symbols)
        rows = np.array([self.series.row_for(k) for k in keys], dtype=np.int64)
        self._series_changed(symbols)
        checkpoint.restore_rows(self.windows, self.moves, self.quality, rows, arrays)
        self._watermark = max(self._watermark, watermark)

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget symbols, every series of each (partitions revoked); their rows are reused."""
        names = set(symbols)
        self._forget(names)
        self.pegs.drop(sorted(names))
        self._stats.symbols = len(self.series)

    def _forget(self, symbols: set[str]) -> None:
        rows = np.array(self.series.drop(symbols), dtype=np.int64)
        self.windows.reset(rows)
        self.moves.reset(rows)
        self.quality.reset(rows)
        self._peg_feed.forget(rows, symbols)
        self._touched = np.setdiff1d(self._touched, rows)
        self._coarse = {k for k in self._coarse if k[0] not in symbols}
        self._stats.coarse_quantum = len(self._coarse)

    # --- cheap accessors for metrics -------------------------------------------------------------

    @property
    def stats(self) -> EngineStats:
        return self._stats

    @property
    def watermark(self) -> int | None:
        """Largest tick ts processed (ms), or None before the first tick."""
        return None if self._watermark == NO_TS else self._watermark

    def symbols(self) -> list[str]:
        return self.series.symbols()

    def window_fill(self) -> float:
        """Mean fraction of ring capacity in use over all series (0.0 with none)."""
        rows = np.flatnonzero(np.array(self.series.symbol, dtype=object) != "")
        if rows.size == 0:
            return 0.0
        ring = self.windows.ring(self.config.windows.horizon_s)
        cap = ring.capacity
        return float(np.minimum(ring.count[rows], cap).mean() / cap)

    def last_price(self, symbol: str) -> float | None:
        """Latest price of the symbol's first series (per-symbol views: metrics, dashboards)."""
        r = self.series.home(symbol)
        return None if r is None or self.windows.last_ts[r] == NO_TS else float(self.windows.last_price[r])

    def last_ts(self, symbol: str) -> int | None:
        r = self.series.home(symbol)
        return None if r is None or self.windows.last_ts[r] == NO_TS else int(self.windows.last_ts[r])

    def peg_status(self, symbol: str) -> tuple[str, float] | None:
        """(state, deviation_bps of the last judged tick) of a pegged symbol, or None."""
        return self.pegs.status(symbol)

    def peg_report(self, symbol: str) -> PegStatus | None:
        """State, deviation, episode worst and reference age of a pegged symbol, or None."""
        return self.pegs.report(symbol)

    def window_stats(self, symbols: Iterable[str] | None = None) -> WindowStats:
        """Window statistics (last, min, max, mean, stdev of log returns, EWMA vol, price at ts - h)
        for ``symbols``, or for the symbols the last ``process`` call touched (None).

        Computed on demand, vectorised over the rows: it costs rows x capacity, which is more than
        the whole hot path per tick, so ``process`` keeps only what detection needs."""
        if symbols is None:
            rows = self._touched
        else:
            homes = (self.series.home(s) for s in symbols)
            rows = np.array([r for r in homes if r is not None], dtype=np.int64)
        return window_stats(
            self.windows,
            self.windows.ring(self.config.windows.horizon_s),
            self.moves,
            rows,
            [self.series.symbol[r] for r in rows.tolist()],
        )
