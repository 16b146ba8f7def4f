"""``Engine``: a batch of ticks in, move and peg events out, on event time only.

Same ticks in, same events out, byte for byte, however the stream is cut into batches: every tick
is evaluated in its place in the stream (moves per symbol in ts order, pegs in stream order with a
tick-by-tick watermark), and each call returns its events sorted by (ts, symbol, type, horizon).

Hot path for a batch of n ticks: one dict lookup per tick (symbol -> row), then numpy over the whole
batch: a stable argsort by row, late/duplicate filtering, the price quantum (given, or estimated
per series), an exact segmented recurrence for the time-based EWMA volatility, per move horizon two
vectorised binary searches per row plus one packed searchsorted for the as-of anchor at ``ts - h``
in that horizon's time-bucketed ring, and a scatter into the rings. Python touches only the ticks
that could fire a move and the ticks of pegged/reference symbols. Semantics: docs/moves.md.

Memory at the defaults (capacity 256, rings for 1 h and 24 h): about 12.4 KB per symbol (2 x 256 x
24 B of rings, ~100 B of per-symbol state, ~100 B for the symbol's name and dict entry), so 10,000
symbols take about 124 MB; rows grow by half, so up to 1.5x the rows in use may be allocated
(bench/bench_engine.py: 10,000 symbols -> 12,442 rows allocated, 154 MB of arrays).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.engine import checkpoint
from tickerstream.engine.batch import TickBatch
from tickerstream.engine.config import EngineConfig
from tickerstream.engine.moves import MoveDetector
from tickerstream.engine.pegs import PegMonitor, PegStatus
from tickerstream.engine.registry import load_registry
from tickerstream.engine.stats import EngineStats
from tickerstream.engine.summary import WindowStats, window_stats
from tickerstream.engine.windows import NO_TS, Grouped, Windows, group_and_accept
from tickerstream.events import Event, PegEvent, event_sort_key

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
log = logging.getLogger(__name__)


class Engine:
    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = cfg = config or EngineConfig()
        self._stats = EngineStats()
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._free: list[int] = []
        horizons = (
            [cfg.windows.horizon_s, *cfg.moves.horizons_s] if cfg.moves.enabled else [cfg.windows.horizon_s]
        )
        self.windows = Windows(
            horizons, cfg.windows.capacity, cfg.moves.anchor_slack, cfg.moves.ewma_halflife_s
        )
        self.moves = MoveDetector(cfg.moves, self.windows.rows)
        registry = load_registry(cfg.pegs) if cfg.pegs.enabled else {}
        self.pegs = PegMonitor(cfg.pegs, registry, self._stats)
        self._relevant = np.zeros(self.windows.rows, dtype=bool)  # row is pegged or a reference
        self._watermark = NO_TS
        self._touched: I64 = np.empty(0, dtype=np.int64)
        self._coarse: set[str] = set()  # series already reported as having a too coarse quantum
        self._quote = np.full(self.windows.rows, -1, dtype=np.int16)  # per row: quote id, -1 unknown
        self._quote_ids: dict[str, int] = {}
        self._quote_names: list[str] = []

    # --- input -----------------------------------------------------------------------------------

    def process(self, batch: TickBatch) -> list[Event]:
        """Append a batch (ticks in stream order) and return its events, sorted by (ts, symbol, type,
        horizon). Late ticks and duplicates are dropped and counted (see ``windows``)."""
        n = len(batch)
        st = self._stats
        st.ticks += n
        if n == 0:
            return []
        rows = self._rows_for(batch.symbols)
        if batch.currency is not None:
            rows, batch = self._one_quote(batch, rows)
            if len(batch) == 0:
                return []
        win = self.windows
        g = group_and_accept(rows, batch.ts, batch.price, batch.quantum, win.last_ts)
        st.late += g.late
        st.duplicates += g.duplicates
        st.accepted += len(g)
        events: list[Event] = []
        if len(g):
            q = win.quantum(g)
            kept = win.kept(g)
            var_rate, n_before, weight = win.returns_and_vol(g, q, kept[-1])
            # The variance a later move may be judged by (at its anchor): only once it rests on at
            # least one half-life of history, else that move uses the current estimate.
            mature = (n_before >= self.config.moves.zscore_min_returns) & (weight >= 0.5)
            v_anchor = np.where(mature, var_rate, np.nan)
            if self.config.moves.enabled and self.moves.horizons_ms:
                anchors = []
                for h_ms in self.moves.horizons_ms:
                    k = next(i for i, r in enumerate(win.rings) if r.horizon_ms == h_ms)
                    anchors.append(win.asof(win.rings[k], g, kept[k], g.ts - h_ms, v_anchor))
                quotes: list[str | None] = [None, *self._quote_names]  # by quote id + 1
                moves = self.moves.detect(g, q, var_rate, n_before, anchors, self._names, self._quote, quotes)
                st.moves += len(moves)
                events.extend(moves)
                self._note_coarse(g, q)
            st.evicted += win.write(g, kept, v_anchor)
            self._touched = g.seg_rows
        events.extend(self._pegs_for(batch, rows, g.order))
        self._watermark = max(self._watermark, int(batch.ts.max()))
        events.sort(key=event_sort_key)
        return events

    def _one_quote(self, batch: TickBatch, rows: I64) -> tuple[I64, TickBatch]:
        """Never mix quote currencies in one series: a series takes the currency of its first tick;
        a tick of the same symbol in another currency (BTC in EUR in a USD stream) is dropped and
        counted (``stats.foreign_quote``), never read as a -8 % move. Also keeps USD pegs to
        USD-quoted ticks."""
        cur = batch.currency
        assert cur is not None
        n = len(cur)
        if cur.count(cur[0]) == n:  # the usual case: one quote for the whole batch
            cid = np.full(n, self._quote_id(cur[0]), dtype=np.int16)
        else:
            cid = np.fromiter(map(self._quote_id, cur), dtype=np.int16, count=n)
        new = self._quote[rows] < 0
        if new.any():
            at = np.flatnonzero(new)
            first_rows, first_pos = np.unique(rows[at], return_index=True)
            self._quote[first_rows] = cid[at[first_pos]]
        foreign = cid != self._quote[rows]
        if not foreign.any():
            return rows, batch
        self._stats.foreign_quote += int(np.count_nonzero(foreign))
        keep = np.flatnonzero(~foreign)
        return rows[keep], batch.take(keep)

    def _quote_id(self, currency: str) -> int:
        i = self._quote_ids.get(currency)
        if i is None:
            i = self._quote_ids[currency] = len(self._quote_names)
            self._quote_names.append(currency)
        return i

    def _note_coarse(self, g: Grouped, q: F64) -> None:
        """Series whose price quantum is at least the smallest move threshold: the display cannot
        show a move of that size, so no threshold alert can be trusted and none is sent on rounding.
        Counted (``stats.coarse_quantum``) and logged once per series, never alerted."""
        with np.errstate(invalid="ignore", divide="ignore"):
            coarse = q / g.price * 100.0 >= min(self.config.moves.threshold_pct)
        if not coarse.any():
            return
        for row in np.unique(g.rows[coarse]).tolist():
            name = self._names[row]
            if name not in self._coarse:
                self._coarse.add(name)
                i = int(np.flatnonzero(coarse & (g.rows == row))[0])
                # stdlib logging (rendered like ours by log.configure_logging): a log call from
                # the engine must never raise into the hot path, whatever the handler's stream.
                log.warning(
                    "engine.coarse_quantum symbol=%s price=%r quantum=%r: one price step >= the move "
                    "threshold; its rounding is not reported as a move",
                    name,
                    float(g.price[i]),
                    float(q[i]),
                )
        self._stats.coarse_quantum = len(self._coarse)

    def _pegs_for(self, batch: TickBatch, rows: I64, accepted_order: I64) -> list[PegEvent]:
        """Hand the accepted ticks of pegged/reference symbols to the peg monitor, in stream order."""
        accepted = np.zeros(len(batch), dtype=bool)
        accepted[accepted_order] = True
        pos = np.flatnonzero(accepted & self._relevant[rows])
        if pos.size == 0 and not self.pegs.held:
            return []
        wm = np.maximum.accumulate(batch.ts)
        np.maximum(wm, self._watermark, out=wm)
        before = np.where(pos > 0, wm[pos - 1], self._watermark)
        return self.pegs.run(
            [batch.symbols[i] for i in pos.tolist()],
            batch.ts[pos].tolist(),
            batch.price[pos].tolist(),
            before.tolist(),
            wm[pos].tolist(),
            int(wm[-1]),
        )

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

    def flush(self) -> list[Event]:
        """End of input (replay end): judge every held pegged tick with whatever reference is fresh."""
        events: list[Event] = list(self.pegs.flush())
        events.sort(key=event_sort_key)
        return events

    # --- state -----------------------------------------------------------------------------------

    def checkpoint(self, symbols: Iterable[str] | None = None) -> bytes:
        """Versioned bytes (npz + JSON) of all state for ``symbols`` (None = all): windows, move
        detectors, peg episodes, held ticks, plus every reference history and the watermark."""
        symbols = None if symbols is None else list(symbols)
        names = sorted(self._ids) if symbols is None else sorted({s for s in symbols if s in self._ids})
        rows = np.array([self._ids[s] for s in names], dtype=np.int64)
        wanted = None if symbols is None else set(names) | set(symbols)
        quotes = [None if i < 0 else self._quote_names[i] for i in self._quote[rows].tolist()]
        return checkpoint.dump(
            self.windows, self.moves, names, rows, self.pegs.export(wanted), self._watermark, quotes
        )

    def restore(self, data: bytes) -> None:
        """Merge a checkpoint: the state of the symbols in ``data`` replaces ours, others are untouched."""
        names, arrays, pegs, watermark = checkpoint.load(data, self.config)
        self.pegs.merge(pegs)  # first: it refuses unreadable peg state before anything changes
        rows = self._rows_for(names)
        checkpoint.restore_rows(self.windows, self.moves, rows, arrays)
        for r, c in zip(rows.tolist(), arrays["quotes"], strict=True):
            self._quote[r] = -1 if c is None else self._quote_id(c)
        self._watermark = max(self._watermark, watermark)

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget symbols (partitions revoked); their rows are reused by new symbols."""
        names = [s for s in set(symbols) if s in self._ids]
        rows = np.array([self._ids.pop(s) for s in names], dtype=np.int64)
        self.windows.reset(rows)
        self.moves.reset(rows)
        self._quote[rows] = -1
        self._relevant[rows] = False
        for r in sorted(rows.tolist()):
            self._names[r] = ""
            self._free.append(r)
        self._touched = np.setdiff1d(self._touched, rows)
        self._coarse.difference_update(names)
        self._stats.coarse_quantum = len(self._coarse)
        self.pegs.drop(names)
        self._stats.symbols = len(self._ids)

    def _rows_for(self, symbols: Sequence[str]) -> I64:
        try:
            # The steady state: every symbol known, one C-level dict lookup per tick.
            return np.fromiter(map(self._ids.__getitem__, symbols), dtype=np.int64, count=len(symbols))
        except KeyError:
            pass
        for s in symbols:  # new symbols get rows in order of first appearance (deterministic)
            if s not in self._ids:
                self._new_row(s)
        return np.fromiter(map(self._ids.__getitem__, symbols), dtype=np.int64, count=len(symbols))

    def _new_row(self, symbol: str) -> int:
        if self._free:
            r = self._free.pop()
            self._names[r] = symbol
        else:
            r = len(self._names)
            self._names.append(symbol)
            if r >= self.windows.rows:
                self.windows.grow(r + 1)
                self.moves.grow(self.windows.rows)
                grown = np.zeros(self.windows.rows, dtype=bool)
                grown[: self._relevant.shape[0]] = self._relevant
                self._relevant = grown
                quote = np.full(self.windows.rows, -1, dtype=np.int16)
                quote[: self._quote.shape[0]] = self._quote
                self._quote = quote
        self._ids[symbol] = r
        self._relevant[r] = self.pegs.is_relevant(symbol)
        self._stats.symbols = len(self._ids)
        return r

    # --- cheap accessors for metrics -------------------------------------------------------------

    @property
    def stats(self) -> EngineStats:
        return self._stats

    @property
    def watermark(self) -> int | None:
        """Largest tick ts processed (ms), or None before the first tick."""
        return None if self._watermark == NO_TS else self._watermark

    def symbols(self) -> list[str]:
        return sorted(self._ids)

    def window_fill(self) -> float:
        """Mean fraction of ring capacity in use over all symbols (0.0 with none)."""
        if not self._ids:
            return 0.0
        rows = np.fromiter(self._ids.values(), dtype=np.int64, count=len(self._ids))
        ring = self.windows.ring(self.config.windows.horizon_s)
        cap = ring.capacity
        return float(np.minimum(ring.count[rows], cap).mean() / cap)

    def last_price(self, symbol: str) -> float | None:
        r = self._ids.get(symbol)
        return None if r is None or self.windows.last_ts[r] == NO_TS else float(self.windows.last_price[r])

    def last_ts(self, symbol: str) -> int | None:
        r = self._ids.get(symbol)
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
            rows = np.array([self._ids[s] for s in symbols if s in self._ids], dtype=np.int64)
        return window_stats(
            self.windows,
            self.windows.ring(self.config.windows.horizon_s),
            self.moves,
            rows,
            [self._names[r] for r in rows.tolist()],
        )
