"""Where a profiled run's CPU went: a py-spy ``--format raw`` file (collapsed stacks) as percentages.

Prints the top functions by *self* time (the leaf frame: where the CPU was) and by *inclusive*
time (anywhere on the stack), both as a share of all on-CPU samples, and the share of named stages
(``--stage NAME=SUBSTRING``: a sample counts for the first stage whose substring is on its stack).

    .venv/bin/python bench/peers/profile_summary.py bench/out/tp-profile.txt --top 25
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")

#: Pipeline stages of ticker-process, outermost first-match order (most specific first).
DEFAULT_STAGES = (
    "records (aiokafka building ConsumerRecords)=aiokafka/consumer/fetcher.py",
    "decode (kafka/codec.py)=tickerstream/kafka/codec.py",
    "pending buffer and cut (processor/pending.py)=tickerstream/processor/pending.py",
    "reference gate (processor/gate.py)=tickerstream/processor/gate.py",
    "engine=tickerstream/engine/",
    "events and sends (kafka/outputs.py, events.py)=tickerstream/kafka/outputs.py",
    "commits and checkpoints=tickerstream/processor/commit.py",
    "aiokafka other (network, protocol, producer)=aiokafka/",
    "asyncio event loop=asyncio/",
    "start-up (imports)=importlib",
)
#: Stacks left out: the metrics server's thread waiting in poll(), which py-spy samples as active
#: although it is idle (about 10 % of the samples otherwise).
DEFAULT_DROP = ("BaseServer.serve_forever",)


def frame_name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    return f"{m['func']} ({m['file']})" if m else frame.strip()


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", type=Path)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--stage", action="append", default=[], metavar="NAME=SUBSTRING")
    ap.add_argument("--drop", action="append", default=list(DEFAULT_DROP), metavar="SUBSTRING")
    args = ap.parse_args()
    everything = load(args.raw)
    stacks = [(f, n) for f, n in everything if not any(d in ";".join(f) for d in args.drop)]
    total = sum(n for _, n in stacks)
    dropped = sum(n for _, n in everything) - total
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    rules = [s.rsplit("=", 1) for s in (args.stage or DEFAULT_STAGES)]
    for frames, n in stacks:
        own[frame_name(frames[-1])] += n
        for name in {frame_name(f) for f in frames}:
            incl[name] += n
        joined = ";".join(frames)
        stage = next((name for name, sub in rules if sub in joined), "other")
        stages[stage] += n
    print(f"{total:,} samples ({dropped:,} idle ones of {', '.join(args.drop)} left out)")
    print("\nstages (first match, most specific first):")
    for name, n in stages.most_common():
        print(f"  {100 * n / total:5.1f} %  {name}")
    print(f"\ntop {args.top} by self time:")
    for name, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {name}")
    print(f"\ntop {args.top} by inclusive time:")
    for name, n in incl.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
