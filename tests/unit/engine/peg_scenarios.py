"""Ground-truth peg scenarios: documented historical depegs rebuilt from published figures, and the
reference-outage cases of the peg issue, replayed through the real engine.

Each historical scenario is a list of anchor points (UTC time, price) taken from the cited public
reports; between anchors the path is a straight line, sampled as a scraped page would be (one page
every ``PAGE_MIN`` minutes, prices under $1 shown to 4 decimals, prices from $1 up to cents). The
anchors carry the magnitude and the timeline the sources give (start, trough, recovery); the
straight lines between them are an assumption, so the expectations check episode structure
(count, states reached, worst level, whether and roughly when it ends), never intermediate prices.

``python -m tests.unit.engine.peg_scenarios`` prints the table of docs/pegs.md ("Ground truth").
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tickerstream.config import load_settings
from tickerstream.engine import Engine, EngineConfig, TickBatch
from tickerstream.engine.registry import load_registry
from tickerstream.events import PegEvent

PAGE_MIN = 10
MIN_MS = 60_000
Tick = tuple[str, int, float]


def utc(text: str) -> int:
    """``"2023-03-11T08:00"`` (UTC) -> ms since the epoch."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def shown(price: float) -> float:
    """The price as the ticker widget shows it: cents from $1 up, 4 decimals below."""
    return round(price, 2) if price >= 1.0 else round(price, 4)


def path(anchors: list[tuple[str, float]], step_min: int = PAGE_MIN) -> list[tuple[int, float]]:
    """(ts, value) every ``step_min`` minutes along the straight lines between the anchors."""
    pts = [(utc(t), v) for t, v in anchors]
    out: list[tuple[int, float]] = []
    t = pts[0][0]
    for (t0, v0), (t1, v1) in itertools.pairwise(pts):
        while t < t1:
            out.append((t, v0 + (v1 - v0) * (t - t0) / (t1 - t0)))
            t += step_min * MIN_MS
    out.append(pts[-1])
    return out


@dataclass(frozen=True)
class Episode:
    """One depeg episode as reported: states reached, worst deviation, start and end (None: open)."""

    states: tuple[str, ...]
    worst_bps: float
    start: int
    end: int | None

    def describe(self) -> str:
        end = "open" if self.end is None else f"{(self.end - self.start) / 3_600_000:.1f} h"
        return f"{'/'.join(self.states)} worst {self.worst_bps:.0f} bps, {end}"


@dataclass
class Scenario:
    name: str
    symbol: str
    ticks: list[Tick]
    expected: str  # what a risk desk should see, in words (the docs table)
    sources: list[str]
    check: Callable[[list[PegEvent], list[Episode]], None]
    #: Extra registry entries (TOML) merged over the shipped pegs.toml.
    registry: str | None = None


def config(s: Scenario) -> EngineConfig:
    overrides: tuple[str, ...] = ()
    if s.registry is not None:
        path = Path(tempfile.gettempdir()) / f"tickerstream-scenario-{s.symbol.lower()}-{os.getpid()}.toml"
        path.write_text(s.registry, encoding="utf-8")
        overrides = (f'pegs.registry_file="{path}"',)
    return load_settings(EngineConfig, None, {}, overrides)


def run(s: Scenario) -> list[PegEvent]:
    e = Engine(config(s))
    out: list[PegEvent] = []
    for i in range(0, len(s.ticks), 50):  # poll-sized batches; results do not depend on the size
        b = s.ticks[i : i + 50]
        batch = TickBatch.from_arrays([x[0] for x in b], [x[1] for x in b], [x[2] for x in b])
        out.extend(ev for ev in e.process(batch) if isinstance(ev, PegEvent))
    out.extend(ev for ev in e.flush() if isinstance(ev, PegEvent))
    return [ev for ev in out if ev.symbol == s.symbol]


