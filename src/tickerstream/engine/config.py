"""Engine settings, loadable with ``load_settings(EngineConfig, file, env, overrides)``.

Keys (dotted, as in a TOML file or ``--set``): ``windows.*``, ``moves.*``, ``pegs.*``.
Every field has a default, so an empty file gives the documented behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Largest ``windows.capacity``: points are allocated up front for every symbol.
MAX_CAPACITY = 100_000


@dataclass(frozen=True, slots=True)
class WindowConfig:
    """Per-series rolling windows of (ts, price): one ring per distinct horizon.

    Each ring holds ``capacity`` points (25 bytes each), allocated up front, and keeps the first tick
    of each time bucket of ``horizon * (1 + moves.anchor_slack) / (capacity - 2)``, so it spans its
    horizon at any tick rate and memory is fixed per series: at the defaults (horizons 1 h and
    24 h, 256 points) 13 KB per series; an as-of anchor is at most one bucket (0.6 % of the
    horizon) older than the latest tick before ``ts - h``. Window statistics use the ring of
    ``horizon_s``.

    ``max_series`` bounds the memory: ticks of a new series beyond it are dropped and counted
    (``series_limit``), logged once, never allowed to grow the process without bound (a flood of
    junk symbols). The default, 50,000 series, is about 650 MB at the default capacity.

    ``stale_after_s``: a tick repeating a precise price (six significant digits or more) that its
    series has shown for this long is a frozen source's, dropped and counted (``stale_repeat``;
    ``engine/stale.py``); 0 turns the rule off.
    """

    horizon_s: int = 86_400
    capacity: int = 256
    max_series: int = 50_000
    stale_after_s: int = 1_800

    def __post_init__(self) -> None:
        if self.horizon_s <= 0:
            raise ValueError("horizon_s must be > 0")
        if self.capacity < 4:
            raise ValueError("capacity must be >= 4")
        if self.max_series < 1:
            raise ValueError("max_series must be >= 1")
        if self.stale_after_s < 0:
            raise ValueError("stale_after_s must be >= 0 (0: off)")
        if self.capacity > MAX_CAPACITY:
            # Allocated up front for every symbol (and 64 rows at once): 5,000,000 took 4.9 GB.
            raise ValueError(
                f"capacity must be <= {MAX_CAPACITY} (16 bytes per point, per horizon and symbol: "
                f"{MAX_CAPACITY} points are {MAX_CAPACITY * 16 / 1e6:.1f} MB per symbol)"
            )


@dataclass(frozen=True, slots=True)
class MoveConfig:
    """Move detection, per horizon in ``horizons_s`` (each <= ``windows.horizon_s``).

    A move fires when the change over the horizon reaches ``threshold_pct`` (same position in the
    tuple as the horizon) or when its z-score reaches ``zscore_k``: ``z = ln(P_t / P_from) /
    (sigma * sqrt(t - from_ts))`` with sigma per sqrt(second) from an EWMA of ``r^2 / dt`` whose
    weights halve every ``ewma_halflife_s`` of event time, floored at ``sigma_floor_daily`` per
    sqrt(day) (flat series such as stablecoins do not give infinite z-scores) and at the price
    quantum's relative size. Both measures use the smallest change the display rounding allows.
    z needs ``zscore_min_returns`` returns first (warm-up). The "from" price is the as-of price
    at ``ts - h``; it must be no older than ``ts - h * (1 + anchor_slack)``, otherwise the change
    would span a much longer time than ``h``.
    After firing, a (symbol, horizon) re-arms once both measures recede below ``recede_ratio``
    of their trigger levels on a tick at least ``rearm_after`` of the horizon (a quarter: 15 min
    for 1 h, 6 h for 24 h) after its latest triggering tick (pages of a source lagging the move in
    between do not end it), or a cooldown after the last event: ``cooldown_s`` gives one per
    horizon; empty (the default) means each horizon's own length, so a crash that holds for a day
    is one 24 h move, not one every hour.
    ``symbol_threshold_pct`` overrides ``threshold_pct`` per symbol (``{"BONK": [15.0, 40.0]}``, one
    value per horizon): a 5 % hour is news on BTC and an ordinary hour of a meme coin at 15 %/day
    (z 1.6), and a fixed threshold turns such a coin's calm days into an alert an hour.
    With ``spike_hold_s`` > 0, a page as far off the series' latest pages as the symbol's smallest
    threshold, at most ``spike_hold_s`` after the page before it, waits for the next page (a bad
    tick or the market: the next page tells; ``engine/spike.py``); 0 (the default) judges every
    page at once.
    """

    enabled: bool = True
    horizons_s: tuple[int, ...] = (3_600, 86_400)
    threshold_pct: tuple[float, ...] = (5.0, 10.0)
    symbol_threshold_pct: dict[str, tuple[float, ...]] = field(default_factory=dict)
    anchor_slack: float = 0.5
    zscore_k: float = 6.0
    sigma_floor_daily: float = 0.005
    ewma_halflife_s: float = 86_400.0
    zscore_min_returns: int = 10
    recede_ratio: float = 0.5
    cooldown_s: tuple[int, ...] = ()
    rearm_after: float = 0.25
    spike_hold_s: int = 0

    def cooldown_for(self, index: int) -> int:
        """Cooldown in seconds of the ``index``-th horizon."""
        return self.cooldown_s[index] if self.cooldown_s else self.horizons_s[index]

    def __post_init__(self) -> None:
        floats = (
            self.anchor_slack,
            self.zscore_k,
            self.sigma_floor_daily,
            self.ewma_halflife_s,
            *self.threshold_pct,
        )
        if not all(math.isfinite(x) for x in floats):  # nan passes every comparison below
            raise ValueError(
                "threshold_pct, anchor_slack, zscore_k, sigma_floor_daily, ewma_halflife_s must be finite"
            )
        if self.anchor_slack < 0 or self.zscore_min_returns < 1:
            raise ValueError("anchor_slack must be >= 0 and zscore_min_returns >= 1")
        if len(self.horizons_s) != len(self.threshold_pct):
            raise ValueError("horizons_s and threshold_pct must have the same length")
        if any(h <= 0 for h in self.horizons_s) or len(set(self.horizons_s)) != len(self.horizons_s):
            raise ValueError("horizons_s must be distinct and > 0")
        if self.cooldown_s and len(self.cooldown_s) != len(self.horizons_s):
            raise ValueError("cooldown_s must be empty (= each horizon) or have one value per horizon")
        if any(c < 0 for c in self.cooldown_s):
            raise ValueError("cooldown_s must be >= 0")
        if any(t <= 0 for t in self.threshold_pct):
            raise ValueError("threshold_pct must be > 0")
        if not isinstance(self.symbol_threshold_pct, dict):
            raise ValueError(
                "symbol_threshold_pct must be a table of symbol = [...] (e.g. BONK = [15.0, 40.0])"
            )
        for sym, values in self.symbol_threshold_pct.items():
            ok = isinstance(values, (list, tuple)) and len(values) == len(self.horizons_s)
            if not ok or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                for v in values
            ):
                raise ValueError(
                    f"symbol_threshold_pct.{sym} must be {len(self.horizons_s)} numbers > 0, one per horizon"
                )
        # Frozen: normalised in place once (TOML gives lists of ints or floats). Symbols match
        # whatever their case (a table written `bonk = [...]` must not be ignored in silence).
        norm = {
            sym.upper(): tuple(float(v) for v in values) for sym, values in self.symbol_threshold_pct.items()
        }
        object.__setattr__(self, "symbol_threshold_pct", norm)
        if self.sigma_floor_daily <= 0 or self.zscore_k <= 0 or self.ewma_halflife_s <= 0:
            raise ValueError("sigma_floor_daily, zscore_k and ewma_halflife_s must be > 0")
        if not 0 < self.recede_ratio < 1:
            raise ValueError("recede_ratio must be in (0, 1)")
        if not 0 <= self.rearm_after <= 1:  # also refuses nan
            raise ValueError("rearm_after must be in [0, 1] (a fraction of each horizon)")
        if self.spike_hold_s < 0:
            raise ValueError("spike_hold_s must be >= 0 (0: no page waits for the next)")


@dataclass(frozen=True, slots=True)
class PegConfig:
    """Peg monitoring against the registry (``registry_file``; None = the shipped ``data/pegs.toml``).
    docs/pegs.md explains every field and why the defaults are what they are.

    **Levels.** Deviation thresholds in basis points apply to assets whose registry entry does not
    override them. A state is entered when |deviation| reaches it (after ``confirm_s`` /
    ``usd_confirm_s`` in that state, or a second tick beyond ``confirm_bypass_bps``) and left only
    below the lower exit level, after ``min_exit_ticks`` consecutive ticks spanning
    ``min_exit_duration_s``; ``coarse_exit_factor`` times that when the pages are too coarse to show
    the price back inside the exit level (one price step wider than the gap between the level and
    its exit level: a cent at $1 is 100 bps, the warn gap 25). Decisions use the smallest
    deviation consistent with the shown price, which is within half its quantum (the step the
    tick's page showed: $0.98 in cents counts as >= -150 bps). ``display_quantum`` is the rounding
    assumed when a price's quantum is unknown (v1 ticks, reference points): the seed widget's cents
    from 1 up ($1.01 counts as >= 50 bps, not 100), exact below.

    **References.** Referenced pegs (WBTC -> BTC) are judged against where the reference stood at
    the tick's ts (``engine/pegref.py``): its points within ``ref_max_age_s`` either side, widened
    by ``ref_z`` sigmas of its recent volatility. A tick waits for the reference to pass its ts until
    the event-time watermark passes ``ts + ref_max_wait_s``. A band wider than
    ``ref_uncertainty_ratio`` x the asset's warn level is not a sound basis: the tick is not judged,
    and after ``unknown_after_s`` without a sound judgement the asset goes ``unknown``. It leaves
    ``unknown`` for a depeg once confirmed (as any entry), for ``ok`` once the judged ticks since
    entering it span ``unknown_exit_s`` (hysteresis: one judged page among unjudged ones does not
    flap it; unjudged pages between judged ones are no information and break nothing). A
    reference point ``ref_lone_pct`` off both its neighbours, which agree within half that, is a
    lone print (a misparsed page): no reference point, and not in the volatility.

    **Updates.** While an episode lasts: an update each further ``update_step_bps`` of judged
    deviation, and a reminder after ``reminder_interval_s`` of event time without an event of that
    asset (0 turns either off).
    """

    enabled: bool = True
    registry_file: str | None = None
    warn_bps: float = 50.0
    critical_bps: float = 200.0
    warn_exit_bps: float = 25.0
    critical_exit_bps: float = 150.0
    min_exit_ticks: int = 2
    min_exit_duration_s: int = 300
    coarse_exit_factor: int = 24
    display_quantum: float = 0.01
    confirm_s: int = 120
    usd_confirm_s: int = 120
    confirm_bypass_bps: float = 2_000.0
    update_step_bps: float = 100.0
    reminder_interval_s: int = 3_600
    unknown_after_s: int = 900
    unknown_exit_s: int = 600
    ref_max_age_s: int = 1_800
    ref_max_wait_s: int = 900
    ref_history: int = 4_096
    ref_z: float = 2.0
    ref_uncertainty_ratio: float = 0.5
    ref_vol_points: int = 32
    ref_vol_floor_daily_pct: float = 1.0
    ref_vol_prior_daily_pct: float = 5.0
    ref_lone_pct: float = 5.0

    def __post_init__(self) -> None:
        floats = {
            "warn_bps": self.warn_bps,
            "critical_bps": self.critical_bps,
            "warn_exit_bps": self.warn_exit_bps,
            "critical_exit_bps": self.critical_exit_bps,
            "display_quantum": self.display_quantum,
            "confirm_bypass_bps": self.confirm_bypass_bps,
            "update_step_bps": self.update_step_bps,
            "ref_z": self.ref_z,
            "ref_uncertainty_ratio": self.ref_uncertainty_ratio,
            "ref_vol_floor_daily_pct": self.ref_vol_floor_daily_pct,
            "ref_vol_prior_daily_pct": self.ref_vol_prior_daily_pct,
            "ref_lone_pct": self.ref_lone_pct,
        }
        bad = [k for k, v in floats.items() if not math.isfinite(v)]  # nan passes every comparison below
        if bad:
            raise ValueError(f"{', '.join(bad)} must be finite numbers")
        if not 0 < self.warn_bps < self.critical_bps:
            raise ValueError("need 0 < warn_bps < critical_bps")
        if not 0 <= self.warn_exit_bps <= self.warn_bps:
            raise ValueError("need 0 <= warn_exit_bps <= warn_bps")
        if not self.warn_exit_bps <= self.critical_exit_bps <= self.critical_bps:
            raise ValueError("need warn_exit_bps <= critical_exit_bps <= critical_bps")
        if self.min_exit_ticks < 1 or self.ref_history < 1 or self.ref_vol_points < 1:
            raise ValueError("min_exit_ticks, ref_history and ref_vol_points must be >= 1")
        if min(self.confirm_s, self.usd_confirm_s, self.reminder_interval_s, self.unknown_after_s) < 0:
            raise ValueError("confirm_s, usd_confirm_s, reminder_interval_s, unknown_after_s must be >= 0")
        if self.unknown_exit_s < 0:
            raise ValueError("unknown_exit_s must be >= 0")
        if self.update_step_bps < 0 or self.confirm_bypass_bps <= 0:
            raise ValueError("update_step_bps must be >= 0 and confirm_bypass_bps > 0")
        if self.ref_max_age_s < 0 or self.ref_max_wait_s < 0:
            raise ValueError("ref_max_age_s and ref_max_wait_s must be >= 0")
        if self.ref_z <= 0 or self.ref_uncertainty_ratio <= 0:
            raise ValueError("ref_z and ref_uncertainty_ratio must be > 0")
        if not 0 < self.ref_vol_floor_daily_pct <= self.ref_vol_prior_daily_pct:
            raise ValueError("need 0 < ref_vol_floor_daily_pct <= ref_vol_prior_daily_pct")
        if self.min_exit_duration_s < 0:
            raise ValueError("min_exit_duration_s must be >= 0")
        if self.coarse_exit_factor < 1:
            raise ValueError("coarse_exit_factor must be >= 1")
        if not 0 < self.ref_lone_pct < 100:
            raise ValueError("ref_lone_pct must be in (0, 100)")
        if self.display_quantum < 0:
            raise ValueError("display_quantum must be >= 0")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    windows: WindowConfig = field(default_factory=WindowConfig)
    moves: MoveConfig = field(default_factory=MoveConfig)
    pegs: PegConfig = field(default_factory=PegConfig)

    def __post_init__(self) -> None:
        if self.moves.horizons_s and max(self.moves.horizons_s) > self.windows.horizon_s:
            raise ValueError("every moves.horizons_s must be <= windows.horizon_s")
