"""Dead letters (``processor.dlq``): a bad tick record becomes a valid reject that names its source."""

from __future__ import annotations

import orjson

from tickerstream.model import RejectReason
from tickerstream.processor.dlq import reject_for
from tickerstream.processor.pending import BadTick


def test_dead_letter_is_a_valid_reject_with_source_and_a_short_raw(validate_record: object) -> None:
    big = BadTick(4, 99, RejectReason.MESSAGE_TOO_LARGE, "1000020 bytes > 16384", b'{"pad":"' + b"x" * 10**6)
    key, value = reject_for("ticker.ticks", big)
    obj = orjson.loads(value)
    validate_record("reject", obj)  # type: ignore[operator]
    assert key == b"ticker.ticks/4/99" and obj["source"] == "ticker.ticks/4/99"
    assert obj["reason"] == "message_too_large" and len(obj["raw"]) == 512 and obj["raw"].endswith("…")
    _, value = reject_for("t", BadTick(0, 1, RejectReason.NOT_JSON, "", b"\xff\xfe bad utf8"))
    obj = orjson.loads(value)
    validate_record("reject", obj)  # type: ignore[operator]
    assert obj["detail"] is None and "bad utf8" in obj["raw"]
