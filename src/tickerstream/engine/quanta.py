"""Price quanta: the step a page shows prices in (``0.01`` for cents, ``1e-6`` for six decimals).

A tick carries the quantum its page showed; for ticks without one the windows estimate it from the
decimals of the prices seen (``price_decimals``). Ring points keep theirs as a power of ten in one
byte (``quantum_exponents`` / ``exponent_quanta``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


#: Decimals past which a price is taken as unrounded (a float printed with ~15 significant digits).
MAX_SIGNIFICANT = 12
#: ``decimals`` value meaning "no visible rounding": quantum 0.
UNROUNDED = 16
#: An estimated quantum is at most a cent: a price that happens to print as ``100.0`` (or ``1.0``)
#: is far more likely a rounder number than a page that shows whole units of a 100-dollar asset.
MIN_ESTIMATED_DECIMALS = 2


def price_decimals(price: F64) -> I64:
    """Per price, the fewest decimals that print it exactly (``0.000019`` -> 6, ``104442.98`` -> 2).

    ``UNROUNDED`` when that takes more than ``MAX_SIGNIFICANT`` significant digits. "Prints exactly"
    is monotone in the number of decimals, so a vectorised binary search needs 4 passes for 0..15.
    """
    lo = np.zeros(price.shape[0], dtype=np.int64)
    hi = np.full(price.shape[0], UNROUNDED, dtype=np.int64)  # hi: smallest known to print exactly
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        scaled = price * 10.0**mid
        # float noise (0.1 + 0.2 = 0.30000000000000004) is within 1e-12 of the shown digits
        exact = np.abs(scaled - np.round(scaled)) <= 1e-12 * np.maximum(scaled, 1.0)
        hi = np.where(active & exact, mid, hi)
        lo = np.where(active & ~exact, mid + 1, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        significant = hi + np.floor(np.log10(price)).astype(np.int64) + 1
    return np.where(significant > MAX_SIGNIFICANT, UNROUNDED, hi)


#: ``qexp`` of a point whose quantum is unknown (or zero: a price that looks unrounded).
NO_Q = -128


def quantum_exponents(q: F64) -> npt.NDArray[np.int8]:
    """Each quantum as the power of ten at or above it (1 B per ring point instead of 8; rounding
    up only makes a decision more cautious): 0.01 -> -2, 1e-6 -> -6, 0.05 -> -1; NaN/0 -> NO_Q.

    Per tick on the hot path, so no log10 (a quarter of the engine's whole budget per tick): a
    quantum in [2**k, 2**(k+1)) has one of two answers, since 2 < 10. The float's exponent bits
    give k, a table the smaller answer and the threshold above which it is the larger one."""
    out = np.full(q.shape, NO_Q, dtype=np.int8)
    ok = (q > 0) & (q < 1e127)  # NaN compares false: unknown
    if not ok.any():
        return out
    every = bool(ok.all())
    qq = q if every else q[ok]
    k = qq.view(np.int64) >> 52  # the biased binary exponent (the sign bit is 0: qq > 0)
    e = _EXP_LOW.take(k) + (_EXP_LOW_LIMIT.take(k) < qq)
    if every:
        out[:] = e
    else:
        out[ok] = e
    return out


def _smallest_exponent_at_or_above(x: float) -> int:
    """The smallest e in [-127, 127] with 10 ** e >= x, allowing float noise of 1e-9 (0.01 -> -2)."""
    e = min(max(-127, math.floor(math.log10(x)) - 1), 127) if x > 0 else -127
    while e < 127 and 10.0**e * (1.0 + 1e-9) < x:
        e += 1
    return e


def _exponent_tables() -> tuple[npt.NDArray[np.int8], F64]:
    """Per biased binary exponent k (a quantum in [2**(k-1023), 2**(k-1022))): the answer at the
    bottom of that range, and the quantum beyond which the answer is one more."""
    low = np.empty(2048, dtype=np.int8)
    limit = np.full(2048, np.inf)
    for k in range(2048):
        bottom = math.ldexp(1.0, k - 1023) if 0 < k < 2047 else 0.0 if k == 0 else math.inf
        e = _smallest_exponent_at_or_above(bottom) if math.isfinite(bottom) else 127
        low[k] = e
        if e < 127:
            limit[k] = 10.0**e * (1.0 + 1e-9)
    return low, limit


_EXP_LOW, _EXP_LOW_LIMIT = _exponent_tables()


#: 10 ** e for every int8 e read as a byte (``e & 0xFF``), NaN at NO_Q: a gather per tick instead
#: of a pow (this runs per tick and horizon on the hot path, where a pow costs more than the rest
#: of the anchor lookup), indexed by the raw byte so that no conversion pass precedes it.
_QUANTUM_OF_BYTE = np.array(
    [np.nan if b == NO_Q & 0xFF else 10.0 ** (b - 256 if b >= 128 else b) for b in range(256)]
)


def exponent_quanta(qexp: npt.NDArray[np.int8]) -> F64:
    """Inverse of ``quantum_exponents``: 10 ** e, NaN for NO_Q."""
    out: F64 = _QUANTUM_OF_BYTE.take(qexp.view(np.uint8))
    return out
