"""Do ticker-process and the Quix job find the same events? Within what both can express.

- **Pegs** (USD stablecoins): the state changes among ok / warn / critical, as
  (symbol, prev_state, state, ts), and the episodes, as (symbol, episode start). Both implement the
  same rules, so the sets must be equal. ticker-process's ``deepened``/``reminder`` updates, its
  referenced pegs (WBTC, stETH) and ``unknown`` states are outside the Quix job and not compared.
- **Moves**: an episode is ticker-process's ``kind: new`` move or the Quix job's move, keyed by
  (symbol, horizon, direction). They are matched when their ticks are at most ``TOLERANCE_S`` of the
  horizon apart: the anchors differ (the engine's price as of ``t - horizon`` vs the window's earliest
  tick inside it) and the engine also fires on a z-score over its own volatility, which Quix does not
  have; so moves agree as episodes, not to the tick. Unmatched ones on either side are counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

#: Largest distance between two matched move episodes, as a fraction of their horizon.
TOLERANCE = 0.5
LEVELS = ("ok", "warn", "critical")


@dataclass
class Agreement:
    peg_changes: tuple[int, int, int]  # ticker-process, quix, common
    peg_episodes: tuple[int, int, int]
    moves_tp: int
    moves_quix: int
    moves_matched: int
    moves_same_tick: int  # of the matched, those on the very same tick
    tp_only_zscore: int  # unmatched engine episodes that its z-score trigger fired

    @property
    def pegs_equal(self) -> bool:
        a, b, c = self.peg_changes
        d, e, f = self.peg_episodes
        return a == b == c and d == e == f

    def lines(self) -> list[str]:
        a, b, c = self.peg_changes
        d, e, f = self.peg_episodes
        return [
            f"peg state changes (USD pegs): ticker-process {a}, quix {b}, common {c}"
            f" -> {'equal' if a == b == c else 'DIFFERENT'}",
            f"peg episodes (symbol, start): ticker-process {d}, quix {e}, common {f}"
            f" -> {'equal' if d == e == f else 'DIFFERENT'}",
            f"move episodes: ticker-process {self.moves_tp} (kind new), quix {self.moves_quix}; matched "
            f"{self.moves_matched} within {TOLERANCE:g} x horizon ({self.moves_same_tick} on the same tick); "
            f"ticker-process only "
            f"{self.moves_tp - self.moves_matched} (of them z-score-triggered {self.tp_only_zscore}), "
            f"quix only {self.moves_quix - self.moves_matched}",
        ]


def compare(tp_events: list[dict[str, Any]], quix_events: list[dict[str, Any]]) -> Agreement:
    tp_pegs = [
        e
        for e in tp_events
        if e.get("type") == "peg"
        and e["peg"] == "USD"
        and e["kind"] == "change"
        and e["state"] in LEVELS
        and e["prev_state"] in LEVELS
    ]
    a = {(e["symbol"], e["prev_state"], e["state"], e["ts"]) for e in tp_pegs}
    b = {(e["symbol"], e["prev_state"], e["state"], e["ts"]) for e in quix_events if e.get("type") == "peg"}
    ea = {(e["symbol"], e["episode_start"]) for e in tp_pegs if e["prev_state"] == "ok"}
    eb = {
        (e["symbol"], e["start"]) for e in quix_events if e.get("type") == "peg" and e["prev_state"] == "ok"
    }

    tp_moves = [e for e in tp_events if e.get("type") == "move" and e["kind"] == "new"]
    quix_moves = [e for e in quix_events if e.get("type") == "move"]
    matched, same, tp_only = _match(tp_moves, quix_moves)
    zscore = sum(1 for e in tp_only if e["trigger"] == "zscore")
    return Agreement(
        (len(a), len(b), len(a & b)),
        (len(ea), len(eb), len(ea & eb)),
        len(tp_moves),
        len(quix_moves),
        matched,
        same,
        zscore,
    )


def _match(tp: list[dict[str, Any]], quix: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    """Greedy one-to-one matching in time order per (symbol, horizon, direction)."""
    pool: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for e in quix:
        pool[(e["symbol"], e["horizon_s"], e["direction"])].append(e["ts"])
    for v in pool.values():
        v.sort()
    matched, same, unmatched = 0, 0, []
    for e in sorted(tp, key=lambda e: e["ts"]):
        cands = pool.get((e["symbol"], e["horizon_s"], e["direction"]), [])
        tol = TOLERANCE * e["horizon_s"] * 1000
        best = min(cands, key=lambda t: abs(t - e["ts"]), default=None)
        if best is not None and abs(best - e["ts"]) <= tol:
            cands.remove(best)
            matched += 1
            same += best == e["ts"]
        else:
            unmatched.append(e)
    return matched, same, unmatched
