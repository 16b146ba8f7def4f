"""``EngineStats``: counters the engine keeps per batch, for metrics and for honest accounting.

Counters only grow (except the gauges ``held`` and ``symbols``); nothing the engine drops is
dropped without being counted here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class EngineStats:
    #: Ticks given to ``process``.
    ticks: int = 0
    #: Ticks appended to a window (neither late nor duplicate).
    accepted: int = 0
    #: Out-of-order ticks (ts older than the symbol's latest accepted ts): dropped.
    late: int = 0
    #: Ticks with the same (symbol, ts) as an accepted tick: dropped, the first one wins.
    duplicates: int = 0
    #: Accepted ticks that pushed the oldest point out of a full ring (capacity, not horizon).
    evicted: int = 0
    #: Pegged ticks currently waiting for their reference price (gauge).
    held: int = 0
    #: Pegged ticks that ever had to wait for their reference.
    held_total: int = 0
    #: Pegged ticks with no reference price within ``ref_max_age_s``: not judged (see ``unknown``).
    released_without_ref: int = 0
    #: Pegged ticks whose reference was too uncertain for its volatility and age: not judged.
    ref_stale: int = 0
    #: Pages of a pegged symbol dropped as ambiguous (no coin id, a shared ticker) that the peg
    #: monitor counted as not judged (towards ``unknown``, reason ``ambiguous_ticks``).
    peg_ambiguous_pages: int = 0
    #: Reference prices (from ``process`` or ``observe_reference``) dropped as late or duplicate.
    ref_late: int = 0
    #: Ticks without a coin id whose symbol has several series in their quote (a shared ticker):
    #: dropped, since their price cannot be told apart.
    ambiguous_series: int = 0
    #: Ticks of new series beyond ``windows.max_series``: dropped (memory stays bounded).
    series_limit: int = 0
    #: Ticks at 8x or an eighth of their series' last taken tick that no earlier dropped page at
    #: their scale confirmed (a misparsed page, ``engine/scale.py``): dropped.
    scale_jumps: int = 0
    #: Ticks repeating a precise price their series has shown for ``windows.stale_after_s`` (a
    #: frozen source, ``engine/stale.py``): dropped.
    stale_repeats: int = 0
    #: Pegged or reference symbols with several candidate series and no coin id in the registry:
    #: not judged until it names one (gauge; logged once each).
    peg_ambiguous: int = 0
    #: Series whose price quantum is at least the smallest move threshold (gauge; logged once each).
    coarse_quantum: int = 0
    #: Ticks whose source's 24 h change was checked against the engine's day of history.
    change_checks: int = 0
    #: ... of which it disagreed beyond the rounding and drift allowance (engine/quality.py).
    change_disagree: int = 0
    #: ... of which an unsigned change got its sign from the history.
    sign_recovered: int = 0
    #: Series whose source's 24 h change currently disagrees with the history (gauge).
    change_mismatch: int = 0
    #: Series (symbol, coin id, quote) with state in the engine (gauge).
    symbols: int = 0
    #: Events emitted, by type (peg events include updates and reminders).
    moves: int = 0
    pegs: int = 0
    quality: int = 0
    sources: int = 0

    @property
    def events(self) -> dict[str, int]:
        """Events emitted so far, by type."""
        return {"move": self.moves, "peg": self.pegs, "quality": self.quality, "source": self.sources}

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
