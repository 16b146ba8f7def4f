"""The tick record as Arrow types: what we write, and what a Parquet recording must hold to be read.

Column for column the JSON tick (README "Tick"), with one deliberate change: ``ts`` is
``timestamp[ms, UTC]``, not an integer. pandas, polars and DuckDB then show a time without being
told the unit, filters like ``ts >= '2025-01-20'`` work, and the value is still the same int64 of
milliseconds underneath (reading it back as int64 is a zero-copy cast). Files written by others
may carry ``ts`` as int64 milliseconds instead; both are read.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.json as pa_json

TS_TYPE = pa.timestamp("ms", tz="UTC")

#: Nullability follows the JSON schema: only coin_id, change_pct and price_quantum may be null; and
#: symbol_source, which a v1 or v2 record does not carry (null there: the page's symbol, as every
#: symbol was before v3).
TICK_SCHEMA = pa.schema(
    [
        pa.field("v", pa.int8(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("coin_id", pa.string()),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("change_pct", pa.float64()),
        pa.field("change_sign_known", pa.bool_(), nullable=False),
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("price_quantum", pa.float64()),
        pa.field("symbol_source", pa.string()),
    ]
)
#: Columns added after v1 (``price_quantum``: v2, ``symbol_source``: v3): a recording may lack them.
OPTIONAL_COLUMNS = ("price_quantum", "symbol_source")
#: Columns a recording must have.
REQUIRED_COLUMNS = tuple(f.name for f in TICK_SCHEMA if f.name not in OPTIONAL_COLUMNS)

# JSON has no timestamp type: parse ts as the integer it is, then cast (zero-copy) to TS_TYPE.
_JSON_SCHEMA = pa.schema([f.with_type(pa.int64()) if f.name == "ts" else f for f in TICK_SCHEMA])
_JSON_OPTIONS = pa_json.ParseOptions(explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="ignore")


def table_from_json_values(values: list[bytes]) -> pa.Table:
    """Tick records as we encode them (one JSON object each, v1, v2 or v3) -> a table of ``TICK_SCHEMA``.

    Parsed in C++ by Arrow's JSON reader: the producer's archive converts every acknowledged
    tick, and a Python loop over decoded objects would cost more than producing the tick did.
    A v1 record has no ``price_quantum`` and a v1 or v2 record no ``symbol_source``: null. The values
    must be valid ticks (ours are).
    """
    if not values:
        return TICK_SCHEMA.empty_table()
    data = b"\n".join(values)
    # The reader cuts its input into blocks at line ends; one block per call keeps row order trivial.
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 20))
    table = pa_json.read_json(io.BytesIO(data), read_options=read, parse_options=_JSON_OPTIONS)
    ts = table.column("ts").cast(TS_TYPE)
    return table.set_column(table.schema.get_field_index("ts"), TICK_SCHEMA.field("ts"), ts).cast(TICK_SCHEMA)
