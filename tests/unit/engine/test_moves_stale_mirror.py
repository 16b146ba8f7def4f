"""A stale mirror between a live site's pages: its repeats of one price are no new move each time."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from tests.support.engine import HOUR, MIN, T0
from tickerstream.engine import Engine, TickBatch
from tickerstream.events import Move

Page = tuple[int, float, float]  # ts, price, quantum


def moves(pages: list[Page], cuts: list[int] | None = None, per_batch: int = 60) -> list[Move]:
    """ALT's moves (default configuration), fed ``per_batch`` pages at a time or cut at ``cuts``."""
    pages = sorted(pages)
    bounds = (
        [0, *sorted(set(cuts)), len(pages)]
        if cuts is not None
        else [*range(0, len(pages), per_batch), len(pages)]
    )
    e = Engine()
    out: list[Move] = []
    for lo, hi in pairwise(bounds):
        part = pages[lo:hi]
        b = TickBatch.from_arrays(
            ["ALT"] * len(part), [p[0] for p in part], [p[1] for p in part], [p[2] for p in part]
        )
        out += [m for m in e.process(b) if isinstance(m, Move)]
    return out


def crash_beside_a_stale_mirror(seed: int) -> tuple[list[Page], int]:
    """40 hours of ALT on a live four-decimal site every 2 minutes (jittered), -30 % in 20 minutes at
    hour 30; a cents site every 15 minutes whose cache stopped at the crash (the pre-crash price
    from then on). Returns the pages and the crash's end."""
    rng = np.random.default_rng(seed)
    n, crash = 40 * 60, 30 * 60
    r = rng.normal(0, 0.04 / np.sqrt(1440), n)
    r[crash : crash + 20] += np.log(0.7) / 20
    alt = 2.37 * np.exp(np.cumsum(r))
    pages: list[Page] = []
    for m in range(n):
        jitter = int(rng.integers(0, 30_000))
        if m % 2 == 0:
            pages.append((T0 + m * MIN + jitter, round(float(alt[m]), 4), 1e-4))
        if m % 15 == 7:
            pages.append((T0 + m * MIN + jitter, round(float(alt[min(m, crash)]), 2), 1e-2))
    return pages, T0 + (crash + 20) * MIN


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_stale_mirror_after_a_crash_sends_no_rebounds(seed: int) -> None:
    """After the crash (reported: `new`, deepened to -30 %), the stuck site's page every 15 minutes
    read +40 % from the live price an hour before: a `new` up move every 30-60 minutes for the ten
    hours it stayed stuck (8-13 per seed), the live pages between re-arming the detector. A page
    at exactly the price of two lone prints among the points before it (far off both neighbours,
    which agree with the points beyond them) neither triggers nor recedes."""
    pages, crash_end = crash_beside_a_stale_mirror(seed)
    got = moves(pages)
    crash = [m for m in got if m.ts <= crash_end + 5 * MIN]
    assert crash and all(m.direction == "down" for m in crash)
    assert min(m.change_pct for m in crash if m.horizon_s == 3600) <= -25.0
    # The stuck site's first pages may fire, as one bad page does, until it was a lone print twice.
    ups = [m for m in got if m.direction == "up" and m.ts > crash_end]
    assert len(ups) <= 1 and all(m.ts <= crash_end + HOUR for m in ups)


def test_the_repeats_are_judged_the_same_in_any_batches() -> None:
    pages, _ = crash_beside_a_stale_mirror(11)
    expected = [m.to_json() for m in moves(pages)]
    rng = np.random.default_rng(1)
    cuts = sorted(int(c) for c in rng.integers(1, len(pages), size=40))
    assert [m.to_json() for m in moves(pages, cuts)] == expected
    assert [m.to_json() for m in moves(pages, per_batch=1)] == expected


