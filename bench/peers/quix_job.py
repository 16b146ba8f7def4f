"""The tickerstream job on Quix Streams 3.28, written the way its documentation recommends (#12).

Runs in the peers' venv (bench/peers/setup.sh), never in tickerstream's: it imports nothing of
tickerstream and reads only the peg registry's TOML, so both judge the same stablecoins with the
same thresholds.

- **Moves**: a stateful ``apply`` per symbol (the Kafka key) keeps the symbol's prices of the
  longest horizon (24 h) in its RocksDB state and compares each tick with the price as of one
  horizon before it (the engine's anchor), for 1 h / 5 % and 24 h / 10 %: one event per episode
  (fire, then re-arm once the change is back under half the threshold, the engine's rule), the
  change being the smallest the display rounding allows, as in the engine. Quix's own sliding
  windows (``--windows``: earliest and latest price per horizon, then the same episode filter) are
  what its docs show for rolling aggregates, but they ran at ~350 ticks/s here: a 24 h sliding
  window over a tick every 5 minutes keeps ~290 overlapping windows per symbol, each updated per
  tick. What Quix cannot express without re-writing the engine in a callback (the EWMA volatility
  behind the z-score trigger, ``deepened``/``reminder`` kinds) is left out; run.py compares within that.
- **Pegs** (USD stablecoins only; WBTC/stETH need a cross-partition join of BTC/ETH prices): a
  stateful ``apply`` per symbol with the engine's state machine for USD pegs: judged deviation
  (rounding-aware), 120 s confirmation (2000 bps bypass), exit hysteresis (2 ticks spanning 300 s).
  Only state changes are emitted.

    .venv/bin/python quix_job.py --broker 127.0.0.1:9092 --group g --ticks t --moves m --pegs p
"""

from __future__ import annotations

import argparse
import bisect
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from quixstreams import Application, State
from quixstreams.dataframe.windows.aggregations import Earliest, Latest, Min

REGISTRY = Path(__file__).resolve().parents[2] / "src" / "tickerstream" / "data" / "pegs.toml"

#: (horizon s, threshold %): the engine's defaults (moves.horizons_s, moves.threshold_pct).
HORIZONS = ((3600, 5.0), (86400, 10.0))
#: A window counts as spanning its horizon when its earliest tick is this close to the horizon's
#: start; before that the engine has no anchor (no change defined), so neither may fire.
FULL_SLACK_MS = 10 * 60 * 1000

# The engine's peg defaults (engine/config.py PegConfig) for USD pegs.
WARN_BPS, CRITICAL_BPS = 50.0, 200.0
CONFIRM_MS, BYPASS_BPS = 120_000, 2_000.0
MIN_EXIT_TICKS, MIN_EXIT_MS = 2, 300_000
DISPLAY_QUANTUM = 0.01  # prices >= $1 are shown in cents
LEVELS = ("ok", "warn", "critical")


