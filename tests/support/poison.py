"""Poison records for fuzzing: byte-level mutations of valid tick records (a hypothesis strategy).

Random bytes rarely get past a JSON parser's first byte, so they never reach the interesting cases
(a stray 0xff inside a string, a price of 1e200, a ts cut in half, a closing brace gone). Mutating
real records does: each example is a valid tick with a few bytes replaced, inserted or deleted.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tickerstream.model import Tick

SEEDS = [
    Tick("BTC", "Bitcoin", "bitcoin", 104442.98, "USD", 0.48, False, 1_000, "a").to_json(),
    Tick("USDC", "USD Coin", None, 0.9987, "USD", None, False, 1_500, "a").to_json(),
    Tick("ETH", "Ethereum", "ethereum", 3259.53, "KRW", -2.3, True, 2_000, "b").to_json(),
]

#: Bytes that matter to a JSON tick decoder: structure, digits, exponents, quotes, non-UTF-8.
_INTERESTING = b'{}[]",:.-+eE019 \\\x00\x80\xc3\xff\xfe'
_byte = st.one_of(st.sampled_from(list(_INTERESTING)), st.integers(0, 255))
_edit = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.floats(0, 1, exclude_max=True), _byte)


@st.composite
def mutated_tick(draw: st.DrawFn) -> bytes:
    """A valid tick record with 0-4 byte edits (0 keeps some valid records in every batch)."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for op, where, byte in draw(st.lists(_edit, max_size=4)):
        pos = int(where * len(data)) if data else 0
        if op == "replace" and data:
            data[pos] = byte
        elif op == "insert":
            data.insert(pos, byte)
        elif op == "delete" and data:
            del data[pos]
    return bytes(data)


#: Also whole-value swaps a fuzzer would take long to find: huge exponents, the wrong encoding.
SPLICES = [
    SEEDS[0].replace(b"104442.98", b"1e200"),
    SEEDS[0].replace(b"104442.98", b"1e-300"),
    SEEDS[0].replace(b"Bitcoin", b"Bit\xffcoin"),
    SEEDS[0].replace(b"1000", b"99999999999999999999999"),
    b"",
]

poison_record = st.one_of(mutated_tick(), st.sampled_from(SEEDS + SPLICES))
