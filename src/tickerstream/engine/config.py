"""Engine settings, loadable with ``load_settings(EngineConfig, file, env, overrides)``.

Keys (dotted, as in a TOML file or ``--set``): ``windows.*``, ``moves.*``, ``pegs.*``.
Every field has a default, so an empty file gives the documented behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WindowConfig:
    """Per-series rolling windows of (ts, price): one ring per distinct horizon.

    Each ring holds ``capacity`` points (16 bytes each), allocated up front, and keeps the first tick
    of each time bucket of ``horizon * (1 + moves.anchor_slack) / (capacity - 2)``, so it spans its
    horizon at any tick rate and memory is fixed per series: at the defaults (horizons 1 h and
    24 h, 256 points) 8 KB of rings per series; an as-of anchor is at most one bucket (0.6 % of the
    horizon) older than the latest tick before ``ts - h``. Window statistics use the ring of
    ``horizon_s``.
    """

    horizon_s: int = 86_400
    capacity: int = 256

    def __post_init__(self) -> None:
        if self.horizon_s <= 0:
            raise ValueError("horizon_s must be > 0")
        if self.capacity < 4:
            raise ValueError("capacity must be >= 4")


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
    of their trigger levels, or a cooldown after the last event: ``cooldown_s`` gives one per
    horizon; empty (the default) means each horizon's own length, so a crash that holds for a day
    is one 24 h move, not one every hour.
    """

    enabled: bool = True
    horizons_s: tuple[int, ...] = (3_600, 86_400)
    threshold_pct: tuple[float, ...] = (5.0, 10.0)
    anchor_slack: float = 0.5
    zscore_k: float = 6.0
    sigma_floor_daily: float = 0.005
    ewma_halflife_s: float = 86_400.0
    zscore_min_returns: int = 10
    recede_ratio: float = 0.5
    cooldown_s: tuple[int, ...] = ()

    def cooldown_for(self, index: int) -> int:
        """Cooldown in seconds of the ``index``-th horizon."""
        return self.cooldown_s[index] if self.cooldown_s else self.horizons_s[index]

    def __post_init__(self) -> None:
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
        if self.sigma_floor_daily <= 0 or self.zscore_k <= 0 or self.ewma_halflife_s <= 0:
            raise ValueError("sigma_floor_daily, zscore_k and ewma_halflife_s must be > 0")
        if not 0 < self.recede_ratio < 1:
            raise ValueError("recede_ratio must be in (0, 1)")


@dataclass(frozen=True, slots=True)
class PegConfig:
    """Peg monitoring against the registry (``registry_file``; None = the shipped ``data/pegs.toml``).

    Deviation thresholds in basis points apply to assets whose registry entry does not override
    them. A state is entered as soon as |deviation| reaches it and left only below the lower exit
    level, after at least ``min_exit_ticks`` consecutive ticks spanning ``min_exit_duration_s``.
    ``display_quantum`` is the rounding of prices >= 1 by the scraped widget (cents): decisions use
    the smallest deviation consistent with the shown price, so $1.01 counts as >= 50 bps, not 100.
    Referenced pegs (WBTC -> BTC) use the reference's as-of price at the tick's ts, at most
    ``ref_max_age_s`` old; a tick waits for its reference until the event-time watermark passes
    ``ts + ref_max_wait_s``. ``ref_history`` reference points are kept per reference symbol.
    """

    enabled: bool = True
    registry_file: str | None = None
    warn_bps: float = 50.0
    critical_bps: float = 200.0
    warn_exit_bps: float = 25.0
    critical_exit_bps: float = 150.0
    min_exit_ticks: int = 2
    min_exit_duration_s: int = 300
    display_quantum: float = 0.01
    ref_max_age_s: int = 600
    ref_max_wait_s: int = 300
    ref_history: int = 4_096

    def __post_init__(self) -> None:
        if not 0 < self.warn_bps < self.critical_bps:
            raise ValueError("need 0 < warn_bps < critical_bps")
        if not 0 <= self.warn_exit_bps <= self.warn_bps:
            raise ValueError("need 0 <= warn_exit_bps <= warn_bps")
        if not self.warn_exit_bps <= self.critical_exit_bps <= self.critical_bps:
            raise ValueError("need warn_exit_bps <= critical_exit_bps <= critical_bps")
        if self.min_exit_ticks < 1 or self.ref_history < 1:
            raise ValueError("min_exit_ticks and ref_history must be >= 1")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    windows: WindowConfig = field(default_factory=WindowConfig)
    moves: MoveConfig = field(default_factory=MoveConfig)
    pegs: PegConfig = field(default_factory=PegConfig)

    def __post_init__(self) -> None:
        if self.moves.horizons_s and max(self.moves.horizons_s) > self.windows.horizon_s:
            raise ValueError("every moves.horizons_s must be <= windows.horizon_s")