def episodes(events: list[PegEvent]) -> list[Episode]:
    """Depeg episodes by ``episode_id``, in order of start."""
    by_id: dict[str, list[PegEvent]] = {}
    for ev in events:
        if ev.episode_id is not None:
            by_id.setdefault(ev.episode_id, []).append(ev)
    out: list[Episode] = []
    for evs in by_id.values():
        states = tuple(dict.fromkeys(ev.state for ev in evs if ev.state in ("warn", "critical")))
        last = evs[-1]
        ended = last.kind == "change" and last.state in ("ok", "unknown")
        start = evs[0].episode_start
        assert start is not None and last.worst_bps is not None
        end = start + int((last.duration_s or 0) * 1000) if ended else None
        out.append(Episode(states, last.worst_bps, start, end))
    return sorted(out, key=lambda ep: ep.start)


def first_alert_latency_s(s: Scenario, events: list[PegEvent]) -> float | None:
    """From the first page beyond the asset's warn level (by the page's own deviation from its
    target) to the first warn/critical event: the cost of confirmation and reference waits."""
    spec = load_registry(config(s).pegs)[s.symbol]
    ref = math.nan  # the reference's latest price in stream order (ground truth: however old)
    first = None
    for sym, ts, p in s.ticks:
        if sym == spec.peg:
            ref = p
        if sym != s.symbol:
            continue
        target = spec.ratio * (ref if spec.reference else 1.0)
        if abs(p / target - 1) * 1e4 >= spec.warn_bps:
            first = ts
            break
    alerts = [ev.ts for ev in events if ev.kind == "change" and ev.state in ("warn", "critical")]
    if first is None or not alerts:
        return None
    return (alerts[0] - first) / 1000


# --- the historical depegs ---------------------------------------------------------------------

USDC_2023 = [
    ("2023-03-10T18:00", 1.0),  # Fri: SVB closed by regulators that day; USDC still at par
    # Circle: "$3.3 billion of the $40 billion ... remains in SVB"; first reports $0.969
    ("2023-03-11T03:00", 0.969),
    # trough: $0.8774 (CoinMarketCap via Cointelegraph), "as low as $0.87" (The Block)
    ("2023-03-11T08:00", 0.8774),
    ("2023-03-11T20:00", 0.94),  # Sat evening: partial recovery (interpolation anchor, see module doc)
    ("2023-03-12T22:15", 0.97),  # Sun: Treasury/Fed/FDIC joint statement, SVB depositors made whole
    ("2023-03-13T06:00", 0.995),  # Mon: "USDC regained its dollar peg" (CoinDesk, Mar 13)
    ("2023-03-13T18:00", 1.0),
    ("2023-03-14T12:00", 1.0),
]
USDC_SOURCES = [
    "Cointelegraph, 'USDC depegs as Circle confirms $3.3B stuck with Silicon Valley Bank', 2023-03-11 "
    "($0.969 at first report, $0.8774 low, CoinMarketCap data)",
    "The Block, 'MakerDAO looks to limit volatility after USDC troubles', 2023-03-13 (plunged to $0.87)",
    "CoinDesk, 'MakerDAO Weighs Using Emergency Switch...', 2023-03-13 ('On Monday, USDC regained its "
    "dollar peg')",
    "Board of Governors of the Federal Reserve System, joint statement by Treasury, Federal Reserve and "
    "FDIC, 2023-03-12 18:15 ET",
]

DAI_2023 = [
    ("2023-03-10T18:00", 1.0),
    ("2023-03-11T03:00", 0.975),  # follows USDC (over half of DAI's collateral) as Circle's exposure is known
    ("2023-03-11T08:00", 0.88),  # "all-time low of 88 cents in Asian afternoon hours on Saturday" (CoinDesk)
    ("2023-03-11T10:24", 0.90),  # "currently trading at 90 cents" (CoinDesk, published 10:24 UTC)
    ("2023-03-12T22:15", 0.97),  # joint statement; DAI tracks USDC back
    ("2023-03-13T06:00", 0.995),
    ("2023-03-13T18:00", 1.0),
    ("2023-03-14T12:00", 1.0),
]
DAI_SOURCES = [
    "CoinDesk, 'DAI Depegs to Lifetime Lows as Stablecoin Rout Plagues Crypto', 2023-03-11 10:24 UTC "
    "(88 cents low, 90 cents at publication)",
    "Coinprologue / MakerDAO forum emergency proposal, 2023-03-11 "
    "(24-hour low $0.881, $3.1B USDC collateral)",
    "CoinDesk, 2023-03-13 (DAI 'fell to an all-time low of 88 cents'; USDC back at peg on Monday)",
]

