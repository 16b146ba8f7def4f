"""The peg registry: which symbols are pegged, to what, with which thresholds.

The shipped ``tickerstream/data/pegs.toml`` documents its format. A user file is merged over it
entry by entry (or replaces it with ``replace = true``), so overriding one threshold does not mean
copying the whole list.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tickerstream.engine.config import PegConfig
from tickerstream.errors import RegistryError

#: ``peg`` value of a dollar-pegged asset (target = ratio US dollars, no reference needed).
USD = "USD"
#: ``peg`` value of a listed asset that is not 1:1 with anything: never monitored.
NONE = "none"

_KEYS = {
    "peg",
    "ratio",
    "warn_bps",
    "critical_bps",
    "warn_exit_bps",
    "critical_exit_bps",
    "confirm_s",
    "coin_id",
    "side",
    "note",
}

#: ``side`` values: deviations judged on both sides of the target, or only below it (a premium is
#: judged as at the peg: an asset that trades above its peg by design, LUSD).
SIDES = ("both", "below")


@dataclass(frozen=True, slots=True)
class PegSpec:
    symbol: str
    peg: str  # "USD" or the reference symbol
    ratio: float
    warn_bps: float
    critical_bps: float
    warn_exit_bps: float
    critical_exit_bps: float
    #: Seconds of event time a deviation must hold before warn/critical fires (0 = at once).
    confirm_s: int = 0
    #: The coin the peg is about (``usd-coin``): ticks of another coin sharing the ticker are never
    #: judged against it. None: any coin id (ambiguous if two show up).
    coin_id: str | None = None
    #: "below": only a discount is a deviation, a premium is judged as at the peg (``SIDES``).
    side: str = "both"

    @property
    def reference(self) -> str | None:
        return None if self.peg == USD else self.peg


def load_registry(config: PegConfig) -> dict[str, PegSpec]:
    """The monitored pegs (entries with ``peg = "none"`` left out), keyed by upper-case symbol."""
    specs: dict[str, PegSpec] = {}
    for symbol, entry in sorted(_merged_assets(config).items()):
        spec = _spec(symbol, entry, config)
        if spec is not None:
            specs[symbol] = spec
    return specs


def load_coin_pins(config: PegConfig) -> dict[str, str]:
    """Symbol -> the coin id the registry names for it, for every entry (also ``peg = "none"``
    entries, which pin a reference symbol: ``[assets.BTC] peg = "none", coin_id = "bitcoin"``)."""
    pins: dict[str, str] = {}
    for symbol, entry in _merged_assets(config).items():
        coin = entry.get("coin_id")
        if coin is not None:
            if not isinstance(coin, str) or not coin:
                raise RegistryError(f"assets.{symbol}: coin_id must be a non-empty string")
            pins[symbol] = coin
    return pins


def _merged_assets(config: PegConfig) -> dict[str, dict[str, Any]]:
    """The shipped registry's entries with the user file's merged over them (or replacing them)."""
    raw = _read_shipped()
    if config.registry_file is not None:
        path = Path(config.registry_file)
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"peg registry not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"peg registry {path} is not valid TOML: {exc}") from None
        user_assets = _assets(user, str(path))
        base = {} if user.get("replace", False) else _assets(raw, "shipped pegs.toml")
        base.update(user_assets)
        return base
    return _assets(raw, "shipped pegs.toml")


def _read_shipped() -> dict[str, Any]:
    text = resources.files("tickerstream").joinpath("data/pegs.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _assets(doc: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    assets = doc.get("assets", {})
    if not isinstance(assets, dict):
        raise RegistryError(f"{where}: [assets] must be a table")
    out: dict[str, dict[str, Any]] = {}
    for symbol, entry in assets.items():
        if not isinstance(entry, dict):
            raise RegistryError(f"{where}: assets.{symbol} must be a table")
        unknown = set(entry) - _KEYS
        if unknown:
            raise RegistryError(f"{where}: assets.{symbol}: unknown key {sorted(unknown)[0]!r}")
        if not isinstance(entry.get("peg"), str) or not entry["peg"]:
            raise RegistryError(f'{where}: assets.{symbol}: \'peg\' must be "USD", a symbol or "none"')
        # Ticks carry upper-case symbols (USDe -> USDE); key the registry the same way.
        out[symbol.upper()] = entry
    return out


def _spec(symbol: str, entry: dict[str, Any], cfg: PegConfig) -> PegSpec | None:
    peg = entry["peg"]
    if peg.lower() == NONE:
        return None
    peg = USD if peg.upper() == USD else peg.upper()
    warn = float(entry.get("warn_bps", cfg.warn_bps))
    critical = float(entry.get("critical_bps", cfg.critical_bps))
    warn_exit = float(entry.get("warn_exit_bps", warn * cfg.warn_exit_bps / cfg.warn_bps))
    critical_exit = float(entry.get("critical_exit_bps", critical * cfg.critical_exit_bps / cfg.critical_bps))
    ratio = float(entry.get("ratio", 1.0))
    if not (0 <= warn_exit <= warn < critical and warn_exit <= critical_exit <= critical) or ratio <= 0:
        raise RegistryError(
            f"assets.{symbol}: need 0 <= warn_exit <= warn < critical, warn_exit <= critical_exit "
            f"<= critical and ratio > 0"
        )
    if peg == symbol:
        raise RegistryError(f"assets.{symbol}: an asset cannot be pegged to itself")
    default_confirm = cfg.usd_confirm_s if peg == USD else cfg.confirm_s
    confirm = entry.get("confirm_s", default_confirm)
    if not isinstance(confirm, int) or isinstance(confirm, bool) or confirm < 0:
        raise RegistryError(f"assets.{symbol}: confirm_s must be an integer number of seconds >= 0")
    coin = entry.get("coin_id")
    if coin is not None and (not isinstance(coin, str) or not coin):
        raise RegistryError(f"assets.{symbol}: coin_id must be a non-empty string")
    side = entry.get("side", "both")
    if side not in SIDES:
        raise RegistryError(f"assets.{symbol}: side must be one of {', '.join(repr(s) for s in SIDES)}")
    return PegSpec(symbol, peg, ratio, warn, critical, warn_exit, critical_exit, confirm, coin, side)