@pytest.mark.parametrize("mirror_every_s", [15, 60])
def test_a_crash_the_live_site_repeats_beside_a_mirror_is_reported(mirror_every_s: int) -> None:
    """The other way round: a live site every minute, a mirror stuck at the old price every 15 s
    (outnumbering it) or taking turns with it; after a -12 % drop the live site shows one price
    page after page, each a lone print among the mirror's. Its first page fires (nothing held
    with ``spike_hold_s`` off); a repeat of the price is no new move, and no silence before it."""
    pages: list[Page] = [
        (T0 + k * MIN, round(3000.0 * (1 + 0.0003 * np.sin(k)), 2), 0.01) for k in range(600)
    ]
    t0, last = pages[-1][0], pages[-1][1]
    for k in range(60):
        for j in range(60 // mirror_every_s):
            pages.append((t0 + k * MIN + 3_000 + j * mirror_every_s * 1000, last, 0.01))
        pages.append((t0 + (k + 1) * MIN, round(last * 0.88, 2), 0.01))
    hour = [m for m in moves(pages) if m.horizon_s == 3600 and m.kind == "new"]
    assert [(m.ts, m.direction) for m in hour][:1] == [(t0 + MIN, "down")]


def test_a_second_wick_to_one_price_is_reported() -> None:
    """ALT at about $150 in cents every 2 minutes, two one-page wicks to exactly $120.00 (a resting
    bid) 40 minutes apart: each is news; the second was taken for a repeated print. A price is a
    repeat only once it was a lone print twice."""
    rng = np.random.default_rng(5)
    walk = 150 * np.exp(np.cumsum(rng.normal(0, 0.0008, 180)))
    pages: list[Page] = [
        (T0 + i * 2 * MIN, 120.0 if i in (90, 110) else round(float(walk[i]), 2), 0.01) for i in range(180)
    ]
    hour = [m for m in moves(pages) if m.horizon_s == 3600 and m.to_price == 120.0]
    assert [m.ts for m in hour] == [T0 + 180 * MIN, T0 + 220 * MIN]


def test_a_crash_pinned_at_an_earlier_wicks_price_is_reported() -> None:
    """ALT at about $2.00 every 2 minutes, one real wick to exactly 1.5000 at 03:00; at 03:30 it
    crashes to that same bid and stays there, a mirror stuck at the pre-crash price taking turns
    with it: the crash was never reported (each live page repeated the wick). Reported at once."""
    rng = np.random.default_rng(7)
    walk = 2.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, 300)))
    pages: list[Page] = []
    for i in range(300):
        pages.append((T0 + i * 2 * MIN, 1.5 if i == 90 or i >= 105 else round(float(walk[i]), 4), 1e-4))
    frozen = round(float(walk[104]), 4)
    pages += [(T0 + i * 2 * MIN + MIN, frozen, 1e-4) for i in range(105, 300)]
    hour = [m for m in moves(pages) if m.horizon_s == 3600 and m.kind == "new"]
    assert [(m.ts, m.to_price) for m in hour] == [(T0 + 180 * MIN, 1.5), (T0 + 210 * MIN, 1.5)]


@pytest.mark.parametrize("mirror", [False, True], ids=["alone", "beside-a-mirror"])
def test_a_crash_pinned_at_a_bid_that_wicked_twice_is_reported(mirror: bool) -> None:
    """Two real wicks to exactly 1.5000 (a resting bid), then a crash to that bid that stays there,
    alone or with a mirror stuck at the old price taking turns with the live site: beside the
    mirror each live page jumped off the mirror's page before it and repeated the two wicks, and
    the crash was never reported on 1 h. A repeat jumps off a level the two points before it agree
    on: the crash is reported at its second page at most (its first repeats the wicks)."""
    rng = np.random.default_rng(7)
    walk = 2.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, 300)))
    pages: list[Page] = []
    for i in range(300):
        pages.append((T0 + i * 2 * MIN, 1.5 if i in (60, 80) or i >= 105 else round(float(walk[i]), 4), 1e-4))
    if mirror:
        frozen = round(float(walk[104]), 4)
        pages += [(T0 + i * 2 * MIN + MIN, frozen, 1e-4) for i in range(105, 300)]
    hour = [m for m in moves(pages, per_batch=1) if m.horizon_s == 3600 and m.kind == "new"]
    assert [m.ts for m in hour][:2] == [T0 + 120 * MIN, T0 + 160 * MIN]
    assert T0 + 210 * MIN <= hour[2].ts <= T0 + 212 * MIN and hour[2].to_price == 1.5