UST_2022 = [
    ("2022-05-07T12:00", 1.0),
    ("2022-05-07T18:00", 0.99),  # "At 18:00 UTC Saturday, May 7, ... trading for around 0.99 USD"
    ("2022-05-07T22:00", 0.985),  # after the 85M UST sale at 21:52 UTC; "fell to $0.985" (May 8)
    ("2022-05-08T12:00", 0.99),  # "recovering slightly" for a few hours
    ("2022-05-09T12:00", 0.90),  # "then $0.90, triggering panic"
    ("2022-05-10T06:00", 0.60),  # "nearly 60 cents Tuesday" (May 10)
    ("2022-05-10T20:00", 0.9078),  # brief rebound "around $0.9078" (Market Realist, May 11)
    ("2022-05-11T18:00", 0.55),  # "trading at $0.55" (CoinNews timeline)
    ("2022-05-13T00:00", 0.13),  # "by May 13 UST hit an all-time low of $0.13"
    ("2022-05-18T00:00", 0.09),  # "by May 18 ... another all-time low of $0.09"
]
UST_SOURCES = [
    "techtalksbynoah.com, 'The meteoric crash of Terra Luna' (18:00 UTC May 7 at ~0.99; 85M UST at "
    "21:52 UTC; $0.13 on May 13, $0.09 on May 18)",
    "capturecascade.org, 'Terra's UST ... loses dollar peg' ($0.985 then $0.90 by May 8-9)",
    "Market Realist, 'Why did Terra USD depeg', 2022-05-11 (nearly 60 cents Tuesday, back to ~$0.9078)",
    "CoinNews, 'A timeline of the Terra UST de-pegging' ($0.55)",
]

# stETH in ETH and ETH in USD; the page shows both in USD.
STETH_RATIO_2022 = [
    ("2022-06-07T00:00", 0.972),  # discount since May (Curve pool unbalanced after UST)
    ("2022-06-09T12:00", 0.967),  # Alameda withdraws ~50k stETH of liquidity (June 9)
    ("2022-06-10T12:00", 0.950),  # "dropped to a 5% discount ... for the second time in a month" (June 10)
    # "the discount on stETH had surpassed 6%" (Forklog); Celsius pauses withdrawals
    ("2022-06-13T12:00", 0.935),
    ("2022-06-16T00:00", 0.945),
    ("2022-06-20T00:00", 0.955),
    ("2022-06-30T00:00", 0.965),
]
ETH_USD_2022 = [
    ("2022-06-07T00:00", 1800.0),
    ("2022-06-10T12:00", 1660.0),
    ("2022-06-13T12:00", 1304.36),  # "the lowest price reaching $1,304.36" (Gate.io blog, June 13)
    ("2022-06-18T12:00", 1000.0),  # ETH briefly under $1,000 (June 18)
    ("2022-06-30T00:00", 1070.0),
]
STETH_SOURCES = [
    "Gate.io blog, 'Depeg Returns | stETH has a Liquidity Crisis', 2022-06-13 (Alameda ~50k stETH June 9; "
    "Curve 22/78 June 10; ETH low $1,304.36)",
    "Cryptonoiz / AMBCrypto, 'stETH ... 5% discount for the second time this month', 2022-06-10",
    "Forklog, 'Since early May, the largest stETH liquidity pool has shrunk sevenfold', 2022-06 "
    "(discount > 6%)",
    "Flipside dashboards 'stETH/ETH fluctuation' (1 stETH ~ 0.94 ETH mid-June; depeg since May 7)",
]


