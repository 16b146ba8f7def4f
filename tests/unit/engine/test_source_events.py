"""A frozen source is an event, and so is its resumption (``engine/stale.py``, ``SourceEvent``).

While a series is frozen its repeats are dropped: no move is judged on it, so its alerts are silent.
The metric, the alert and the log told the operators; a desk reading the event topics did not know.
"""

from __future__ import annotations

import io
import json

import numpy as np
import orjson
import pytest

from tests.support.engine import T0, batch
from tests.support.schemas import assert_valid
from tests.unit.engine.test_stale_repeats import FREEZE, STEP, frozen_eth
from tickerstream.engine import Engine
from tickerstream.events import Event, SourceEvent, event_from_dict

THIRTY_MIN_PAGES = 6  # stale_after_s (1800 s) at a page every 5 minutes


def run(
    ticks: list[tuple[str, int, float]], cuts: list[int], e: Engine | None = None, quantum: float = 0.01
) -> list[Event]:
    e = e or Engine()
    out: list[Event] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(ticks)], strict=True):
        out += e.process(batch(ticks[lo:hi], quantum))
    return out


def sources(events: list[Event]) -> list[SourceEvent]:
    return [ev for ev in events if isinstance(ev, SourceEvent)]


def test_a_frozen_source_and_its_resumption_are_events() -> None:
    """ALT shown at one price (to the cent at $3,200) for 8 hours: `frozen` at the first repeat
    dropped (30 minutes after the price was first shown), `resumed` at the first changed price, each
    once, valid against the published schema and read back as written."""
    ticks = frozen_eth()
    since = T0 + FREEZE * STEP
    frozen_px = ticks[FREEZE][2]
    back = T0 + (FREEZE + 8 * 12) * STEP
    got = sources(run(ticks, []))
    assert [(ev.kind, ev.ts, ev.since_ts, ev.frozen_price) for ev in got] == [
        ("frozen", since + THIRTY_MIN_PAGES * STEP, since, frozen_px),
        ("resumed", back, since, frozen_px),
    ]
    assert got[1].price == ticks[FREEZE + 8 * 12][2] != frozen_px
    for ev in got:
        obj = json.loads(ev.to_json())
        assert_valid("source", obj)
        assert event_from_dict(orjson.loads(ev.to_json())) == ev
    assert json.loads(got[1].to_json())["frozen_s"] == 8 * 3600


@pytest.mark.parametrize("cuts", [[FREEZE + 3], [FREEZE + 6], [FREEZE + 7, FREEZE + 96], list(range(1, 700))])
def test_source_events_do_not_depend_on_batching(cuts: list[int]) -> None:
    ticks = frozen_eth()
    assert run(ticks, [c for c in cuts if c < len(ticks)]) == run(ticks, [])


def as_version_7(data: bytes) -> bytes:
    """A checkpoint as version 7 wrote it: without whether the run was found frozen."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "run_frozen"}
    meta = orjson.loads(arrays.pop("meta").tobytes())
    meta["version"] = 7
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8), **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("version", [8, 7])
def test_a_restore_inside_a_frozen_run(version: int) -> None:
    """Restored an hour into the freeze, the engine reports what an uninterrupted one does (no
    second `frozen`, then `resumed`). A version 7 checkpoint did not say the run was frozen: the
    run is judged anew, so its `frozen` comes again at the first repeat after the restore."""
    ticks = frozen_eth()
    cut = FREEZE + 12
    first = Engine()
    got = run(ticks[:cut], [], first)
    second = Engine()
    data = first.checkpoint()
    second.restore(data if version == 8 else as_version_7(data))
    got += run(ticks[cut:], [], second)
    kinds = [(ev.kind, ev.ts) for ev in sources(got)]
    expected = [(ev.kind, ev.ts) for ev in sources(run(ticks, []))]
    if version == 8:
        assert kinds == expected
    else:
        assert kinds == [expected[0], ("frozen", T0 + cut * STEP), expected[1]]


def test_a_coarse_price_standing_still_is_no_event() -> None:
    """USDT at $1.00 in cents for a day sits in one step legitimately: nothing is dropped, no event."""
    ticks = [("USDT", T0 + k * STEP, 1.0) for k in range(24 * 12)]
    assert run(ticks, []) == []


@pytest.mark.parametrize("cuts", [[], [1], [2], [1, 2, 3]])
def test_a_frozen_source_needs_three_pages_in_a_row(cuts: list[int]) -> None:
    """USDe to six decimals, a page every 42 minutes: one price on two pages is a stablecoin being
    stable (nothing dropped, no event); on three it is a frozen source, at the third page."""
    step = 42 * 60_000
    two = [("USDE", T0, 0.999751), ("USDE", T0 + step, 0.999751), ("USDE", T0 + 2 * step, 0.99974)]
    assert run(two, cuts, Engine(), 1e-6) == []
    three = [("USDE", T0 + k * step, 0.999751) for k in range(3)] + [("USDE", T0 + 3 * step, 0.99974)]
    e = Engine()
    got = sources(run(three, cuts, e, 1e-6))
    assert [(ev.kind, ev.ts) for ev in got] == [("frozen", T0 + 2 * step), ("resumed", T0 + 3 * step)]
    assert e.stats.stale_repeats == 1
