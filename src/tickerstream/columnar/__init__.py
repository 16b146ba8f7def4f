"""Parquet recordings of ticks: the tick schema as Arrow types, writing one file or a day-partitioned
directory of rotating files, and reading a file's tick columns (``reader.py``).

Readers that need the engine's batch (``ticker-replay``) convert in ``replay/parquet_input.py``;
this folder knows only the records, so both the producer's archive and the replay can use it.
"""

from tickerstream.columnar.schema import TICK_SCHEMA, table_from_json_values
from tickerstream.columnar.writer import ParquetDataset, ParquetFile, open_parquet_sink

__all__ = [
    "TICK_SCHEMA",
    "ParquetDataset",
    "ParquetFile",
    "open_parquet_sink",
    "table_from_json_values",
]
