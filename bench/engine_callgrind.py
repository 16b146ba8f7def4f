"""Engine work per tick in instructions, for comparisons that a busy machine cannot blur.

Runs ``bench_engine.py``'s stream (1,000 symbols, 500,000 ticks, batches of 100,000) through the
engine of the tree on ``PYTHONPATH``, with the stream generator of ``--tree`` (default: this one).
``warm`` processes only the first batch (it registers every symbol); ``all`` processes every batch.
Under callgrind, ``Ir(all) - Ir(warm)`` is the steady state of 400,000 ticks: the same imports,
stream and warm-up cancel out.

    for m in warm all; do PYTHONPATH=src valgrind --tool=callgrind \\
        --callgrind-out-file=cg.$m.out python bench/engine_callgrind.py $m; done
    # the previous engine: a checkout of main in /tmp/base
    for m in warm all; do PYTHONPATH=/tmp/base/src valgrind --tool=callgrind \\
        --callgrind-out-file=cg.base.$m.out python bench/engine_callgrind.py --tree /tmp/base $m; done

Instruction counts ignore cache misses and branch mispredictions, so they complement the wall-clock
figures of ``bench_engine.py`` (alternated runs), they do not replace them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["warm", "all"])
    ap.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--symbols", type=int, default=1000)
    ap.add_argument("--ticks", type=int, default=500_000)
    ap.add_argument("--batch", type=int, default=100_000)
    a = ap.parse_args()
    sys.path.insert(0, str(Path(a.tree) / "bench"))
    import bench_engine
    from tickerstream.engine import Engine

    stream = bench_engine.make_stream(a.symbols, a.ticks)
    engine = Engine()
    engine.process(stream.slice(0, a.batch))
    if a.mode == "all":
        for lo in range(a.batch, len(stream), a.batch):
            engine.process(stream.slice(lo, lo + a.batch))


if __name__ == "__main__":
    main()
