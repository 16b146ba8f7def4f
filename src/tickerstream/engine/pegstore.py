"""Peg state in engine checkpoints (``PegMonitor.export`` / ``merge``): its versions and conversions.

- v1: no version field, the v1 track layout (``_tracks_from_v1``).
- v2: ``PegTrack`` as is; held ticks as (ts, price); references as (ts list, price list).
- v3: held ticks carry their price quantum (null: unknown); each reference also says when the price
  of its first kept point was first shown (the start of its run of equal prices), so a restore in
  the middle of a frozen reference keeps its age. v2 restores with both unknown: the quantum falls
  back to ``display_quantum``, and a frozen run counts from the first kept point (younger than it
  is, never older).
- v4: a held page may be one the monitor cannot judge (a tick without a coin id on a ticker several
  coins share): ``[ts, price, null, "ambiguous_ticks"]``. v2 and v3 restore as before; a v3 reader
  refuses v4 (by its version) rather than take such a page for a price of the pegged coin.
- v5: a track keeps its consecutive judged ticks of the last ``confirm_s`` (``recent``: what
  confirms ``worst_bps`` and ``deepened``) and the start of its run of judged ticks
  (``sound_since``: what leaves ``unknown`` for ``ok``); ``confirm_worst`` is gone. v2-v4 restore
  with both empty: the next ticks refill them, so a restore delays an update or the way out of
  ``unknown`` by at most ``confirm_s`` / ``unknown_exit_s``, and never raises one (an entry
  confirmed before they are refilled counts as reported at its level's threshold).
- v6: a track keeps the reason of its last tick without a sound judgement (``unknown_reason``), so
  a reminder in ``unknown`` is due on a judged tick too. ``sound_since`` is now the first judged
  tick since entering ``unknown`` (ticks without a sound judgement no longer restart it); a v5
  value is that or later, so it delays the way out by at most ``unknown_exit_s``. v2-v5 restore
  without a reason: a track restored in ``unknown`` gives its next reminder on a tick without a
  sound judgement (as v5 did), never one without a reason.
- v7: a track keeps the fine pages of its exit streak (``fine_ticks``, ``fine_start``): pages whose
  price step is narrower than the gap between a level and its exit level, the only ones that
  confirm an exit within ``min_exit_duration_s``. v1-v6 restore a streak in progress as all fine
  (the rule it began under), so a restore never delays an exit that was due.
- v8: a track keeps its last judged tick beyond ``confirm_bypass_bps`` (``beyond``). v1-v7 restore
  without one: a page
  beyond the bypass right after a restore waits for a second one, as after any first page. A
  confirmation keeps its side (``confirm_sign``); one in progress in v1-v7 restarts at the next
  page (a restore delays an entry by at most ``confirm_s``).
- v9: a track keeps the pages beyond its state that keep coming (``sustain_*``: a level confirmed
  by its persistence beside contradicting pages) and its judged pages of the last quarter hour
  (``window``: what persisted, for ``worst_bps`` and ``deepened``). v1-v8 restore without them:
  such a confirmation in progress restarts at the next page (a restore delays it by at most
  ``SUSTAIN_MS``).
- v10: a track counts the judged pages since its last page beyond the bypass (``beyond_other``:
  two such pages confirm each other only with few pages between them), keeps the ts of such pages
  of the last hour (``beyond_recent``: a third confirms them anyway) and its last page that
  kept the state and the gap before it (``hold_ts``, ``hold_gap``: an exit waits until such pages
  are overdue or outnumbered), and ``window`` keeps the last half hour. v1-v9 restore with none
  counted and none kept: the first exit after a restore may come as early as it did before v10.
- v11: a track keeps, in ``ok``, its pages beyond the critical level that keep coming whatever
  comes between (``split_*``: the first and last ts, the pages, the others between them, the first
  price and whether another came): such pages, at more than one price, outnumbered for half an
  hour make it ``unknown`` with ``unknown_reason`` ``sources_disagree``. v1-v10 restore with none
  kept: a disagreement in progress is then said at most half an hour later.
"""

from __future__ import annotations

import math
from typing import Any

from tickerstream.engine.checkpoint import CheckpointFormatError
from tickerstream.engine.pegref import RefHistory, runs_since
from tickerstream.engine.pegstate import PegTrack

#: Version of the JSON ``PegMonitor.export`` gives (inside the engine checkpoint).
STATE_VERSION = 11

#: A pegged tick waiting for its reference: ts, price, price quantum (NaN: unknown; ``UNJUDGEABLE``:
#: a page whose coin is not known, which only says the peg was not judged at ts).
Held = tuple[int, float, float]

#: The quantum marking a held page that cannot be judged (a real quantum is never negative).
UNJUDGEABLE = -1.0


class PegStateError(CheckpointFormatError):
    """Peg state in a checkpoint that this version cannot read."""


