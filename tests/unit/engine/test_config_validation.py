"""Engine settings that were accepted but make no sense are refused with the key's name (issue #9,
item 7): a NaN or infinite z-score threshold, a negative reference wait, a window capacity whose
up-front allocation cannot fit in memory."""

from __future__ import annotations

import pytest

from tickerstream.config import load_settings
from tickerstream.engine import EngineConfig
from tickerstream.errors import ConfigError


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("moves.zscore_k=nan", "zscore_k"),
        ("moves.zscore_k=1e999", "zscore_k"),
        ("moves.sigma_floor=inf", "sigma_floor"),
        ("moves.threshold_pct=[5.0, nan]", "threshold_pct"),
        ("pegs.ref_max_wait_s=-1", "ref_max_wait_s"),
        ("pegs.ref_max_age_s=-1", "ref_max_age_s"),
        ("pegs.display_quantum=nan", "display_quantum"),
        ("windows.capacity=100000000000", "capacity"),
        ("windows.capacity=5000000", "capacity"),
    ],
)
def test_nonsense_is_refused_with_the_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings(EngineConfig, overrides=[override])


def test_the_largest_capacity_and_zero_waits_are_fine() -> None:
    cfg = load_settings(
        EngineConfig, overrides=["windows.capacity=100000", "pegs.ref_max_wait_s=0", "moves.anchor_slack=0"]
    )
    assert cfg.windows.capacity == 100_000 and cfg.pegs.ref_max_wait_s == 0
