"""Hypothesis strategies shared by the test modules: any tick the model can hold."""

from __future__ import annotations

from hypothesis import strategies as st

from tickerstream.model import Tick

#: Any valid tick, of any schema version's content (``price_quantum`` may be None). The source may
#: look like a record's tail: an encoder that cuts or splices the JSON must not be fooled by it.
any_tick = st.builds(
    Tick,
    symbol=st.text(min_size=1, max_size=12),
    name=st.text(max_size=40),
    coin_id=st.none() | st.text(max_size=30),
    price=st.floats(min_value=1e-12, max_value=1e9, allow_nan=False),
    currency=st.sampled_from(["USD", "EUR"]),
    change_pct=st.none() | st.floats(min_value=-100, max_value=5000, allow_nan=False),
    change_sign_known=st.booleans(),
    ts=st.integers(min_value=0, max_value=2**53),
    source=st.text(max_size=60) | st.sampled_from([',"price_quantum":1}', ',"symbol_source":"page"}']),
    price_quantum=st.none() | st.floats(min_value=1e-12, max_value=1.0),
    symbol_source=st.sampled_from(["page", "registry"]),
)
