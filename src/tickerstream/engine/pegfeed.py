"""Which series the peg monitor sees, and the feeding of their ticks to it in stream order.

A pegged or reference symbol may have several series (two coins sharing a ticker, several
quotes): the peg monitor judges exactly one of them, the USD-quoted (or unquoted) series of the
registry's coin (``choose``). ``PegFeed`` keeps that choice per row and hands the monitor the ticks
of the chosen series, with the watermark before and after each, plus the pages it cannot judge
(``pegstore.UNJUDGEABLE``): pegged pages dropped as ambiguous (no coin id on a shared ticker), and
every page of a pegged symbol that two coins share while the registry pins neither. Those pages
make the peg ``unknown`` (``ambiguous_ticks``) rather than leave it silent in its last state.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.grouping import NO_TS
from tickerstream.engine.pegs import PegMonitor
from tickerstream.engine.pegstore import UNJUDGEABLE
from tickerstream.engine.series import SeriesIndex, SeriesKey
from tickerstream.engine.stats import EngineStats
from tickerstream.events import PegEvent

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
log = logging.getLogger(__name__)

NONE: I64 = np.empty(0, dtype=np.int64)


class PegFeed:
    def __init__(
        self,
        pegs: PegMonitor,
        series: SeriesIndex,
        coin_pins: dict[str, str],
        rows: int,
        stats: EngineStats,
    ) -> None:
        self.pegs = pegs
        self.series = series
        self._coin_pins = coin_pins
        self._stats = stats
        self.relevant = np.zeros(rows, dtype=bool)  # per row: the series the peg monitor sees
        self.reference = np.zeros(rows, dtype=bool)  # ... as a reference price
        # per row: a series of a pegged symbol that several coins share, none pinned: its pages are
        # pages the peg cannot be judged on
        self.unjudgeable_rows = np.zeros(rows, dtype=bool)
        # per row: the price a USD peg's series is expected at (its target; NaN: none), which the
        # scale rule takes for the price before the series' first page (``engine/scale.py``)
        self.scale_prior = np.full(rows, np.nan)
        self._unjudged: set[str] = set()  # pegged/reference symbols already logged as ambiguous
        self._other_coin: set[SeriesKey] = set()  # series logged as another coin than the registry's

    def grow(self, rows: int) -> None:
        self.relevant = _grown(self.relevant, rows)
        self.reference = _grown(self.reference, rows)
        self.unjudgeable_rows = _grown(self.unjudgeable_rows, rows)
        prior = np.full(rows, np.nan)
        prior[: self.scale_prior.shape[0]] = self.scale_prior
        self.scale_prior = prior

    def forget(self, rows: I64, symbols: set[str]) -> None:
        self.relevant[rows] = False
        self.reference[rows] = False
        self.unjudgeable_rows[rows] = False
        self.scale_prior[rows] = np.nan
        self._unjudged -= symbols
        self._stats.peg_ambiguous = len(self._unjudged)

    def choose(self, symbol: str) -> None:
        """Which series of ``symbol`` the peg monitor sees: the one USD-quoted (or unquoted) series
        of the registry's coin id (any coin id when it names none). Pegs compare like with like: no
        FX conversion, since the stream carries no rate. Two candidates (a shared ticker the registry
        does not disambiguate) means none is judged, never guessed: logged once and counted, and
        for a pegged symbol each candidate's page is a page its peg cannot be judged on, so the
        peg goes ``unknown`` (``ambiguous_ticks``) instead of keeping its last state in silence.
        (Which coin is the real one cannot be read from the stream: the first one seen may be a
        bridged copy, and the coin at the peg is the wrong guess in a depeg.)"""
        rows = self.series.rows_of(symbol)
        self.relevant[rows] = False
        self.reference[rows] = False
        self.unjudgeable_rows[rows] = False
        self.scale_prior[rows] = np.nan
        if not self.pegs.is_relevant(symbol):
            return
        pin = self._coin_pins.get(symbol)
        candidates = [
            r
            for r in rows
            if self.series.quote[r] in (None, "USD") and (pin is None or self.series.coin[r] in (None, pin))
        ]
        for r in rows:
            key = self.series.key(r)
            if pin is not None and key[1] not in (None, pin) and key not in self._other_coin:
                self._other_coin.add(key)
                log.warning(
                    "engine.peg_other_coin series=%s: pegs.toml pins %s to coin_id %r; this coin "
                    "shares the ticker and is not judged against that peg",
                    key,
                    symbol,
                    pin,
                )
        if len(candidates) == 1:
            self.relevant[candidates[0]] = True
            self.reference[candidates[0]] = symbol in self.pegs.by_ref
            spec = self.pegs.specs.get(symbol)
            if spec is not None and spec.peg == "USD":
                self.scale_prior[candidates[0]] = spec.ratio
            self._unjudged.discard(symbol)
        elif len(candidates) > 1:
            self.unjudgeable_rows[candidates] = symbol in self.pegs.specs
            if symbol not in self._unjudged:
                self._unjudged.add(symbol)
                # stdlib logging (rendered like ours by log.configure_logging): never raises into
                # the hot path.
                log.warning(
                    "engine.peg_ambiguous symbol=%s series=%s: several coins share this pegged or "
                    "reference symbol; none is judged (its peg goes unknown) until pegs.toml names "
                    "its coin_id",
                    symbol,
                    [self.series.key(r) for r in candidates],
                )
        self._stats.peg_ambiguous = len(self._unjudged)

    def unjudgeable(self, batch: TickBatch, ambiguous: BOOL) -> I64:
        """Positions of the ambiguous ticks that are pages of a pegged symbol in USD (or unquoted),
        the quotes its peg is judged in: the peg monitor counts them as pages without a sound
        judgement. Ticks of other symbols are only dropped."""
        specs, cur = self.pegs.specs, batch.currency
        if not specs or not ambiguous.any():
            return NONE
        at = [
            i
            for i in np.flatnonzero(ambiguous).tolist()
            if batch.symbols[i] in specs and (cur is None or cur[i] in (None, "USD"))
        ]
        return np.array(at, dtype=np.int64)

    def run(
        self, batch: TickBatch, keep: I64 | None, pos: I64, unjudged: I64, watermark: int
    ) -> list[PegEvent]:
        """Hand the ticks of pegged/reference symbols to the peg monitor, in stream order: the
        accepted ones at ``pos`` and the pegged pages dropped as ambiguous at ``unjudged``
        (positions in ``batch``; ``keep``: the positions accepted into series, None for all), with
        the engine's ``watermark`` before the batch. Only accepted ticks advance the watermark."""
        if pos.size == 0 and unjudged.size == 0 and not self.pegs.held:
            return []
        quantum = batch.quantum
        if unjudged.size:
            pos = np.union1d(pos, unjudged)  # disjoint, sorted: stream order
            quantum = quantum.copy()
            quantum[unjudged] = UNJUDGEABLE
        ts = batch.ts if keep is None else np.where(_mask(keep, len(batch)), batch.ts, NO_TS)
        wm = np.maximum.accumulate(ts)
        np.maximum(wm, watermark, out=wm)
        before = np.where(pos > 0, wm[pos - 1], watermark)
        return self.pegs.run(
            [batch.symbols[i] for i in pos.tolist()],
            batch.ts[pos].tolist(),
            batch.price[pos].tolist(),
            quantum[pos].tolist(),
            before.tolist(),
            wm[pos].tolist(),
            int(wm[-1]),
        )


def _mask(at: I64, n: int) -> BOOL:
    out = np.zeros(n, dtype=bool)
    out[at] = True
    return out


def _grown(flags: BOOL, rows: int) -> BOOL:
    out = np.zeros(rows, dtype=bool)
    out[: flags.shape[0]] = flags
    return out
