"""Series identity: which row of the engine's arrays a tick belongs to.

A series is (symbol, coin id, quote currency): two coins that share a ticker (told apart by their
coin id) are two series, and so is one coin quoted in two currencies. A window never mixes them, so
a BTC tick in EUR inside a USD stream is not a -8 % move, and a second token called USDC is not a
depeg of the real one.

- A tick with a coin id goes to the series of that coin and quote. The first such tick may *claim*
  a series of its symbol that had no coin id so far (ticks from pages without the slug line), when
  that series is the symbol's only one in that quote.
- A tick without a coin id goes to the symbol's only series in its quote. When the symbol has
  several there (a shared ticker), the tick is ambiguous: it is dropped and counted, because a guess
  would put one coin's price into another coin's window.

Kafka partitioning and ownership stay by symbol (the message key): every series of a symbol lives
in the same partition, engine and checkpoint.

The hot path is one dict lookup per tick (symbol -> the symbol's first series, its *home*) and a
vectorised check that each tick's quote and coin id fit its home; only the ticks of symbols where
some tick does not fit (new symbols, second quotes, shared tickers) are resolved one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
#: (symbol, coin id, quote currency); None: not given by the source.
SeriesKey = tuple[str, str | None, str | None]
#: Row of a tick that fits no series unambiguously (dropped).
AMBIGUOUS = -1
#: Row of a tick whose new series would exceed the series limit (dropped).
OVER_LIMIT = -2


class SeriesIndex:
    def __init__(self, max_series: int = 2**62) -> None:
        self.max_series = max_series
        self._home: dict[str, int] = {}  # symbol -> row of its first series
        self._home_coin: dict[str, str | None] = {}  # symbol -> coin id of that series
        self._by_symbol: dict[str, list[int]] = {}  # symbol -> its rows, oldest first
        self.symbol: list[str] = []  # per row; "" for a free row
        self.coin: list[str | None] = []
        self.quote: list[str | None] = []
        self._free: list[int] = []
        self._mutations = 0  # series created or claimed so far (invalidates resolutions)
        self._quote_ids: dict[str | None, int] = {None: 0}
        # Per row, for the vectorised check: its coin id, and one code for its quote id and whether
        # it is "the only series of its symbol in its quote" (a tick without a coin id may go
        # there): 2 * quote id + alone, so the common check is one gather and one compare.
        self._coin = np.empty(0, dtype=object)
        self._code = np.zeros(0, dtype=np.int32)
        self._grow(16)  # never empty: an unknown symbol's row -1 is read (and masked) as row 0

    @property
    def size(self) -> int:
        """Rows in use or free (the engine's arrays must have at least this many)."""
        return len(self.symbol)

    def __len__(self) -> int:
        return self.size - len(self._free)

    def symbols(self) -> list[str]:
        return sorted(self._by_symbol)

    def rows_of(self, symbol: str) -> list[int]:
        """The rows of ``symbol``'s series, oldest first ([] if none)."""
        return list(self._by_symbol.get(symbol, ()))

    def home(self, symbol: str) -> int | None:
        """Row of the symbol's first series (per-symbol views such as its last price use it)."""
        return self._home.get(symbol)

    def key(self, row: int) -> SeriesKey:
        return (self.symbol[row], self.coin[row], self.quote[row])

    # --- ticks -> rows -------------------------------------------------------------------------

    def rows(
        self, symbols: Sequence[str], currency: Sequence[str] | None, coin_ids: Sequence[str | None] | None
    ) -> tuple[I64, set[str], int | None]:
        """The row of each tick (``AMBIGUOUS`` for a tick without a coin id on a shared ticker,
        ``OVER_LIMIT`` for one whose new series would pass ``max_series``), creating series as
        needed; the symbols whose series changed (created or claimed); and where the batch must be
        cut (None: nowhere).

        A cut at ``i``: tick ``i`` would create or claim a series of a symbol that has ticks earlier
        in the batch. Those earlier ticks must be processed with the series as they were before it
        (the coin id their events carry, which series their peg judges), as they would have been
        in a batch of their own: a batch's events must not depend on where the stream was cut
        (replay and Kafka cut it differently). Only the ticks before ``i`` were resolved; the
        caller processes them, then the rest."""
        n = len(symbols)
        known = True
        try:  # the steady state: every symbol known, one C-level dict lookup per tick
            rows = np.fromiter(map(self._home.__getitem__, symbols), dtype=np.int64, count=n)
        except KeyError:
            rows = np.fromiter((self._home.get(s, -1) for s in symbols), dtype=np.int64, count=n)
            known = False
        at = rows if known else np.maximum(rows, 0)
        code = self._code[at]
        if currency is None:
            qid: Any = 0
        elif currency.count(currency[0]) == n:
            qid = self._quote_id_of(currency[0])
        else:
            qid = np.fromiter(map(self._quote_id_of, currency), dtype=np.int32, count=n)
        if coin_ids is None:
            fits = code == qid * 2 + 1  # same quote, and the symbol's only series there
        elif _all_home_coins(self._home_coin, symbols, coin_ids):
            fits = (code | 1) == qid * 2 + 1  # the usual stream: every tick carries its home's coin id
        elif coin_ids.count(None) == n:
            fits = code == qid * 2 + 1
        else:
            coins = np.empty(n, dtype=object)
            coins[:] = coin_ids
            no_id = coins == None  # noqa: E711 -- elementwise on an object array, not an identity test
            fits = ((code | 1) == qid * 2 + 1) & ((coins == self._coin[at]) | (no_id & ((code & 1) == 1)))
        if not known:
            fits &= rows >= 0
        changed: set[str] = set()
        if fits.all():
            return rows, changed, None
        # Every tick of a symbol with a misfit is resolved in stream order: a claim or a new
        # series changes where that symbol's later ticks belong.
        misfit_rows = np.unique(rows[~fits])
        slow = np.flatnonzero(np.isin(rows, misfit_rows))
        # One resolution per (symbol, coin, quote) until the symbol's series change (a new symbol's
        # first batch would otherwise resolve every one of its ticks): a new or claimed series can
        # only change where the symbol's ticks *without* a coin id belong, so only those are redone.
        memo: dict[str, dict[tuple[str | None, str | None], int]] = {}
        for i in slow.tolist():
            symbol = symbols[i]
            key = (None if coin_ids is None else coin_ids[i], None if currency is None else currency[i])
            seen = symbol in memo  # every tick of a symbol with a misfit is in ``slow``
            known_rows = memo.setdefault(symbol, {})
            r = known_rows.get(key)
            if r is None and seen and self._would_change(symbol, *key):
                return rows, changed, i
            if r is None:
                before = self._mutations
                r = self._resolve(symbol, key[0], key[1], changed)
                if self._mutations != before:
                    for k in [k for k in known_rows if k[0] is None]:
                        del known_rows[k]
                known_rows[key] = r
            rows[i] = r
        return rows, changed, None

    def _would_change(self, symbol: str, coin: str | None, quote: str | None) -> bool:
        """Would resolving this tick create or claim a series (``_resolve`` without its effects)?"""
        rows = self._by_symbol.get(symbol)
        room = len(self) < self.max_series
        if rows is None:
            return room
        same_quote = [r for r in rows if self.quote[r] == quote]
        if coin is None:
            return not same_quote and room
        if any(self.coin[r] == coin for r in same_quote):
            return False
        return (len(same_quote) == 1 and self.coin[same_quote[0]] is None) or room

    def _resolve(self, symbol: str, coin: str | None, quote: str | None, changed: set[str]) -> int:
        rows = self._by_symbol.get(symbol)
        if rows is None:
            return self._create(symbol, coin, quote, changed)
        same_quote = [r for r in rows if self.quote[r] == quote]
        if coin is None:
            if not same_quote:
                return self._create(symbol, None, quote, changed)
            return same_quote[0] if len(same_quote) == 1 else AMBIGUOUS
        for r in same_quote:
            if self.coin[r] == coin:
                return r
        if len(same_quote) == 1 and self.coin[same_quote[0]] is None:
            r = same_quote[0]  # claim: the id-less series was this coin all along
            self._mutations += 1
            self.coin[r] = coin
            self._coin[r] = coin
            if self._home[symbol] == r:
                self._home_coin[symbol] = coin
            changed.add(symbol)
            return r
        return self._create(symbol, coin, quote, changed)

    def row_for(self, key: SeriesKey) -> int:
        """The row of exactly this series, created if absent (a checkpoint restores series as they were)."""
        symbol, coin, quote = key
        for r in self._by_symbol.get(symbol, ()):
            if self.coin[r] == coin and self.quote[r] == quote:
                return r
        return self._add(symbol, coin, quote, set())  # owned state is restored beyond the limit too

    def _create(self, symbol: str, coin: str | None, quote: str | None, changed: set[str]) -> int:
        if len(self) >= self.max_series:
            return OVER_LIMIT
        return self._add(symbol, coin, quote, changed)

    def _add(self, symbol: str, coin: str | None, quote: str | None, changed: set[str]) -> int:
        self._mutations += 1
        if self._free:
            r = self._free.pop()
            self.symbol[r], self.coin[r], self.quote[r] = symbol, coin, quote
        else:
            r = len(self.symbol)
            self.symbol.append(symbol)
            self.coin.append(coin)
            self.quote.append(quote)
            if r >= self._code.shape[0]:
                self._grow(max(16, 2 * r))
        self._coin[r] = coin
        self._by_symbol.setdefault(symbol, []).append(r)
        if symbol not in self._home:
            self._home[symbol] = r
            self._home_coin[symbol] = coin
        self._refresh_alone(symbol)
        changed.add(symbol)
        return r

    def drop(self, symbols: Iterable[str]) -> list[int]:
        """Forget every series of ``symbols``; returns their rows (free for reuse)."""
        freed: list[int] = []
        for s in set(symbols):
            rows = self._by_symbol.pop(s, None)
            if rows is None:
                continue
            del self._home[s]
            del self._home_coin[s]
            for r in rows:
                self.symbol[r], self.coin[r], self.quote[r] = "", None, None
                self._coin[r] = None
                self._code[r] = 0
            freed.extend(rows)
        # Reused lowest first, so row numbers stay dense and do not depend on the order of drops.
        self._free = sorted(set(self._free) | set(freed), reverse=True)
        return sorted(freed)

    def _refresh_alone(self, symbol: str) -> None:
        rows = self._by_symbol[symbol]
        for r in rows:
            alone = sum(1 for o in rows if self.quote[o] == self.quote[r]) == 1
            self._code[r] = 2 * self._quote_id_of(self.quote[r]) + alone

    def _quote_id_of(self, quote: str | None) -> int:
        i = self._quote_ids.get(quote)
        if i is None:
            i = self._quote_ids[quote] = len(self._quote_ids)
        return i

    def _grow(self, rows: int) -> None:
        old = self._code.shape[0]
        coin = np.empty(rows, dtype=object)
        coin[:old] = self._coin
        self._coin = coin
        self._code = np.concatenate([self._code, np.zeros(rows - old, dtype=np.int32)])


def _all_home_coins(
    home_coin: dict[str, str | None], symbols: Sequence[str], coin_ids: Sequence[str | None]
) -> bool:
    """Does every tick carry its symbol's home coin id? One C-level map and list compare: about
    half the cost of the elementwise object-array test it saves in the steady state."""
    try:
        expected = list(map(home_coin.__getitem__, symbols))
    except KeyError:  # a new symbol
        return False
    return expected == (coin_ids if isinstance(coin_ids, list) else list(coin_ids))
