"""Ticks stamped ahead of the clock (``processor.future``): a clock-skew allowance of minutes, not a day.

The engine drops every tick of a series older than the newest it accepted, so a tick the processor lets
through hours ahead silences its series for those hours: here a USDC capture named in local time (UTC+8)
and read as UTC, followed by a real depeg that must still be reported."""

from __future__ import annotations

from typing import NamedTuple

from tickerstream.engine import Engine
from tickerstream.events import Event
from tickerstream.model import RejectReason, Tick
from tickerstream.processor.config import ProcessorConfig
from tickerstream.processor.future import future_detail, span
from tickerstream.processor.pending import BadTick, PendingTicks, decode_fetch

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_800_000_000_000


class Rec(NamedTuple):
    offset: int
    value: bytes | None
    timestamp: int = -1
    timestamp_type: int = 0  # CreateTime; 1 = LogAppendTime (our topics)


def usdc(ts: int, price: float) -> bytes:
    return Tick("USDC", "USD Coin", "usd-coin", price, "USD", None, False, ts, "t", 1e-4).to_json()


def live_run(
    stream: list[tuple[int, int, float]], config: ProcessorConfig, delay_ms: int = 2_000
) -> tuple[list[Event], list[BadTick], Engine]:
    """What ``Processor._add`` and ``_step`` do with each record as it arrives. ``stream``: (when the
    page was really captured, the ts it was stamped with, price); the processor's clock reads the
    capture time plus ``delay_ms`` when the tick arrives."""
    engine = Engine()
    pending = PendingTicks()
    events: list[Event] = []
    bad: list[BadTick] = []
    for offset, (captured, ts, price) in enumerate(stream):
        fetched = {0: [Rec(offset, usdc(ts, price))]}
        now = captured + delay_ms
        for p, seg in decode_fetch(fetched, now_ms=now, max_future_ms=config.max_future_ms).items():
            pending.add(p, seg)
        cut = pending.cut()
        assert cut is not None
        bad += cut.bad
        events += engine.process(cut.batch)
    return events + engine.flush(), bad, engine


def stream_with_a_tick_eight_hours_ahead() -> list[tuple[int, int, float]]:
    """USDC at $1.00 every 10 minutes for 2 h, one capture stamped 8 h ahead (its local time, UTC+8,
    read as UTC), then 8 h at $0.90."""
    calm = [(T0 + i * 10 * MIN, T0 + i * 10 * MIN, 1.0) for i in range(12)]
    bogus = [(T0 + 12 * 10 * MIN, T0 + 12 * 10 * MIN + 8 * HOUR, 1.0)]
    depeg = [(T0 + i * 10 * MIN, T0 + i * 10 * MIN, 0.90) for i in range(12, 60)]
    return calm + bogus + depeg


def test_a_tick_eight_hours_ahead_is_a_dead_letter_and_the_depeg_is_reported() -> None:
    events, bad, engine = live_run(stream_with_a_tick_eight_hours_ahead(), ProcessorConfig())
    assert [(b.offset, b.reason) for b in bad] == [(12, RejectReason.INVALID_TICK)]
    assert "8 h 0 min ahead of the processor's clock" in bad[0].detail
    assert "time zone" in bad[0].detail and "process.max_future_ms" in bad[0].detail
    assert engine.stats.late == 0 and engine.stats.accepted == 60
    pegs = [e.to_dict() for e in events if e.type == "peg"]
    critical = [p for p in pegs if p["state"] == "critical"]
    assert critical, pegs
    # Within minutes of the first $0.90 page, not hours.
    assert critical[0]["ts"] - (T0 + 12 * 10 * MIN) <= 30 * MIN
    assert engine.peg_status("USDC") is not None and engine.peg_status("USDC")[0] == "critical"  # type: ignore[index]