def _usd_ticks(symbol: str, anchors: list[tuple[str, float]]) -> list[Tick]:
    return [(symbol, ts, shown(p)) for ts, p in path(anchors)]


def _steth_ticks() -> list[Tick]:
    eth = dict(path(ETH_USD_2022))
    out: list[Tick] = []
    for ts, ratio in path(STETH_RATIO_2022):
        e = eth.get(ts)
        if e is None:
            continue
        out += [("ETH", ts, shown(e)), ("STETH", ts, shown(e * ratio))]
    return out


def _check_usdc_like(worst_lo: float, worst_hi: float) -> Callable[[list[PegEvent], list[Episode]], None]:
    def check(events: list[PegEvent], eps: list[Episode]) -> None:
        assert len(eps) == 1, eps
        ep = eps[0]
        assert ep.states == ("warn", "critical") and worst_lo <= ep.worst_bps <= worst_hi
        assert ep.end is not None and utc("2023-03-13T00:00") <= ep.end <= utc("2023-03-13T18:00")
        assert ep.start <= utc("2023-03-11T01:00")
        deep = [ev for ev in events if ev.kind == "deepened"]
        assert deep and min(ev.judged_bps or 0 for ev in deep) <= -1100  # the trough was reported

    return check


def _check_ust(events: list[PegEvent], eps: list[Episode]) -> None:
    # one episode that never ends: the brief rebounds to 0.99 and 0.91 stay inside the exit hysteresis
    # or above critical exit, and UST never came back
    assert len(eps) == 1 and eps[0].end is None, eps
    assert eps[0].states == ("warn", "critical") and eps[0].worst_bps <= -9000
    assert eps[0].start <= utc("2022-05-07T23:00")
    assert events[-1].state == "critical"


def _check_steth(events: list[PegEvent], eps: list[Episode]) -> None:
    # the normal ~3 % discount already warns (stETH warns beyond 150 bps); critical from the 5 % day
    assert len(eps) == 1 and eps[0].end is None, eps
    assert eps[0].states == ("warn", "critical") and -700 <= eps[0].worst_bps <= -640
    crit = [ev for ev in events if ev.kind == "change" and ev.state == "critical"]
    assert crit and utc("2022-06-10T00:00") <= crit[0].ts <= utc("2022-06-10T14:00")
    back = [ev for ev in events if ev.kind == "change" and ev.prev_state == "critical"]
    assert back and back[0].state == "warn" and back[0].ts >= utc("2022-06-20T00:00")
    assert all(ev.ref_age_s == 0.0 for ev in events)  # ETH on every page: exact as-of prices


# --- the reference-outage cases (synthetic by nature: the table) -------------------------

T0 = utc("2025-01-20T00:00")
H = 3_600_000


