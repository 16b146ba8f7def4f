"""The backtest: recorded ticks (files, directories, a topic's time range) through the same engine.

``inputs`` reads recordings into event-time-ordered batches, ``runner`` drives the engine over them
(optionally paced), ``summary`` keeps what a person reads afterwards, ``report`` writes the HTML report.
"""

from tickerstream.replay.inputs import ReadStats, open_recorded
from tickerstream.replay.runner import ReplayObserver, paced, run_replay
from tickerstream.replay.summary import PegEpisode, ReplaySummary

__all__ = [
    "PegEpisode",
    "ReadStats",
    "ReplayObserver",
    "ReplaySummary",
    "open_recorded",
    "paced",
    "run_replay",
]
