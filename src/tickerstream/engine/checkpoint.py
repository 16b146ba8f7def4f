"""Engine state as bytes (a checkpoint): an uncompressed ``.npz`` of per-symbol arrays plus one JSON member.

Format ``tickerstream-engine`` version 1. Ring contents are stored unrotated and without the unused
slots (oldest point first, ``npoints`` per symbol), so a checkpoint's size follows the data, not the
capacity, and it restores into an engine with a different ring capacity (keeping the newest points).
Move horizons must match: detector state is per horizon.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tickerstream.engine.config import EngineConfig
from tickerstream.engine.moves import MoveDetector
from tickerstream.engine.windows import Windows

FORMAT = "tickerstream-engine"
VERSION = 1

I64 = npt.NDArray[np.int64]


class CheckpointFormatError(ValueError):
    """The bytes are not an engine checkpoint this version can restore."""


def dump(
    win: Windows, det: MoveDetector, names: list[str], rows: I64, pegs: dict[str, Any], watermark: int
) -> bytes:
    ts, px, held = win.ordered(rows)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "horizons_s": list(det.config.horizons_s),
        "symbols": names,
        "watermark": watermark,
        "pegs": pegs,
    }
    buf = io.BytesIO()
    np.savez(
        buf,
        meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8),
        npoints=held.sum(axis=1).astype(np.int64),
        ts=ts[held],
        price=px[held],
        var=win.var[rows],
        n_ret=win.n_ret[rows],
        armed=det.armed[rows],
        last_fire_ts=det.last_fire_ts[rows],
        anchor_price=det.anchor_price[rows],
    )
    return buf.getvalue()


def load(data: bytes, config: EngineConfig) -> tuple[list[str], dict[str, Any], dict[str, Any], int]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = orjson.loads(arrays.pop("meta").tobytes())
    except Exception as exc:  # zipfile, numpy and orjson each raise their own errors
        raise CheckpointFormatError(f"not an engine checkpoint: {exc}") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointFormatError(f"unsupported checkpoint {meta.get('format')!r} v{meta.get('version')!r}")
    if tuple(meta["horizons_s"]) != config.moves.horizons_s:
        raise CheckpointFormatError(
            f"checkpoint move horizons {meta['horizons_s']} differ from the configured "
            f"{list(config.moves.horizons_s)}"
        )
    return meta["symbols"], arrays, meta["pegs"], int(meta["watermark"])


def restore_rows(win: Windows, det: MoveDetector, rows: I64, a: dict[str, Any]) -> None:
    """Replace the state of ``rows`` by the checkpoint's arrays (same order as its symbols)."""
    win.reset(rows)
    det.reset(rows)
    if rows.size == 0:
        return
    cap = win.capacity
    n = a["npoints"]
    k = np.minimum(n, cap)
    starts = np.cumsum(n) - n
    owner = np.repeat(np.arange(rows.size), n)
    pos = np.arange(owner.size) - starts[owner]
    keep = pos >= (n - k)[owner]
    slot = pos[keep] - (n - k)[owner[keep]]
    win.ts[rows[owner[keep]], slot] = a["ts"][keep]
    win.price[rows[owner[keep]], slot] = a["price"][keep]
    win.count[rows] = k
    has = k > 0
    last = starts + n - 1
    win.last_ts[rows[has]] = a["ts"][last[has]]
    win.last_price[rows[has]] = a["price"][last[has]]
    win.var[rows] = a["var"]
    win.n_ret[rows] = a["n_ret"]
    det.armed[rows] = a["armed"]
    det.last_fire_ts[rows] = a["last_fire_ts"]
    det.anchor_price[rows] = a["anchor_price"]