def _pages(start: int, end: int, wbtc_ratio: float, btc: bool = True, step_min: int = 5) -> list[Tick]:
    out: list[Tick] = []
    for t in range(start, end, step_min * MIN_MS):
        live = round(100_000.0 + 0.01 * ((t - T0) // MIN_MS), 2)  # a cent a minute: a repeat is stale
        if btc:
            out.append(("BTC", t, live))
        out.append(("WBTC", t, round(live * wbtc_ratio, 2)))
    return out


def _sparse_crash() -> list[Tick]:
    out: list[Tick] = []
    for m in range(180):
        level = 100_000.0 * (1 + 2e-4 * ((m // 10) % 3 - 1)) * (0.95 if m >= 33 else 1.0)
        if m % 10 == 0:
            out.append(("BTC", T0 + m * MIN_MS, round(level, 2)))
        out.append(("WBTC", T0 + m * MIN_MS, round(level * 0.9995, 2)))
    return out


def _check_outage(events: list[PegEvent], eps: list[Episode]) -> None:
    states = [(ev.prev_state, ev.state) for ev in events if ev.kind == "change"]
    assert states == [("ok", "critical"), ("critical", "unknown"), ("unknown", "critical")]


def _check_outage_in_warn(events: list[PegEvent], eps: list[Episode]) -> None:
    assert [ep.states for ep in eps] == [("warn",), ("warn",)]
    assert eps[0].end is not None and (eps[0].end - eps[0].start) / 1000 == 15_600.0


def _check_sparse(events: list[PegEvent], eps: list[Episode]) -> None:
    assert events == [] and eps == []


SCENARIOS = [
    Scenario(
        "USDC, March 2023 (SVB)",
        "USDC",
        _usd_ticks("USDC", USDC_2023),
        "one episode: warn, critical down to about -1200 bps, back to ok on Monday Mar 13",
        USDC_SOURCES,
        _check_usdc_like(-1240, -1200),
    ),
    Scenario(
        "DAI, March 2023 (USDC collateral)",
        "DAI",
        _usd_ticks("DAI", DAI_2023),
        "one episode: warn, critical down to about -1200 bps, back to ok on Monday Mar 13",
        DAI_SOURCES,
        _check_usdc_like(-1200, -1180),
    ),
    Scenario(
        "UST, May 2022 (Terra collapse)",
        "UST",
        _usd_ticks("UST", UST_2022),
        "one episode from the evening of May 7 that never ends: critical, deepening past -9000 bps",
        UST_SOURCES,
        _check_ust,
        # UST is no longer listed (its successor USTC trades freely); add it as a USD stable for 2022
        registry='[assets.UST]\npeg = "USD"\n',
    ),
    Scenario(
        "stETH/ETH, June 2022 (Celsius, 3AC)",
        "STETH",
        _steth_ticks(),
        "warn on the normal ~3 % discount, critical from the 5 % day (June 10), back to warn late June",
        STETH_SOURCES,
        _check_steth,
    ),
    Scenario(
        "BTC missing 6 h, WBTC at -300 bps",
        "WBTC",
        _pages(T0, T0 + H, 0.9995)
        + _pages(T0 + H, T0 + 7 * H, 0.97, btc=False)
        + _pages(T0 + 7 * H, T0 + 8 * H, 0.97),
        "critical while BTC's last price is sound (~20 min), unknown for the rest of the outage, "
        "critical again",
        ["the peg issue's case table (synthetic)"],
        _check_outage,
    ),
    Scenario(
        "WBTC in warn when BTC goes missing",
        "WBTC",
        _pages(T0, T0 + 4 * H + 1, 0.99)
        + _pages(T0 + 4 * H + 5 * MIN_MS, T0 + 10 * H, 0.99, btc=False)
        + _pages(T0 + 10 * H, T0 + 11 * H, 0.9995),
        "warn episode ends in unknown after ~4.3 h (last sound judgement), not 8 h; "
        "a new one when BTC is back",
        ["the peg issue's case table (synthetic)"],
        _check_outage_in_warn,
    ),
    Scenario(
        "BTC on every 10th page drops 5 %, WBTC tracks it at -5 bps",
        "WBTC",
        _sparse_crash(),
        "nothing: no false warn or critical, no unknown",
        ["the peg issue's case table (synthetic)"],
        _check_sparse,
    ),
]


def table() -> str:
    """The docs table: scenario, expected, reported episodes, first-alert latency."""
    rows = [
        "| scenario | expected episodes | reported episodes | first alert latency |",
        "|---|---|---|---|",
    ]
    for s in SCENARIOS:
        events = run(s)
        eps = episodes(events)
        lat = first_alert_latency_s(s, events)
        reported = "; ".join(ep.describe() for ep in eps) or "none"
        if any(ev.state == "unknown" and ev.kind == "change" for ev in events):
            reported += " (+ unknown while the reference was unusable)"
        latency = "n/a (no alert)" if lat is None else f"{lat / 60:.0f} min"
        rows.append(f"| {s.name} | {s.expected} | {reported} | {latency} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
