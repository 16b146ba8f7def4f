"""The deterministic core: a batch of ticks in, move and peg events out (event time only)."""

from tickerstream.engine.batch import TickBatch
from tickerstream.engine.config import EngineConfig, MoveConfig, PegConfig, WindowConfig
from tickerstream.engine.engine import Engine
from tickerstream.engine.stats import EngineStats

__all__ = ["Engine", "EngineConfig", "EngineStats", "MoveConfig", "PegConfig", "TickBatch", "WindowConfig"]
