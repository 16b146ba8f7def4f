"""Reference-price records (``processor.refprices``): their encoding and which ticks
are published as references."""

from __future__ import annotations

import numpy as np

from tickerstream.processor.refprices import decode_ref, encode_ref, reference_ticks


def test_reference_records_round_trip_and_ignore_junk() -> None:
    rec = decode_ref(encode_ref("BTC", 5, 104_000.5, 7))
    assert rec is not None and (rec.symbol, rec.ts, rec.price, rec.until) == ("BTC", 5, 104_000.5, 7)
    progress = decode_ref(encode_ref("ETH", None, None, 9))
    assert progress is not None and progress.ts is None and progress.until == 9
    for junk in (None, b"", b"nope", b"[]", b'{"v":2}', b'{"v":1,"symbol":"BTC","until":"x"}'):
        assert decode_ref(junk) is None
    bad_price = decode_ref(b'{"v":1,"symbol":"BTC","ts":1,"price":-1,"until":3}')
    assert bad_price is not None and bad_price.ts is None  # progress kept, point dropped


def test_reference_ticks_are_only_those_on_their_own_owned_partition() -> None:
    syms = ["BTC", "SOL", "BTC", "ETH", "WBTC"]
    part = np.array([2, 2, 0, 1, 3])  # the BTC at row 2 came from a foreign partition: not ours to publish
    assert reference_ticks(syms, part, {"BTC": 2, "ETH": 1}, {0, 1, 2, 3}) == [0, 3]
    assert reference_ticks(syms, part, {"BTC": 2, "ETH": 1}, {0, 3}) == []
