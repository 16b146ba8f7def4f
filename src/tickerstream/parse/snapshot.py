"""One snapshot (a page, or a file followed as it grows) -> ticks and rejects, in page order.

Prose is skipped at C speed: ``hits`` (a currency sign or a fiat code) finds the next line that could
hold a price, and only such lines are looked at. On a hit line the *fast path* (``widget``) tries the
dominant widget layout (``Name (SYM) $ price pct%``, after an optional slug line) and, once it matches,
takes the whole run of slug+record lines with one ``findall``; a block with a row that needs any
judgement (odd symbol, prose-like name, value out of range) is taken row by row, and such rows go to
the *general path* (``records.parse_line_cached``: memoised per line, and per line *shape* so a row
whose numbers changed only has its values read), which knows every other family, so both paths
always agree. Context (the slug line above a record, the table header above a row) is read by
looking back from the record, so lines without prices cost nothing.

Rows that show a name and no symbol (``names``) are tried only on lines neither path read: hit lines
that gave no record, and lines ending in a percent between hits (``_gap``: ``str.find`` from one
``%`` to the next over the stretches of lines without a currency marker).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tickerstream.model import (
    SYMBOL_FROM_PAGE,
    SYMBOL_FROM_REGISTRY,
    Reject,
    RejectReason,
    Tick,
    truncate_raw,
)
from tickerstream.parse import patterns as P
from tickerstream.parse.hits import hit_finder
from tickerstream.parse.names import read_name_row
from tickerstream.parse.records import Bad, Found, parse_line_cached, table_pct_ordinal
from tickerstream.parse.slugs import as_slug, slug_belongs, spelled_by_slug
from tickerstream.parse.ticks import make_tick
from tickerstream.parse.widget import ROW, ROWS, emit_rows, ident_of, scan_rows

#: Lines longer than this are not scanned (a reject if they could hold a price). A flattened table of
#: a hundred coins fits; a minified script does not.
MAX_LINE_CHARS = 8192
_TOO_LONG = f"line longer than {MAX_LINE_CHARS} characters"
#: How many blank lines may separate a slug line from its record (then the slug must relate by name).
_MAX_BLANKS_AFTER_SLUG = 3
_MAX_TABLE_LOOKBACK = 64

_FAST_LINE = re.compile(ROW)
#: Takes a run of widget rows (see ``widget.ROWS``); module-level so a test can switch it off.
_EXTENT = ROWS
_BLOCK_ROW = re.compile(r"^(?:([a-z0-9][a-z0-9-]*)\n)?" + ROW + r"\n", re.M)


@dataclass(slots=True)
class ParseResult:
    """Ticks and rejects of one parse call, each in page order."""

    ticks: list[Tick] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class SnapshotParser:
    """Incremental parser of one snapshot: feed text as it arrives, then ``close``.

    Keeps what must survive a chunk boundary: the unfinished last line, the last non-blank line (a
    pending slug), the 24 h column of a table header, and the (symbol, currency, price) already seen,
    since marquee widgets repeat their list to loop and a repeat is not a new observation.
    """

    def __init__(self, *, ts: int, source: str) -> None:
        self.ts = ts
        self.source = source
        self._buf = ""
        self._at_start = True  # a byte-order mark may open the stream (as parse_text strips it)
        self._overlong = False
        self._prev_line: str | None = None  # last non-blank line of earlier chunks
        self._prev_blanks = 0  # blank lines after it
        self._prev_ordinal: int | None = None  # table column state at the end of earlier chunks
        self._row_ordinal: dict[int, int] = {}  # line start -> 24 h column, for the current chunk
        self._seen: set[tuple[str, str, float]] = set()
        self._seen_rejects: set[tuple[RejectReason, str]] = set()
        self._out = ParseResult()

    def feed(self, chunk: str) -> ParseResult:
        """Parse the complete lines in ``chunk`` (plus what was buffered); return their records."""
        buf = self._buf + chunk if self._buf else chunk
        if self._at_start and buf:
            self._at_start = False
            if buf.startswith("\ufeff"):
                buf = buf[1:]
        cut = buf.rfind("\n")
        if cut < 0:
            self._buf = buf
            if len(buf) > MAX_LINE_CHARS:
                if not self._overlong and P.MARK.search(buf):
                    self._reject(buf, RejectReason.LINE_TOO_LONG, _TOO_LONG)
                self._overlong = True
                self._buf = ""
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
        n = len(text)
        pos = 0
        next_hit = hit_finder(text)
        self._row_ordinal.clear()
        while pos < n:
            hp = next_hit(pos)
            if hp < 0:
                if text.find("%", pos) >= 0:
                    self._gap(text, pos, n)
                break
            ls = text.rfind("\n", 0, hp) + 1
            if ls > pos and text.find("%", pos, ls) >= 0:  # most stretches have none: no call
                self._gap(text, pos, ls)
            le = text.find("\n", hp)
            if le < 0:
                le = n
            if (
                text.startswith("%", le - 1)
                and text.find(") $ ", ls, le) >= 0  # cheap test before trying a widget block
                and (end := self._block(text, ls, le)) is not None
            ):
                pos = end
            else:
                pos = self._line(text, ls, le)
        self._remember_tail(text)

    def _line(self, text: str, ls: int, le: int) -> int:
        """Handle the line text[ls:le]; return where scanning resumes (past more lines if a block ran)."""
        if le - ls > MAX_LINE_CHARS:
            self._reject(text[ls:le], RejectReason.LINE_TOO_LONG, _TOO_LONG)
            return le + 1
        # ``ROW`` ends with ``%`` and holds ``) $ ``: two C-speed tests spare other styles' lines the
        # fullmatch (~1.5 µs: it backtracks over the name).
        m = None
        if text.startswith("%", le - 1) and text.find(") $ ", ls, le) >= 0:
            m = _FAST_LINE.fullmatch(text, ls, le)
        if m is not None:
            slug, adjacent = self._slug_before(text, ls)
            name, sym, price_s, pct_s = m.groups()
            if (adjacent or slug is None) and self._fast_row(slug or "", name, sym, price_s, pct_s):
                return le + 1
        line = text[ls : le - 1] if text.endswith("\r", ls, le) else text[ls:le]
        ordinal = 0
        if "|" in line or "\t" in line:
            header = table_pct_ordinal(line)
            if header is not None:
                self._row_ordinal[ls] = header
                return le + 1
            ordinal = self._table_ordinal(text, ls)
            self._row_ordinal[ls] = ordinal
        items = parse_line_cached(line, ordinal)
        if items:
            slug, adjacent = self._slug_before(text, ls)
            self._emit(line, items, slug, adjacent)
        elif "%" in line:
            self._name_row(text, ls, line)
        return le + 1

    def _gap(self, text: str, pos: int, end: int) -> None:
        """Name-only rows among the lines text[pos:end] (whole lines, none with a currency marker):
        only a line that ends in a percent can be one. ``str.find`` jumps from one ``%`` to the next
        in C (the caller has checked there is one: most stretches of prose have none)."""
        find = text.find
        while (p := find("%", pos, end)) >= 0:
            le = find("\n", p, end)
            if le < 0:
                le = end
            if p + 1 == le or text[p + 1 : le].isspace():  # the line ends in it (blanks, \r after)
                ls = text.rfind("\n", 0, p) + 1
                if le - ls <= MAX_LINE_CHARS:
                    self._name_row(text, ls, text[ls:le])
            pos = le + 1

    def _name_row(self, text: str, ls: int, line: str) -> None:
        """The tick (symbol from the coin registry) or reject of a name-only row on line ``ls``."""
        item = read_name_row(line)
        if item is not None:
            slug, adjacent = self._slug_before(text, ls)
            self._emit(line.rstrip("\r"), (item,), slug, adjacent, SYMBOL_FROM_REGISTRY)

    def _block(self, text: str, ls: int, le: int) -> int | None:
        """Take a widget block starting at the row on line ``ls`` with one ``findall``; return where it
        ends, or None if this line does not start one."""
        slug, adjacent = self._slug_before(text, ls)
        start = ls
        if slug is not None:
            if not adjacent or ls == 0:
                return None  # blank lines between, or the slug came in an earlier chunk: general rules
            start = text.rfind("\n", 0, ls - 1) + 1
        rows, end = scan_rows(text, start, _EXTENT)
        if end <= le:
            return None
        if emit_rows(rows, self._seen, self._out.ticks.append, self.ts, self.source):
            return end
        # Some row needs judgement (a name the fast grammar does not take, an odd value): take the rows
        # one by one and send the others through the general path, in page order.
        pos = start
        for m in _BLOCK_ROW.finditer(text, start, end):
            if m.start() > pos:
                self._lines(text, pos, m.start())
            slug, name, sym, price_s, pct_s = m.groups("")
            if not self._fast_row(slug, name, sym, price_s, pct_s):
                self._lines(text, m.start() if m.group(1) is None else m.end(1) + 1, m.end())
            pos = m.end()
        if pos < end:
            self._lines(text, pos, end)
        return end

    def _lines(self, text: str, pos: int, end: int) -> None:
        """Every line in text[pos:end] (which ends at a line end) through ``_line``; slug lines are
        context, read by look-back, so they are skipped here."""
        while pos < end:
            nl = text.find("\n", pos, end)
            if nl < 0:
                nl = end
            if as_slug(text[pos:nl]) is None and P.MARK.search(text, pos, nl):
                self._line(text, pos, nl)
            pos = nl + 1

    def _fast_row(self, slug: str, name: str, sym: str, price_s: str, pct_s: str) -> bool:
        """Emit one row matched by ``ROW``; False if it needs the general path's judgement."""
        row = (ident_of(slug, name, sym), price_s, pct_s)
        return emit_rows((row,), self._seen, self._out.ticks.append, self.ts, self.source)

    def _emit(
        self,
        line: str,
        items: Sequence[Found | Bad],
        slug: str | None,
        adjacent: bool,
        symbol_source: str = SYMBOL_FROM_PAGE,
    ) -> None:
        seen = self._seen
        append = self._out.ticks.append
        first = True
        for item in items:
            if isinstance(item, Bad):
                self._reject(line, item.reason, item.detail)
                first = False
                continue
            symbol, currency, price, name = item.symbol, item.currency, item.price, item.name
            coin_id = None
            if first and slug is not None and slug_belongs(slug, symbol, name, adjacent=adjacent):
                coin_id = slug
                if adjacent and name:
                    name = spelled_by_slug(line, name, slug)
            first = False
            key = (symbol, currency, price)
            if key in seen:
                continue
            seen.add(key)
            append(make_tick(symbol, name, coin_id, price, currency, item.change_pct, item.sign_known,
                             self.ts, self.source, item.quantum, symbol_source))  # fmt: skip

    def _slug_before(self, text: str, ls: int) -> tuple[str | None, bool]:
        """The slug line right above line ``ls`` (across at most a few blank lines), and whether it is
        directly adjacent. Any other line in between means there is no slug for this record."""
        end = ls - 1
        blanks = 0
        while blanks <= _MAX_BLANKS_AFTER_SLUG:
            if end < 0:
                if self._prev_line is None or blanks + self._prev_blanks > _MAX_BLANKS_AFTER_SLUG:
                    return None, False
                return as_slug(self._prev_line), blanks + self._prev_blanks == 0
            start = text.rfind("\n", 0, end) + 1
            if start < end and not (c := text[start]).isspace():
                # A slug starts with [a-z0-9]: most lines above a record (another record) are told
                # apart by their first character, without copying and stripping them.
                if "a" <= c <= "z" or "0" <= c <= "9":
                    return as_slug(text[start:end]), blanks == 0
                return None, blanks == 0
            prev = text[start:end]
            if prev and not prev.isspace():
                return as_slug(prev), blanks == 0
            blanks += 1
            end = start - 1
        return None, False

    def _table_ordinal(self, text: str, ls: int) -> int:
        """Which percent column is the 24 h change, from the header above this table row (0 if none)."""
        end = ls - 1
        for _ in range(_MAX_TABLE_LOOKBACK):
            if end < 0:
                return self._prev_ordinal or 0
            start = text.rfind("\n", 0, end) + 1
            known = self._row_ordinal.get(start)
            if known is not None:
                return known
            prev = text[start:end]
            if "|" not in prev and "\t" not in prev:
                return 0
            header = table_pct_ordinal(prev)
            if header is not None:
                return header
            end = start - 1
        return 0

    def _remember_tail(self, text: str) -> None:
        """Carry the last non-blank line (a possible slug) and table state to the next chunk."""
        stripped = text.rstrip()
        if not stripped:
            self._prev_blanks += text.count("\n")
            return
        start = stripped.rfind("\n") + 1
        self._prev_line = stripped[start:]
        self._prev_blanks = text.count("\n", len(stripped)) - 1 if text.endswith("\n") else 0
        last = self._prev_line
        if "|" in last or "\t" in last:
            header = table_pct_ordinal(last)
            self._prev_ordinal = header if header is not None else self._row_ordinal.get(start, 0)
        else:
            self._prev_ordinal = None


def parse_text(text: str, *, ts: int, source: str = "-") -> ParseResult:
    """Parse one snapshot (a whole page); repeats of the same (symbol, price) inside it count once."""
    parser = SnapshotParser(ts=ts, source=source)
    parser._scan(text[1:] if text.startswith("\ufeff") else text)
    return parser._take()


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