def usd_pegs(path: Path = REGISTRY) -> dict[str, dict[str, Any]]:
    """Symbol -> thresholds of every USD peg of the registry (exit levels as the engine derives them)."""
    out = {}
    for sym, a in tomllib.loads(path.read_text())["assets"].items():
        if a.get("peg") != "USD":
            continue
        warn, crit = float(a.get("warn_bps", WARN_BPS)), float(a.get("critical_bps", CRITICAL_BPS))
        out[sym] = {
            "coin_id": a.get("coin_id"),
            "ratio": float(a.get("ratio", 1.0)),
            "warn": warn,
            "critical": crit,
            "warn_exit": float(a.get("warn_exit_bps", warn * 25 / 50)),
            "critical_exit": float(a.get("critical_exit_bps", crit * 150 / 200)),
            "confirm_ms": int(a.get("confirm_s", CONFIRM_MS // 1000)) * 1000,
        }
    return out


def tick_time(value: Any, headers: Any, timestamp: float, timestamp_type: Any) -> int:
    # Windows run on event time; the topic's own timestamps are the broker's append time.
    return int(value["ts"])


def smallest_change_pct(first: float, last: float, quantum: float | None) -> float:
    """The change the shown prices allow at least (each is within half a quantum of the truth)."""
    h = (quantum or 0.0) / 2
    if last > first:
        return max(0.0, (last - h) / (first + h) - 1.0) * 100
    return min(0.0, (last + h) / max(first - h, 1e-300) - 1.0) * 100


def move_detector(horizon_s: int, threshold: float) -> Any:
    armed_key = f"armed:{horizon_s}"

    def detect(window: dict[str, Any], key: str, timestamp: int, headers: Any, state: State) -> Any:
        if window["since"] > window["end"] - horizon_s * 1000 + FULL_SLACK_MS:
            return None  # not a full horizon yet
        change = smallest_change_pct(window["first"], window["last"], window["quantum"])
        armed = state.get(armed_key, True)
        if armed and abs(change) >= threshold:
            state.set(armed_key, False)
            return _move(key, window["end"], horizon_s, window["first"], window["last"], change)
        if not armed and abs(change) < threshold / 2:
            state.set(armed_key, True)
        return None

    return detect


def move_history_detector() -> Any:
    longest_ms = max(h for h, _ in HORIZONS) * 1000

    def detect(tick: dict[str, Any], key: str, timestamp: int, headers: Any, state: State) -> list[Any]:
        ts, price, quantum = int(tick["ts"]), float(tick["price"]), tick.get("price_quantum")
        points: list[list[Any]] = state.get("points", [])  # [ts, price, quantum], oldest first
        out = []
        for horizon_s, threshold in HORIZONS:
            i = bisect.bisect_right(points, ts - horizon_s * 1000, key=lambda p: p[0]) - 1
            if i < 0:
                continue  # no price a horizon back yet: no change defined
            _, first, q_first = points[i]
            change = smallest_change_pct(first, price, max(q_first or 0.0, quantum or 0.0))
            armed_key = f"armed:{horizon_s}"
            armed = state.get(armed_key, True)
            if armed and abs(change) >= threshold:
                state.set(armed_key, False)
                out.append(_move(key, ts, horizon_s, first, price, change))
            elif not armed and abs(change) < threshold / 2:
                state.set(armed_key, True)
        points.append([ts, price, quantum])
        # Keep one point at or before the longest horizon's start (the next tick's anchor).
        cut = bisect.bisect_right(points, ts - longest_ms, key=lambda p: p[0]) - 1
        state.set("points", points[max(cut, 0) :])
        return out

    return detect


def _move(key: str, ts: int, horizon_s: int, first: float, last: float, change: float) -> dict[str, Any]:
    return {
        "type": "move",
        "symbol": key,
        "ts": ts,
        "horizon_s": horizon_s,
        "from_price": first,
        "to_price": last,
        "change_pct": round(change, 4),
        "direction": "up" if change > 0 else "down",
    }


def peg_monitor(pegs: dict[str, dict[str, Any]]) -> Any:
    def judged_bps(price: float, target: float) -> float:
        h = DISPLAY_QUANTUM / 2 if price >= 1.0 else 0.0
        if price - h > target:
            return (price - h) / target * 1e4 - 1e4
        if price + h < target:
            return (price + h) / target * 1e4 - 1e4
        return 0.0

    def step(tick: dict[str, Any], key: str, timestamp: int, headers: Any, state: State) -> Any:
        spec = pegs[key]
        ts, price = int(tick["ts"]), float(tick["price"])
        dev = abs(round(judged_bps(price, spec["ratio"]), 6))
        level = 2 if dev >= spec["critical"] else 1 if dev >= spec["warn"] else 0
        s = state.get("peg", {"state": 0, "confirm": None, "streak": None})
        cur, event = s["state"], None
        if level > cur:
            s["streak"] = None
            c = s["confirm"]
            if spec["confirm_ms"] and dev < BYPASS_BPS:
                c = s["confirm"] = [ts, level] if c is None else [c[0], min(c[1], level)]
                if ts - c[0] >= spec["confirm_ms"]:
                    event, s["state"], s["confirm"] = (c[0], c[1]), c[1], None
            else:
                event, s["state"], s["confirm"] = (ts, level), level, None
        else:
            s["confirm"] = None
            allowed = 0 if dev < spec["warn_exit"] else 1 if cur == 2 and dev < spec["critical_exit"] else cur
            if allowed >= cur:
                s["streak"] = None
            else:
                st = s["streak"] = [ts, allowed, 0] if s["streak"] is None else s["streak"]
                st[1], st[2] = max(st[1], allowed), st[2] + 1
                if st[2] >= MIN_EXIT_TICKS and ts - st[0] >= MIN_EXIT_MS:
                    event, s["state"], s["streak"] = (ts, st[1]), st[1], None
        state.set("peg", s)
        if event is None:
            return None
        # ``start``: the first tick of the confirmed run (the engine's episode start on entry).
        return {
            "type": "peg",
            "symbol": key,
            "ts": ts,
            "start": event[0],
            "prev_state": LEVELS[cur],
            "state": LEVELS[event[1]],
            "price": price,
        }

    return step


def build(app: Application, ticks_name: str, moves_name: str, pegs_name: str, windows: bool = False) -> None:
    ticks = app.topic(
        ticks_name, value_deserializer="json", key_deserializer="str", timestamp_extractor=tick_time
    )
    moves = app.topic(moves_name, value_serializer="json", key_serializer="str")
    pegs_out = app.topic(pegs_name, value_serializer="json", key_serializer="str")
    sdf = app.dataframe(ticks)
    if not windows:
        (sdf.apply(move_history_detector(), stateful=True, metadata=True, expand=True).to_topic(moves))
    for horizon_s, threshold in HORIZONS if windows else ():
        (
            sdf.sliding_window(duration_ms=horizon_s * 1000)
            .agg(
                first=Earliest("price"),
                last=Latest("price"),
                quantum=Latest("price_quantum"),
                since=Min("ts"),
            )
            .current()
            .apply(move_detector(horizon_s, threshold), stateful=True, metadata=True)
            .filter(lambda m: m is not None)
            .to_topic(moves)
        )
    registry = usd_pegs()
    (
        sdf.filter(
            lambda t: t["symbol"] in registry and registry[t["symbol"]]["coin_id"] in (None, t["coin_id"])
        )
        .filter(lambda t: t["currency"] == "USD")
        .apply(peg_monitor(registry), stateful=True, metadata=True)
        .filter(lambda e: e is not None)
        .to_topic(pegs_out)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--ticks", required=True)
    ap.add_argument("--moves", required=True)
    ap.add_argument("--pegs", required=True)
    ap.add_argument("--windows", action="store_true", help="moves from sliding windows (slow: see above)")
    ap.add_argument("--state-dir", help="RocksDB state (default: a fresh temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="quix-state-") as tmp:
        app = Application(
            broker_address=args.broker,
            consumer_group=args.group,
            auto_offset_reset="earliest",
            state_dir=args.state_dir or tmp,
            loglevel="WARNING",
        )
        build(app, args.ticks, args.moves, args.pegs, args.windows)
        app.run()  # until SIGTERM: Quix then commits and closes, as in production


if __name__ == "__main__":
    main()
