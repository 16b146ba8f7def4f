"""The source's own 24 h change against the engine's history: sign recovery, mismatch events with
confirmation and hysteresis, independence from batching, state in checkpoints."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.support.engine import MIN, T0
from tickerstream.engine import Engine, TickBatch
from tickerstream.events import Quality

DAY = 1440 * MIN


def day_then(prices: list[float], page: list[float], signed: bool) -> TickBatch:
    """One tick every 10 minutes for a day at 100.0, then ``prices`` with the page's ``page`` 24 h
    changes (unsigned magnitudes unless ``signed``)."""
    n0 = 144
    px = [100.0] * n0 + prices
    ch = [0.0] * n0 + [p if signed else abs(p) for p in page]
    ts = T0 + np.arange(len(px)) * 10 * MIN
    return TickBatch.from_arrays(
        ["ABC"] * len(px), ts, px, currency=["USD"] * len(px), change=ch, change_signed=[signed] * len(px)
    )


def quality(events: list[object]) -> list[Quality]:
    return [e for e in events if isinstance(e, Quality)]


def test_an_unsigned_change_that_fits_the_history_gets_its_sign_and_no_event(
    make_engine: Callable[..., Engine],
) -> None:
    e = make_engine()
    prices = [94.0, 93.0, 92.0]  # -6 %, -7 %, -8 % on the day; the page shows 6.00, 7.00, 8.00
    assert quality(e.process(day_then(prices, [-6.0, -7.0, -8.0], signed=False))) == []
    assert e.stats.change_checks == 3 and e.stats.sign_recovered == 3 and e.stats.change_disagree == 0


def test_a_page_that_disagrees_three_times_is_one_event_and_recovery_another(
    make_engine: Callable[..., Engine],
) -> None:
    """A row mapped to the wrong coin: the history is flat, the page says +9 %. One or two odd pages
    are not a broken feed; the third disagreeing check is. Agreeing again ends it."""
    e = make_engine()
    prices = [100.0] * 8
    page = [9.0, 0.0, 9.0, 9.0, 9.0, 9.0, 0.0, 0.1]
    out = quality(e.process(day_then(prices, page, signed=True)))
    assert [(q.kind, q.page_change_pct, q.engine_change_pct) for q in out] == [
        ("change_mismatch", 9.0, 0.0),
        ("change_agrees", 0.0, 0.0),
    ]
    first = out[0]
    assert first.ts == T0 + (144 + 4) * 10 * MIN and first.from_ts == T0 + 4 * 10 * MIN
    assert e.stats.change_disagree == 5 and e.stats.change_mismatch == 0


def test_quality_events_do_not_depend_on_how_the_stream_is_cut(make_engine: Callable[..., Engine]) -> None:
    rng = np.random.default_rng(5)
    prices = list(100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))))
    page = [(p / 100.0 - 1) * 100 if k % 50 < 30 else 12.0 for k, p in enumerate(prices)]
    whole = day_then([round(p, 2) for p in prices], [round(c, 2) for c in page], signed=True)
    expected = [ev.to_json() for ev in make_engine().process(whole)]
    assert any(b'"quality"' in j for j in expected)
    for step in (1, 2, 7, 100):
        e = make_engine()
        got = [
            ev.to_json() for lo in range(0, len(whole), step) for ev in e.process(whole.slice(lo, lo + step))
        ]
        assert got == expected


def test_a_run_of_disagreements_survives_a_checkpoint(make_engine: Callable[..., Engine]) -> None:
    whole = day_then([100.0] * 4, [9.0] * 4, signed=True)
    cut = 144 + 2  # two disagreeing checks before the checkpoint, the third after it
    a = make_engine()
    assert quality(a.process(whole.slice(0, cut))) == []
    b = make_engine()
    b.restore(a.checkpoint())
    assert [q.kind for q in quality(b.process(whole.slice(cut, len(whole))))] == ["change_mismatch"]


def test_a_base_at_the_open_of_the_hourly_candle_is_a_healthy_page(
    make_engine: Callable[..., Engine],
) -> None:
    """A source whose 24 h change is taken from the open of the hourly candle holding a day back
    (up to an hour before it). Pages every 5 minutes at 100, a -8 % step at 10:40; a day later
    the pages at 10:40-10:55 measure from the 10:00 open (100) while the engine's anchor is already
    92: they used to be four disagreeing checks, a change_mismatch and, at 11:00, change_agrees."""
    step, per_day = 128, 288  # 10:40 on the first day, 5-minute pages from 00:00
    n = per_day + 160
    px = [100.0 if i < step else 92.0 for i in range(n)]
    ts = [T0 + i * 5 * MIN for i in range(n)]
    hour_open = [i - i % 12 for i in range(n)]  # the page index at the start of each page's hour
    page = [
        0.0 if i < per_day else round((px[i] / px[hour_open[i - per_day]] - 1.0) * 100.0, 2) for i in range(n)
    ]
    assert page[per_day + step : per_day + step + 5] == [-8.0, -8.0, -8.0, -8.0, 0.0]
    b = TickBatch.from_arrays(
        ["ABC"] * n, ts, px, currency=["USD"] * n, change=page, change_signed=[True] * n
    )
    e = make_engine()
    assert quality(e.process(b)) == []
    assert e.stats.change_disagree == 0
