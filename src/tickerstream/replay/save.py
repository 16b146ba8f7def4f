"""``ticker-replay --from-topic ... --save PATH``: keep a topic's time range for later backtests.

The format follows the name, as the producer's ``--archive`` does: ``*.parquet`` is one Parquet file
(replaced if it exists, like ``--out``), a directory (existing, or named with a trailing ``/``) a
day-partitioned Parquet dataset that the range's files are added to, anything else JSON Lines of the
records exactly as the topic held them. Either way ``ticker-replay PATH`` replays the same ticks.
"""

from __future__ import annotations

from collections.abc import Sequence

from tickerstream.sources.recordings import is_parquet_target

#: Records converted per call: bounds the Arrow JSON parser's buffer whatever the range's size.
CHUNK = 100_000


def save_records(path: str, values: Sequence[bytes]) -> int:
    """Write tick records (JSON, as read from the topic) to ``path``; returns how many.

    Raises ``OSError`` when ``path`` cannot be written.
    """
    if is_parquet_target(path):
        # Imported here: pyarrow takes a while to load, and only a Parquet target needs it.
        from tickerstream.columnar.writer import open_parquet_sink

        sink = open_parquet_sink(path, overwrite=True)
        for i in range(0, len(values), CHUNK):
            sink.write_values(list(values[i : i + CHUNK]))
        sink.close()  # not on an error: a file that failed half-way stays hidden (.inprogress)
    else:
        with open(path, "wb") as fh:
            for i in range(0, len(values), CHUNK):
                fh.write(b"".join(v + b"\n" for v in values[i : i + CHUNK]))
    return len(values)
