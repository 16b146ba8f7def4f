"""``TickBatch``: the engine's columnar input.

The engine needs the series, event time, price and the price's quantum; carrying them as lists and
numpy arrays lets the hot path group and scatter a whole poll batch with a few numpy calls instead
of touching a ``Tick`` object per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tickerstream.model import Tick

F64 = npt.NDArray[np.float64]


def _nan(n: int) -> F64:
    return np.full(n, np.nan)


@dataclass(frozen=True, slots=True)
class TickBatch:
    """Ticks in stream order: ``symbols[i]`` had price ``price[i]`` at ``ts[i]`` (ms since epoch, UTC).

    ``quantum[i]`` is the price's display step as the source showed it (``1e-6`` for ``0.000019``);
    NaN when unknown, and the engine then estimates it per series from the prices seen.
    ``currency[i]`` is the quote currency (ISO code); None when the source does not say (one quote).
    ``coin_ids[i]`` is the coin id (``bitcoin``), None for a tick without one; the column is None
    when no tick has one. The engine keys series by (coin id or symbol, quote currency).
    ``change[i]`` is the source's own 24 h change in percent (NaN: none), ``change_signed[i]``
    whether its sign is known (seed-style pages show only the magnitude); both None when no tick
    has one. The engine checks them against its own history (``quality``).
    """

    symbols: list[str]
    ts: npt.NDArray[np.int64]
    price: F64
    quantum: F64
    currency: list[str] | None = None
    coin_ids: list[str | None] | None = None
    change: F64 | None = None
    change_signed: npt.NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        if not (len(self.symbols) == self.ts.shape[0] == self.price.shape[0] == self.quantum.shape[0]):
            raise ValueError("symbols, ts, price and quantum must have the same length")
        if self.currency is not None and len(self.currency) != len(self.symbols):
            raise ValueError("currency must have one entry per tick")
        if self.coin_ids is not None and len(self.coin_ids) != len(self.symbols):
            raise ValueError("coin_ids must have one entry per tick")
        if (self.change is None) != (self.change_signed is None):
            raise ValueError("change and change_signed come together")
        if self.change is not None and not (
            self.change.shape[0] == len(self.symbols) == self.change_signed.shape[0]  # type: ignore[union-attr]
        ):
            raise ValueError("change must have one entry per tick")
        if self.ts.dtype != np.int64 or self.price.dtype != np.float64 or self.quantum.dtype != np.float64:
            raise TypeError("ts must be int64, price and quantum float64 (use TickBatch.from_arrays)")

    @classmethod
    def from_arrays(
        cls,
        symbols: Sequence[str],
        ts: Any,
        price: Any,
        quantum: Any = None,
        currency: Any = None,
        coin_ids: Any = None,
        change: Any = None,
        change_signed: Any = None,
    ) -> TickBatch:
        """Build from any sequences; converts ts to int64 and price/quantum to float64 (None: unknown)."""
        n = len(symbols)
        return cls(
            list(symbols),
            np.ascontiguousarray(ts, dtype=np.int64),
            np.ascontiguousarray(price, dtype=np.float64),
            _nan(n) if quantum is None else np.ascontiguousarray(quantum, dtype=np.float64),
            None if currency is None else list(currency),
            None if coin_ids is None else list(coin_ids),
            None if change is None else np.ascontiguousarray(change, dtype=np.float64),
            None if change is None else np.ascontiguousarray(change_signed, dtype=bool),
        )

    @classmethod
    def from_ticks(cls, ticks: Sequence[Tick]) -> TickBatch:
        n = len(ticks)
        return cls(
            [t.symbol for t in ticks],
            np.fromiter((t.ts for t in ticks), dtype=np.int64, count=n),
            np.fromiter((t.price for t in ticks), dtype=np.float64, count=n),
            np.fromiter(
                (np.nan if t.price_quantum is None else t.price_quantum for t in ticks),
                dtype=np.float64,
                count=n,
            ),
            [t.currency for t in ticks],
            [t.coin_id for t in ticks],
            np.fromiter(
                (np.nan if t.change_pct is None else t.change_pct for t in ticks), dtype=np.float64, count=n
            ),
            np.fromiter((t.change_sign_known for t in ticks), dtype=bool, count=n),
        )

    @classmethod
    def empty(cls) -> TickBatch:
        return cls([], np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64))

    @classmethod
    def concat(cls, batches: Sequence[TickBatch]) -> TickBatch:
        if not batches:
            return cls.empty()
        currency = None
        if any(b.currency is not None for b in batches):
            currency = [c for b in batches for c in (b.currency or ["USD"] * len(b))]
        coin_ids = None
        if any(b.coin_ids is not None for b in batches):
            coin_ids = [c for b in batches for c in (b.coin_ids or [None] * len(b))]
        change = signed = None
        if any(b.change is not None for b in batches):
            change = np.concatenate([_nan(len(b)) if b.change is None else b.change for b in batches])
            signed = np.concatenate(
                [np.zeros(len(b), bool) if b.change_signed is None else b.change_signed for b in batches]
            )
        return cls(
            [s for b in batches for s in b.symbols],
            np.concatenate([b.ts for b in batches]),
            np.concatenate([b.price for b in batches]),
            np.concatenate([b.quantum for b in batches]),
            currency,
            coin_ids,
            change,
            signed,
        )

    def take(self, idx: npt.NDArray[np.int64]) -> TickBatch:
        """The ticks at positions ``idx``, in that order."""
        pos = idx.tolist()
        cur = None if self.currency is None else [self.currency[i] for i in pos]
        coins = None if self.coin_ids is None else [self.coin_ids[i] for i in pos]
        return TickBatch(
            [self.symbols[i] for i in pos],
            self.ts[idx],
            self.price[idx],
            self.quantum[idx],
            cur,
            coins,
            None if self.change is None else self.change[idx],
            None if self.change_signed is None else self.change_signed[idx],
        )

    def in_ts_order(self) -> TickBatch:
        """The ticks in event-time order (stable: ties keep stream order); itself when already so."""
        ts = self.ts
        if len(ts) < 2 or bool((ts[1:] >= ts[:-1]).all()):
            return self
        return self.take(np.argsort(ts, kind="stable"))

    def slice(self, start: int, stop: int) -> TickBatch:
        """Ticks ``start:stop`` in stream order (used to cut a stream into batches)."""
        cur = None if self.currency is None else self.currency[start:stop]
        return TickBatch(
            self.symbols[start:stop],
            self.ts[start:stop],
            self.price[start:stop],
            self.quantum[start:stop],
            cur,
            None if self.coin_ids is None else self.coin_ids[start:stop],
            None if self.change is None else self.change[start:stop],
            None if self.change_signed is None else self.change_signed[start:stop],
        )

    def __len__(self) -> int:
        return len(self.symbols)
