"""Where text and recordings come from: files and directories (``files``), stdin (``stdin``), inputs
followed as they grow (``follow``), recordings of ticks (``recordings``) and generated sample data
(``sample``). Nothing here parses tickers or talks to Kafka.
"""

from tickerstream.sources.files import (
    Snapshot,
    iter_snapshots,
    now_ms,
    parse_iso_ts,
    ts_from_name,
    walk_files,
)

__all__ = ["Snapshot", "iter_snapshots", "now_ms", "parse_iso_ts", "ts_from_name", "walk_files"]
