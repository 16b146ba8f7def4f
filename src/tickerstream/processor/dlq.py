"""Dead letters: a record of the ticks topic that is not a valid tick becomes a ``Reject``.

The value is ``Reject.to_json()`` (valid against ``schemas/reject.schema.json``): the reason from the
closed set, the raw value cut to 512 characters (only the first bytes of a huge value are even decoded),
``source`` = ``<topic>/<partition>/<offset>`` so an operator can fetch the original, and a detail. The
key is the source, so retries of the same dead letter are recognisable.
"""

from __future__ import annotations

from tickerstream.model import REJECT_RAW_MAX_CHARS, Reject
from tickerstream.processor.pending import BadTick

#: Bytes of a bad value decoded for the dead letter: enough for 512 characters of any UTF-8.
_RAW_BYTES = REJECT_RAW_MAX_CHARS * 4


def reject_for(topic: str, bad: BadTick) -> tuple[bytes, bytes]:
    """(key, value) of the dead letter for ``bad``."""
    source = f"{topic}/{bad.partition}/{bad.offset}"
    raw = bad.raw[: _RAW_BYTES + 1].decode("utf-8", errors="replace")
    if len(bad.raw) > _RAW_BYTES:
        raw = raw[:REJECT_RAW_MAX_CHARS] + "…"  # truncate_raw keeps the marker within the limit
    reject = Reject(raw=raw, reason=bad.reason, source=source, detail=bad.detail or None)
    return source.encode(), reject.to_json()
