"""Engine state as bytes (a checkpoint): an uncompressed ``.npz`` of per-series arrays plus one JSON member.

Format ``tickerstream-engine`` version 9: per series (``series``: symbol, coin id, quote), one ring
per horizon (``ts_<h>``, ``price_<h>``, ``var_<h>``, ``qexp_<h>``, ``npoints_<h>``), the volatility
as a variance per second with the series' first ts, and the quantum estimate (``decimals``). Ring
contents are stored unrotated and without the unused slots (oldest point first), so a checkpoint's
size follows the data, not the capacity, and it restores into an engine with a different ring
capacity (keeping the newest points). Horizons (move horizons and ``windows.horizon_s``) must
match: detector state and the rings' thinning are per horizon. The move detectors' state includes
the change of each move's latest event, from which a deepening is measured, the ts of the latest
triggering tick (``last_trig_ts``: re-arming waits a quarter of the horizon after it), and each
series' 24 h change check state. The volatility also keeps its value before the return into the
last point (``var_prev``), to which it goes back should that point turn out to be a lone print, and
its value before the return into the point before it (``var_prev2``), for a lone pair, and
the latest tick dropped as a scale jump (``held_price``, ``held_ts``, ``scale.py``), which a later
jump to its scale confirms, and the price before the latest confirmed jump (``left_price``). The
volatility's last three points (``vol_price``, ``vol_ts`` and the quantum in effect ``vol_q``;
how the two points before the newest were left out, ``vol_gone``) are kept
apart from the rings: a point of a page coarser than the series' finest is in the rings (an
anchor) but not in the volatility. The ts of the first tick of the last price's run
(``run_since``) dates a frozen source, ``run_repeats`` counts its precise repeats (older builds:
every repeat, at most one drop sooner after a restore) and ``run_frozen`` says
the run was found frozen (``stale.py``). The same EWMA of the squared returns as shown, without
the rounding correction (``var_raw``, ``var_raw_prev``, ``var_raw_prev2``), bounds the volatility
from below (``Windows.floored``). Each series' latest pages (``recent_px``, ``recent_ts``) and
the ts of the latest page held for the next one (``spike_held_ts``, ``spike.py``).

Versions 3 to 8 are restored. Version 8 (and every older one): the last two points are kept in
the volatility should the next tick show them to be a lone pair (the estimate before them is
unknown), the third newest point's ts and quantum are unknown, and the newest points are taken to
have followed the ones before them. Version 7 (and every older one): the returns as shown are taken to
have been the corrected ones (the bound then holds nothing up; it builds with the next returns).
Version 6 (and every older one): the last price's run began
at the last tick. Version 5 (without ``vol_price``, ``vol_ts``, ``vol_q``): the
volatility's points were the longest ring's, so its last three points are taken from there, each
with the quantum its ring point keeps, else the series' estimate (``decimals``). Version 4 (with
``receded`` instead of ``last_trig_ts``, without ``held_ts`` and ``left_price``): the latest trigger
is taken to be the latest event (``last_fire_ts``; a trigger since, while disarmed, is unknown, so a
receding tick may re-arm up to a quarter horizon earlier than it would have), a dropped tick is
dated at the last taken tick (it came after it) and no scale was left. Version 3 (without
``var_prev``, ``receded``, ``held_price``) besides: a series' last point is kept in the volatility
even if the next tick shows it was a lone print (the estimate it would go back to is unknown) and a
tick dropped as a scale jump just before the checkpoint is forgotten. Each matters for the first
ticks after the restore.

Older versions are refused with ``CheckpointFormatError`` and the caller cold-starts those series:
version 1 (one per-tick ring, volatility counted per tick) because its variance has no time unit,
version 2 because its series were keyed by symbol alone, so it cannot say which coin id its state
belongs to; restoring it under a guessed coin id would give one coin another's history.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tickerstream.engine.config import EngineConfig
from tickerstream.engine.grouping import NO_TS
from tickerstream.engine.moves import MoveDetector
from tickerstream.engine.quality import ChangeCheck
from tickerstream.engine.quanta import UNROUNDED, exponent_quanta
from tickerstream.engine.rings import ring_slot
from tickerstream.engine.series import SeriesKey
from tickerstream.engine.windows import Windows

FORMAT = "tickerstream-engine"
VERSION = 9
#: Older versions restored (the state they lack is filled in by ``restore_rows``).
_RESTORED = {3, 4, 5, 6, 7, 8}
#: Why each older version cannot be restored (the caller logs it and cold-starts).
_REFUSED = {
    1: "engine checkpoint v1 (per-tick ring, volatility per tick) cannot be restored into current state "
    "(time-bucketed rings, volatility per second): its series start cold",
    2: "engine checkpoint v2 (series keyed by symbol only) cannot be restored into current state (series "
    "keyed by symbol, coin id and quote): its series start cold",
}

I64 = npt.NDArray[np.int64]


class CheckpointFormatError(ValueError):
    """The bytes are not an engine checkpoint this version can restore."""


def dump(
    win: Windows,
    det: MoveDetector,
    quality: ChangeCheck,
    keys: list[SeriesKey],
    rows: I64,
    pegs: dict[str, Any],
    watermark: int,
) -> bytes:
    """``rows`` hold the series ``keys`` (same order)."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "horizons_s": list(det.config.horizons_s),
        "ring_horizons_s": [r.horizon_ms // 1000 for r in win.rings],
        "series": [list(k) for k in keys],
        "watermark": watermark,
        "pegs": pegs,
    }
    rings: dict[str, Any] = {}
    for r in win.rings:
        ts, px, held = win.ordered(r, rows)
        h = r.horizon_ms // 1000
        rings[f"npoints_{h}"] = held.sum(axis=1).astype(np.int64)
        rings[f"ts_{h}"] = ts[held]
        rings[f"price_{h}"] = px[held]
        rings[f"var_{h}"] = r.var[rows[:, None], _slots(r, rows)][held]
        rings[f"qexp_{h}"] = r.qexp[rows[:, None], _slots(r, rows)][held]
    buf = io.BytesIO()
    np.savez(
        buf,
        meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8),
        **rings,
        last_ts=win.last_ts[rows],
        last_price=win.last_price[rows],
        first_ts=win.first_ts[rows],
        decimals=win.decimals[rows],
        var=win.var[rows],
        var_prev=win.var_prev[rows],
        var_prev2=win.var_prev2[rows],
        var_raw=win.var_raw[rows],
        var_raw_prev=win.var_raw_prev[rows],
        var_raw_prev2=win.var_raw_prev2[rows],
        held_price=win.held_price[rows],
        held_ts=win.held_ts[rows],
        left_price=win.left_price[rows],
        n_ret=win.n_ret[rows],
        run_since=win.run_since[rows],
        run_repeats=win.run_repeats[rows],
        run_frozen=win.run_frozen[rows],
        vol_price=win.vol_price[rows],
        vol_ts=win.vol_ts[rows],
        vol_q=win.vol_q[rows],
        vol_gone=win.vol_gone[rows],
        armed=det.armed[rows],
        spike_held_ts=det.spike_held_ts[rows],
        recent_px=det.recent_px[rows],
        recent_ts=det.recent_ts[rows],
        last_fire_ts=det.last_fire_ts[rows],
        last_change=det.last_change[rows],
        anchor_price=det.anchor_price[rows],
        last_trig_ts=det.last_trig_ts[rows],
        change_mismatch=quality.mismatch[rows],
        change_streak=quality.streak[rows],
    )
    return buf.getvalue()


