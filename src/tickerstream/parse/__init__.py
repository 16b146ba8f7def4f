"""Ticker text -> ticks and rejects. Pure: no I/O, no clock; the caller passes the event time.

``parse_text`` / ``parse_bytes`` parse one snapshot (a page); ``SnapshotParser`` does the same
incrementally for a file followed as it grows. Modules: ``snapshot`` (the driver), ``widget`` (the
fast path for the dominant widget layout), ``records`` (one line -> records, the general path: a
layout, then the values read off it), ``anchors`` (where a line's prices, identifiers and percents
are), ``shapes`` (the layout cache: lines that differ only in their numbers share a layout),
``patterns`` (the regexes), ``numbers`` (reading digits), ``slugs`` (coin-id lines), ``ticks`` (cheap
``Tick`` construction), ``vocab`` (currencies and words the parser trusts), ``names`` (rows that show
a name and no symbol) and ``registry`` (the vendored coin list as a name -> symbol index for them).
"""

from tickerstream.parse.records import MAX_CHANGE_PCT, MIN_CHANGE_PCT
from tickerstream.parse.snapshot import MAX_LINE_CHARS, ParseResult, SnapshotParser, parse_bytes, parse_text

__all__ = [
    "MAX_CHANGE_PCT",
    "MAX_LINE_CHARS",
    "MIN_CHANGE_PCT",
    "ParseResult",
    "SnapshotParser",
    "parse_bytes",
    "parse_text",
]
