"""``ticker_peg_last_accepted_timestamp_seconds``: the wall time a pegged symbol's ticks were last taken.

The stablecoin-silence alert used only the event time of the newest tick. A tick stamped 8 hours ahead
(accepted where the clock-skew check is off, or restored from a checkpoint written before it existed)
keeps that time in the future while every later tick is dropped as late: the alert could not fire.
The wall-clock gauge stops advancing with the accepted ticks, whatever their stamps."""

from __future__ import annotations

from tickerstream.engine import Engine, TickBatch
from tickerstream.metrics import MarketGauges, create_metrics
from tickerstream.metrics.core import Metrics

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_737_331_200_000


def sample(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def usdc(ts: int, price: float) -> TickBatch:
    return TickBatch.from_arrays(["USDC"], [ts], [price], currency=["USD"], coin_ids=["usd-coin"])


def test_the_accepted_clock_stops_behind_a_tick_from_the_future_the_event_time_does_not() -> None:
    engine = Engine()
    m = create_metrics()
    gauges = MarketGauges(m)
    accepted: list[float | None] = []
    last_tick: list[float | None] = []
    # Every 10 minutes of wall time a page; the 13th is stamped 8 h ahead; the rest are honest (and late).
    for i in range(30):
        wall_ms = T0 + i * 10 * MIN
        ts = wall_ms + (8 * HOUR if i == 12 else 0)
        engine.process(usdc(ts, 1.0 if i < 12 else 0.90))
        gauges.refresh(engine, now_s=wall_ms / 1000, force=True, wall_s=wall_ms / 1000 + 1)
        accepted.append(sample(m, "ticker_peg_last_accepted_timestamp_seconds", symbol="USDC", peg="USD"))
        last_tick.append(sample(m, "ticker_peg_last_tick_timestamp_seconds", symbol="USDC", peg="USD"))
    assert engine.stats.late == 17
    now_s = (T0 + 29 * 10 * MIN) / 1000 + 1
    # What TickerStablecoinTicksStopped computes (time() - value) 2 h 50 min after the bogus tick:
    assert now_s - (accepted[-1] or 0) == 17 * 600  # stopped at the bogus tick: the alert fires
    assert now_s - (last_tick[-1] or 0) < 0  # still "in the future": this one never would
    assert accepted[:13] == [(T0 + i * 10 * MIN) / 1000 + 1 for i in range(13)]


def test_the_accepted_clock_is_removed_with_the_symbol() -> None:
    engine = Engine()
    m = create_metrics()
    gauges = MarketGauges(m)
    engine.process(usdc(T0, 1.0))
    gauges.refresh(engine, force=True, wall_s=T0 / 1000)
    assert sample(m, "ticker_peg_last_accepted_timestamp_seconds", symbol="USDC", peg="USD") == T0 / 1000
    engine.drop(["USDC"])
    gauges.refresh(engine, force=True)
    assert sample(m, "ticker_peg_last_accepted_timestamp_seconds", symbol="USDC", peg="USD") is None