def load(data: bytes, config: EngineConfig) -> tuple[list[SeriesKey], dict[str, Any], dict[str, Any], int]:
    """(series keys, their arrays in that order, peg state, watermark)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = orjson.loads(arrays.pop("meta").tobytes())
    except Exception as exc:  # zipfile, numpy and orjson each raise their own errors
        raise CheckpointFormatError(f"not an engine checkpoint: {exc}") from None
    if meta.get("format") == FORMAT and meta.get("version") in _REFUSED:
        raise CheckpointFormatError(_REFUSED[meta["version"]])
    if meta.get("format") != FORMAT or meta.get("version") not in (VERSION, *_RESTORED):
        raise CheckpointFormatError(f"unsupported checkpoint {meta.get('format')!r} v{meta.get('version')!r}")
    ours = [r // 1000 for r in sorted({*config_ring_ms(config)})]
    if meta.get("ring_horizons_s") != ours:
        raise CheckpointFormatError(
            f"checkpoint ring horizons {meta.get('ring_horizons_s')} differ from the configured {ours}"
        )
    if tuple(meta["horizons_s"]) != config.moves.horizons_s:
        raise CheckpointFormatError(
            f"checkpoint move horizons {meta['horizons_s']} differ from the configured "
            f"{list(config.moves.horizons_s)}"
        )
    keys: list[SeriesKey] = [(s, c, q) for s, c, q in meta["series"]]
    return keys, arrays, meta["pegs"], int(meta["watermark"])


def _slots(ring: Any, rows: I64) -> I64:
    """Ring slots of ``rows`` oldest first (as ``Windows.ordered`` lays them out)."""
    cap = ring.capacity
    n = ring.count[rows]
    k = np.minimum(n, cap)
    out: I64 = ((n - k)[:, None] + np.arange(cap)[None, :]) % cap
    return out


def config_ring_ms(config: EngineConfig) -> set[int]:
    """The ring horizons (ms) an engine with ``config`` keeps (as ``Engine`` builds its windows)."""
    hs = {config.windows.horizon_s, *(config.moves.horizons_s if config.moves.enabled else ())}
    return {h * 1000 for h in hs}


def restore_rows(win: Windows, det: MoveDetector, quality: ChangeCheck, rows: I64, a: dict[str, Any]) -> None:
    """Replace the state of ``rows`` by the checkpoint's arrays (same order as its symbols)."""
    win.reset(rows)
    det.reset(rows)
    quality.reset(rows)
    if rows.size == 0:
        return
    for r in win.rings:
        h = r.horizon_ms // 1000
        cap = r.capacity
        n = a[f"npoints_{h}"]
        k = np.minimum(n, cap)
        starts = np.cumsum(n) - n
        owner = np.repeat(np.arange(rows.size), n)
        pos = np.arange(owner.size) - starts[owner]
        keep = pos >= (n - k)[owner]
        slot = pos[keep] - (n - k)[owner[keep]]
        r.ts[rows[owner[keep]], slot] = a[f"ts_{h}"][keep]
        r.price[rows[owner[keep]], slot] = a[f"price_{h}"][keep]
        r.var[rows[owner[keep]], slot] = a[f"var_{h}"][keep]
        r.qexp[rows[owner[keep]], slot] = a[f"qexp_{h}"][keep]
        r.count[rows] = k
    win.last_ts[rows] = a["last_ts"]
    win.last_price[rows] = a["last_price"]
    win.first_ts[rows] = a["first_ts"]
    win.decimals[rows] = a["decimals"]
    win.var[rows] = a["var"]
    if "var_prev" in a:  # v4 on; older: unknown (NaN, as reset left it)
        win.var_prev[rows] = a["var_prev"]
        win.held_price[rows] = a["held_price"]
    # v8 on; older: as if the shown returns were the corrected ones (the bound holds nothing up)
    win.var_raw[rows] = a["var_raw"] if "var_raw" in a else win.var[rows]
    win.var_raw_prev[rows] = a["var_raw_prev"] if "var_raw_prev" in a else win.var_prev[rows]
    if "var_prev2" in a:  # v9 on; older: unknown (NaN), and no point was left out
        win.var_prev2[rows] = a["var_prev2"]
        win.var_raw_prev2[rows] = a["var_raw_prev2"]
        win.vol_gone[rows] = a["vol_gone"]
    if "held_ts" in a:  # v5 on; v4: its dropped tick came after the last taken one, at an unknown ts
        win.held_ts[rows] = a["held_ts"]
        win.left_price[rows] = a["left_price"]
    else:
        win.held_ts[rows] = a["last_ts"]
    win.n_ret[rows] = a["n_ret"]
    # v7 on; older: the run of the last price began at the last tick (a frozen run is judged anew)
    win.run_since[rows] = a["run_since"] if "run_since" in a else a["last_ts"]
    # v8 on; older: the run is judged anew (a run already frozen is reported frozen once more)
    win.run_frozen[rows] = a.get("run_frozen", False)
    win.run_repeats[rows] = a.get("run_repeats", 0)  # older: counted anew (two more repeats to drop)
    if "vol_price" in a:  # v6 on (before v9: ts and quantum of the two newest points only)
        win.vol_price[rows] = a["vol_price"]
        cols = a["vol_ts"].shape[1]
        win.vol_ts[rows, :cols] = a["vol_ts"]
        win.vol_q[rows, :cols] = a["vol_q"]
    else:  # older: the volatility's points were the longest ring's
        _vol_points_from_ring(win, rows)
    det.armed[rows] = a["armed"]
    if "spike_held_ts" in a:  # v8 on
        det.spike_held_ts[rows] = a["spike_held_ts"]
        det.recent_px[rows] = a["recent_px"]
        det.recent_ts[rows] = a["recent_ts"]
    else:  # older: no page was held, and the latest page known is the last tick
        det.spike_held_ts[rows] = NO_TS
        det.recent_px[rows, 0] = a["last_price"]
        det.recent_ts[rows, 0] = a["last_ts"]
    det.row_threshold[rows] = np.nan  # looked up again from the row's symbol (not state: config)
    det.last_fire_ts[rows] = a["last_fire_ts"]
    det.last_change[rows] = a["last_change"]
    quality.mismatch[rows] = a["change_mismatch"]
    quality.streak[rows] = a["change_streak"]
    det.anchor_price[rows] = a["anchor_price"]
    if "last_trig_ts" in a:  # v5 on; older: the latest event's ts, the latest trigger known
        det.last_trig_ts[rows] = a["last_trig_ts"]
    else:
        det.last_trig_ts[rows] = a["last_fire_ts"]


def _vol_points_from_ring(win: Windows, rows: I64) -> None:
    """The volatility's last three points as a checkpoint before v6 left them: the longest ring's
    last three, each with its quantum (the one its page showed, else the series' estimate)."""
    ring = win.rings[-1]
    cap = ring.capacity
    n = ring.count[rows]
    est = np.where(
        (win.decimals[rows] < 0) | (win.decimals[rows] >= UNROUNDED),
        0.0,
        10.0 ** -win.decimals[rows].astype(np.float64),
    )
    for back in (1, 2, 3):
        has = n >= back
        at = rows[has]
        slot = ring_slot(n[has] - back, cap)
        win.vol_price[at, back - 1] = ring.price[at, slot]
        win.vol_ts[at, back - 1] = ring.ts[at, slot]
        qx = exponent_quanta(ring.qexp[at, slot])
        win.vol_q[at, back - 1] = np.where(np.isnan(qx), est[has], qx)
