"""Parser work in instructions, for comparisons that a busy machine cannot blur.

Generates ``bench_parse.py``'s corpus (seeded; every page a new site) and parses it with the parser of
the tree on ``PYTHONPATH``. ``warm`` parses only the first ``--warm`` pages (imports, regex compiles,
first-use tables); ``all`` parses every page. Under callgrind, ``Ir(all) - Ir(warm)`` is the parse of
the rest: the same imports, corpus generation and warm-up cancel out.

    for m in warm all; do PYTHONPATH=src valgrind --tool=callgrind \\
        --callgrind-out-file=cg.parse.$m.out python bench/parse_callgrind.py $m; done
    # the previous parser: an export of main in /tmp/base
    for m in warm all; do PYTHONPATH=/tmp/base/src valgrind --tool=callgrind \\
        --callgrind-out-file=cg.parse.base.$m.out python bench/parse_callgrind.py $m; done
    callgrind_annotate cg.parse.all.out | head -20    # "PROGRAM TOTALS" is Ir

The corpus generator is this tree's (``bench/``) on both sides, so both parse the same text.
Instruction counts ignore cache misses and branch mispredictions, so they complement the wall-clock
figures of ``bench_parse.py`` (alternated runs), they do not replace them.
"""

from __future__ import annotations

import argparse
import random

from bench_parse import make_corpus
from tickerstream.parse import parse_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["warm", "all"])
    ap.add_argument("--mb", type=float, default=4.0, help="corpus size in MB (default 4)")
    ap.add_argument("--warm", type=int, default=100, help="pages parsed in both modes (default 100)")
    ap.add_argument("--seed", type=int, default=20240501)
    a = ap.parse_args()
    pages, _ = make_corpus(random.Random(a.seed), int(a.mb * 1e6), 0, 1.0, True)
    todo = pages[: a.warm] if a.mode == "warm" else pages
    ticks = sum(len(parse_text(page, ts=i, source="bench").ticks) for i, page in enumerate(todo))
    print(f"{a.mode}: {len(todo)} of {len(pages)} pages, {ticks} ticks")


if __name__ == "__main__":
    main()