def read_tracks(state: dict[str, Any]) -> dict[str, PegTrack]:
    version = state.get("version", 1)
    if version == 1:
        return _streaks_as_fine(_tracks_from_v1(state["tracks"]))
    if version in (2, 3, 4, 5, 6, 7, 8, 9, 10, STATE_VERSION):
        try:
            tracks = state["tracks"].items()
            out = {s: PegTrack.from_json(_track_v5(t) if version < 5 else t) for s, t in tracks}
        except (TypeError, ValueError) as exc:
            raise PegStateError(f"checkpoint peg state v{version} is malformed: {exc}") from None
        return out if version >= 7 else _streaks_as_fine(out)
    raise PegStateError(
        f"checkpoint peg state v{version!r} is newer than this version reads (v{STATE_VERSION}); "
        "upgrade tickerstream or start from an earlier checkpoint"
    )


def _track_v5(track: Any) -> Any:
    """A v2-v4 track as v5: the entry's own worst (``confirm_worst``) is gone, the recent judged
    ticks and the run of sound judgements start empty (the defaults)."""
    if not isinstance(track, dict):
        return track
    return {k: v for k, v in track.items() if k != "confirm_worst"}


def _streaks_as_fine(tracks: dict[str, PegTrack]) -> dict[str, PegTrack]:
    """v1-v6 tracks as v7: the pages of an exit streak in progress count as fine (before v7 every
    page confirmed an exit within ``min_exit_duration_s``)."""
    for t in tracks.values():
        t.fine_ticks, t.fine_start = t.streak_ticks, t.streak_start
    return tracks


def held_json(item: Held) -> list[Any]:
    ts, price, quantum = item
    if quantum == UNJUDGEABLE:
        return [ts, price, None, "ambiguous_ticks"]
    return [ts, price, None if math.isnan(quantum) else quantum]


def read_held(item: list[Any]) -> Held:
    """A held tick of v3/v4, or of v1/v2 ([ts, price]: quantum unknown)."""
    if len(item) > 3:
        if item[3] != "ambiguous_ticks":
            raise PegStateError(f"checkpoint peg state has a held page of unknown kind {item[3]!r}")
        return int(item[0]), json_price(item[1]), UNJUDGEABLE
    quantum = item[2] if len(item) > 2 else None
    return int(item[0]), json_price(item[1]), math.nan if quantum is None else float(quantum)


def json_price(value: Any) -> float:
    """A price from the checkpoint's JSON: null is a NaN price (JSON has none; the engine's API
    takes any float), which must come back as the NaN it was, not break the next page."""
    return math.nan if value is None else float(value)


def merged_history(
    mine: RefHistory, ts: list[int], price: list[float], first: list[int], keep: int
) -> RefHistory:
    """A reference history merged with a checkpoint's points, the newest ``keep``. ``first``: when
    the price of the checkpoint's first point was first shown ([]: at its own ts)."""
    since = dict(zip(mine.ts, mine.since, strict=True))
    if ts:
        since.setdefault(ts[0], int(first[0]) if first else ts[0])
    merged = dict(zip(mine.ts, mine.price, strict=True))
    merged.update(zip(ts, map(json_price, price), strict=True))
    keys = sorted(merged)
    prices = [merged[k] for k in keys]
    runs = runs_since(keys, prices, since.get(keys[0]) if keys else None)
    return RefHistory(keys[-keep:], prices[-keep:], runs[-keep:])


def _tracks_from_v1(tracks: dict[str, Any]) -> dict[str, PegTrack]:
    """v1 tracks (state, episode_start, worst_bps, exit streak, deviation_bps, last_ts) as v2.

    What v1 did not keep starts fresh: no confirmation in progress, the deepest reported level is
    the worst seen (so no burst of ``deepened`` events after an upgrade), the first tick back
    inside is unknown until the next one, and the last judged tick is the last tick (v1 judged
    every tick it kept state for).
    """
    out: dict[str, PegTrack] = {}
    for sym, t in tracks.items():
        try:
            state, last_ts = t["state"], int(t["last_ts"])
            in_episode = state in ("warn", "critical")
            worst = float(t["worst_bps"]) if in_episode else 0.0
            out[sym] = PegTrack(
                state=state,
                episode_start=int(t["episode_start"]) if in_episode else -1,
                worst_bps=worst,
                worst_seen_bps=worst,
                reported_bps=abs(worst),
                last_event_ts=last_ts,
                streak_ticks=int(t["streak_ticks"]),
                streak_start=int(t["streak_start"]),
                streak_level=int(t["streak_level"]),
                # a streak back inside the warn exit level began at its start
                inside_since=int(t["streak_start"]) if t["streak_ticks"] and not t["streak_level"] else -1,
                first_ts=last_ts,
                last_ts=last_ts,
                judged_ts=last_ts,
                deviation_bps=float(t["deviation_bps"]),
                judged_bps=float(t["deviation_bps"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PegStateError(f"checkpoint peg state v1 for {sym} is malformed: {exc}") from None
        if state not in ("ok", "warn", "critical"):
            raise PegStateError(f"checkpoint peg state v1 for {sym} has unknown state {state!r}")
    return out