def test_with_the_check_off_the_same_stream_silences_usdc() -> None:
    """The failure the allowance prevents (and what a day's allowance did): every later tick is late."""
    events, bad, engine = live_run(stream_with_a_tick_eight_hours_ahead(), ProcessorConfig(max_future_ms=0))
    assert bad == []
    assert engine.stats.late == 48
    assert [e for e in events if e.type == "peg"] == []
    assert engine.peg_status("USDC") == ("ok", 0.0)


def test_the_default_allowance_is_clock_skew_not_a_time_zone() -> None:
    allowed = ProcessorConfig().max_future_ms
    assert 0 < allowed <= 10 * MIN  # the smallest time zone offset in use is 30 min (and most are hours)


def test_a_tick_inside_the_allowance_is_kept() -> None:
    """A scraper whose clock runs 2 minutes fast is not refused: its ticks are minutes ahead at most."""
    now = T0
    fetched = {0: [Rec(0, usdc(now + 2 * MIN, 1.0)), Rec(1, usdc(now + 6 * MIN, 1.0))]}
    seg = decode_fetch(fetched, now_ms=now, max_future_ms=ProcessorConfig().max_future_ms)[0]
    assert seg.ts.tolist() == [now + 2 * MIN] and [b.offset for b in seg.bad] == [1]
    assert seg.end == 2


def test_zero_disables_the_check() -> None:
    fetched = {0: [Rec(0, usdc(T0 + 8 * HOUR, 1.0))]}
    seg = decode_fetch(fetched, now_ms=T0, max_future_ms=0)[0]
    assert seg.ts.tolist() == [T0 + 8 * HOUR] and seg.bad == []


def test_on_a_log_append_time_topic_the_verdict_does_not_depend_on_when_the_record_is_read() -> None:
    """Against the broker's append time: a record read again hours later (a restart, a rebalance, a
    backlog) is refused or kept exactly as the first time; the clock only caps a broker running ahead."""
    appended = T0
    recs = [Rec(0, usdc(T0 - MIN, 1.0), appended, 1), Rec(1, usdc(T0 + 8 * HOUR, 1.0), appended, 1)]
    for read_at in (T0 + 1_000, T0 + 9 * HOUR):
        seg = decode_fetch({0: recs}, now_ms=read_at, max_future_ms=5 * MIN)[0]
        assert seg.offsets.tolist() == [0] and [b.offset for b in seg.bad] == [1]
        assert "8 h 0 min ahead of the time Kafka appended it (2027-01-15T08:00:00Z)" in seg.bad[0].detail
    # Read at T0 + 9 h on the wall clock alone (a CreateTime topic), the same tick would pass:
    late_read = [Rec(1, usdc(T0 + 8 * HOUR, 1.0))]
    assert decode_fetch({0: late_read}, now_ms=T0 + 9 * HOUR, max_future_ms=5 * MIN)[0].bad == []
    # A broker whose clock runs an hour ahead of ours does not widen the allowance.
    ahead = [Rec(0, usdc(T0 + HOUR, 1.0), T0 + HOUR, 1)]
    assert [b.offset for b in decode_fetch({0: ahead}, now_ms=T0, max_future_ms=5 * MIN)[0].bad] == [0]


def test_the_detail_says_what_to_fix() -> None:
    detail = future_detail(T0 + 8 * HOUR, T0, 5 * MIN)
    assert detail == (
        "ts 1800028800000 (2027-01-15T16:00:00Z) is 8 h 0 min ahead of the processor's clock "
        "(2027-01-15T08:00:00Z), more than the allowed clock skew of 5 min (process.max_future_ms): fix the "
        "clock or the time zone of the source that stamped it (a local time read as UTC is hours ahead)"
    )
    micro = future_detail(T0 * 1000, T0, 5 * MIN, appended=True)
    assert "not milliseconds" in micro and "micro- or nanoseconds" in micro and "Kafka appended it" in micro


def test_span_reads_like_a_person_would_write_it() -> None:
    assert [span(ms) for ms in (45_000, 12 * MIN, 8 * HOUR + 5 * MIN, 50 * HOUR)] == [
        "45 s",
        "12 min",
        "8 h 5 min",
        "2 d 2 h",
    ]
