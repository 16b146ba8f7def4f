"""One snapshot (a page, or a file followed as it grows) -> ticks and rejects, in page order.

Two paths share one set of rules. The *fast path* is a single regex run over the whole text that
recognises the dominant widget block (``slug`` line + ``Name (SYM) $ price pct%``) at C speed; whatever
lies between its matches goes line by line through the *general path* (``records.parse_line``), which
knows every other family. A fast-path match that needs any judgement (odd symbol, prose-like name, value
out of range) is handed to the general path too, so both paths always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tickerstream.model import Reject, RejectReason, Tick, truncate_raw
from tickerstream.parse import patterns as P
from tickerstream.parse.records import (
    MAX_CHANGE_PCT,
    Bad,
    Found,
    name_ok,
    parse_line,
    symbol_of,
    table_pct_ordinal,
)
from tickerstream.parse.slugs import MAX_SLUG_CHARS, as_slug, slug_belongs
from tickerstream.parse.vocab import MAX_PRICE_USD, MIN_PRICE

#: Lines longer than this are not scanned (a reject if they could hold a price). A flattened table of
#: a hundred coins fits; a minified script does not.
MAX_LINE_CHARS = 8192
_TOO_LONG = f"line longer than {MAX_LINE_CHARS} characters"

_FAST = re.compile(
    r"^(?:([a-z0-9]+(?:-[a-z0-9]+)*)\r?\n)?"
    r"([A-Za-z][^\n\r$()|]{0,63}?(?: ?\([^\n\r$()]{1,32}\)[^\n\r$()|]{0,32}?)?)"
    r" ?\(([A-Za-z0-9]{1,15})\) ?\$ ?"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,12})?|\d{1,12}(?:\.\d{1,12})?)"
    r" (\d{1,4}(?:\.\d{1,4})?)%[ \t]*(?:\r?\n|\Z)",
    re.M,
)


@dataclass(slots=True)
class ParseResult:
    """Ticks and rejects of one parse call, each in page order."""

    ticks: list[Tick] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class SnapshotParser:
    """Incremental parser of one snapshot: feed text as it arrives, then ``close``.

    Keeps what must survive a chunk boundary: the unfinished last line, a pending slug line, the
    column layout of a table header, and the (symbol, currency, price) already seen, since marquee
    widgets repeat their list to loop and a repeat is not a new observation.
    """

    def __init__(self, *, ts: int, source: str) -> None:
        self.ts = ts
        self.source = source
        self._buf = ""
        self._overlong = False
        self._slug: str | None = None
        self._slug_adjacent = False
        self._pct_ordinal: int | None = None
        self._seen: set[tuple[str, str, float]] = set()
        self._seen_rejects: set[tuple[RejectReason, str]] = set()
        self._out = ParseResult()

    def feed(self, chunk: str) -> ParseResult:
        """Parse the complete lines in ``chunk`` (plus what was buffered); return their records."""
        buf = self._buf + chunk if self._buf else chunk
        cut = buf.rfind("\n")
        if cut < 0:
            self._buf = buf
            if len(buf) > MAX_LINE_CHARS:
                self._drop_overlong(buf)
        else:
            self._buf = buf[cut + 1 :]
            self._scan(buf[: cut + 1])
        return self._take()

    def close(self) -> ParseResult:
        """Parse what is left (a last line without newline) and return it."""
        if self._buf:
            buf, self._buf = self._buf, ""
            self._scan(buf)
        self._overlong = False
        return self._take()

    # -- internals -------------------------------------------------------------------------------

    def _take(self) -> ParseResult:
        out, self._out = self._out, ParseResult()
        return out

    def _drop_overlong(self, buf: str) -> None:
        if not self._overlong:
            self._reject(buf, RejectReason.LINE_TOO_LONG, _TOO_LONG)
        self._overlong = True
        self._buf = ""

    def _reject(self, raw: str, reason: RejectReason, detail: str) -> None:
        raw = truncate_raw(raw)
        key = (reason, raw)
        if key not in self._seen_rejects:
            self._seen_rejects.add(key)
            self._out.rejects.append(Reject(raw, reason, self.source, detail))

    def _scan(self, text: str) -> None:
        if self._overlong:  # the rest of a line already rejected as too long
            nl = text.find("\n")
            if nl < 0:
                return
            self._overlong = False
            text = text[nl + 1 :]
        pos = 0
        ticks = self._out.ticks
        seen = self._seen
        ts, source = self.ts, self.source
        for m in _FAST.finditer(text):
            if m.start() > pos:
                self._general(text[pos : m.start()])
            pos = m.end()
            slug, name, sym, price_s, pct_s = m.groups()
            symbol = symbol_of(sym, paren=True)
            name = name.rstrip()
            price = float(price_s.replace(",", "")) if "," in price_s else float(price_s)
            pct = float(pct_s)
            if (
                symbol is None
                or not MIN_PRICE <= price <= MAX_PRICE_USD
                or pct > MAX_CHANGE_PCT
                or not name_ok(name, False)
                or (slug is not None and (len(slug) > MAX_SLUG_CHARS or slug.isdigit()))
            ):
                self._general(m.group(0))
                continue
            if slug is not None:
                coin_id = slug if slug_belongs(slug, symbol, name, adjacent=True) else None
            elif self._slug is not None:
                coin_id = self._pending_slug_for(symbol, name)
            else:
                coin_id = None
            self._slug = None
            self._pct_ordinal = None
            key = (symbol, "USD", price)
            if key in seen:
                continue
            seen.add(key)
            ticks.append(Tick(symbol, name, coin_id, price, "USD", pct, False, ts, source))
        if pos < len(text):
            self._general(text[pos:])

    def _pending_slug_for(self, symbol: str, name: str) -> str | None:
        slug = self._slug
        if slug is not None and slug_belongs(slug, symbol, name, adjacent=self._slug_adjacent):
            return slug
        return None

    def _general(self, block: str) -> None:
        lines = block.split("\n")
        if block.endswith("\n"):
            lines.pop()
        for raw in lines:
            line = raw[:-1] if raw.endswith("\r") else raw
            if not line or line.isspace():
                self._slug_adjacent = False
                continue
            if len(line) > MAX_LINE_CHARS:
                self._slug = None
                if P.PREFILTER.search(line):
                    self._reject(line, RejectReason.LINE_TOO_LONG, _TOO_LONG)
                continue
            slug = as_slug(line)
            if slug is not None:
                self._slug, self._slug_adjacent = slug, True
                continue
            is_table = "|" in line or "\t" in line
            if is_table:
                ordinal = table_pct_ordinal(line)
                if ordinal is not None:
                    self._pct_ordinal = ordinal
                    self._slug = None
                    continue
            else:
                self._pct_ordinal = None
            if P.PREFILTER.search(line) is None:
                self._slug = None
                continue
            self._emit(line, parse_line(line, (self._pct_ordinal or 0) if is_table else 0))
            self._slug = None

    def _emit(self, line: str, items: list[Found | Bad]) -> None:
        first = True
        for item in items:
            if isinstance(item, Bad):
                self._reject(line, item.reason, item.detail)
                first = False
                continue
            coin_id = None
            if first and self._slug is not None:
                coin_id = self._pending_slug_for(item.symbol, item.name)
            first = False
            key = (item.symbol, item.currency, item.price)
            if key in self._seen:
                continue
            self._seen.add(key)
            self._out.ticks.append(
                Tick(
                    item.symbol,
                    item.name,
                    coin_id,
                    item.price,
                    item.currency,
                    item.change_pct,
                    item.sign_known,
                    self.ts,
                    self.source,
                )
            )


def parse_text(text: str, *, ts: int, source: str = "-") -> ParseResult:
    """Parse one snapshot (a whole page); repeats of the same (symbol, price) inside it count once."""
    parser = SnapshotParser(ts=ts, source=source)
    parser._scan(text[1:] if text.startswith("\ufeff") else text)
    return parser.close()


def parse_bytes(data: bytes, *, ts: int, source: str = "-") -> ParseResult:
    """Like ``parse_text`` for raw bytes: lines that are not valid UTF-8 become INVALID_UTF8 rejects."""
    try:
        return parse_text(data.decode("utf-8"), ts=ts, source=source)
    except UnicodeDecodeError:
        pass
    bad: list[Reject] = []
    lines: list[str] = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            text = truncate_raw(raw.decode("utf-8", "replace"))
            bad.append(Reject(text, RejectReason.INVALID_UTF8, source, f"{exc.reason} at byte {exc.start}"))
            lines.append("\x00")  # a non-ticker line: breaks slug adjacency like any other junk
    result = parse_text("\n".join(lines), ts=ts, source=source)
    result.rejects[:0] = bad
    return result
