"""The systems the peers harness runs: how to start each one on a topic, and where its events go."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass(frozen=True)
class Run:
    """One run of one system: a fresh consumer group and output topics of its own."""

    system: str
    group: str
    moves: str
    pegs: str
    argv: list[str]
    #: Stops by itself once drained (the bare drain); the others run until SIGTERM, as in production.
    exits: bool = False


@dataclass(frozen=True)
class Systems:
    broker: str
    ticks: str
    #: tickerstream's interpreter (its venv): runs ticker-process and the bare drain.
    our_python: str
    tuned: list[str] = field(default_factory=list)  # --set KEY=V of "ticker-process (tuned)"

    def names(self) -> list[str]:
        return ["ticker-process", *(["ticker-process tuned"] if self.tuned else []), "quix", "bare"]

    def run(self, system: str, tag: str) -> Run:
        group = f"peers.{tag}.{system.replace(' ', '-')}"
        moves, pegs = f"{group}.moves", f"{group}.pegs"
        if system.startswith("ticker-process"):
            sets = {
                "kafka.topics.ticks": self.ticks,
                "kafka.topics.moves": moves,
                "kafka.topics.pegs": pegs,
                "kafka.topics.quality": f"{group}.quality",
                "kafka.topics.rejects": f"{group}.rejects",
                "kafka.topics.refprices": f"{group}.refprices",
            }
            argv = [self.our_python, "-m", "tickerstream.cli.process", "--bootstrap-servers", self.broker]
            # Default settings, metrics included (on a free port: several may run on one machine).
            argv += ["--group", group, "--metrics-port", "0"]
            for k, v in sets.items():
                argv += ["--set", f"{k}={v}"]
            if system.endswith("tuned"):
                for kv in self.tuned:
                    argv += ["--set", kv]
            return Run(system, group, moves, pegs, argv)
        if system == "quix":
            argv = [sys.executable, str(HERE / "quix_job.py"), "--broker", self.broker, "--group", group]
            argv += ["--ticks", self.ticks, "--moves", moves, "--pegs", pegs]
            return Run(system, group, moves, pegs, argv)
        if system == "bare":
            argv = [self.our_python, str(HERE / "bare_drain.py"), "--broker", self.broker]
            argv += ["--group", group, "--topic", self.ticks]
            return Run(system, group, moves, pegs, argv, exits=True)
        raise ValueError(f"unknown system {system!r}")
