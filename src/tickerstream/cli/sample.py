"""``ticker-sample``: write seeded, realistic sample data (page text or JSON Lines of ticks)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tickerstream.cli.common import CliParser, run_cli
from tickerstream.errors import UsageError
from tickerstream.sources.sample import SampleSpec, write_jsonl, write_pages


def build_parser() -> argparse.ArgumentParser:
    defaults = SampleSpec()
    parser = CliParser(
        prog="ticker-sample",
        description=(
            "Generate realistic ticker data: correlated random walks at irregular snapshot times, "
            "stablecoins near $1, wrapped assets tracking their reference, a market crash and a "
            "USDC-style depeg to ~0.88 and back. The same --seed gives the same bytes."
        ),
    )
    parser.add_argument("out", help="output: a directory (--format page) or a .jsonl file (--format jsonl)")
    parser.add_argument(
        "--format",
        choices=["page", "jsonl"],
        default="page",
        help="page: one widget page per snapshot, file named by its ISO time; "
        "jsonl: ticks as JSON Lines (default page)",
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help=f"random seed (default {defaults.seed})"
    )
    parser.add_argument(
        "--start", default=defaults.start, help=f"first snapshot time, ISO 8601 (default {defaults.start})"
    )
    parser.add_argument(
        "--days",
        type=float,
        default=defaults.days,
        help=f"length of the run in days (default {defaults.days:g})",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=defaults.interval_s,
        help=f"mean seconds between snapshots (default {defaults.interval_s:g})",
    )
    parser.add_argument(
        "--extra-symbols",
        type=int,
        default=0,
        help="add N synthetic coins (SYN00000...) for large benchmarks (default 0)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = build_parser().parse_args(argv)
        if args.days <= 0 or args.interval <= 0 or args.extra_symbols < 0:
            raise UsageError("--days and --interval must be > 0 and --extra-symbols >= 0")
        spec = SampleSpec(
            seed=args.seed,
            start=args.start,
            days=args.days,
            interval_s=args.interval,
            extra_symbols=args.extra_symbols,
        )
        try:
            out = Path(args.out)
            if args.format == "page":
                n = write_pages(spec, out)
                print(f"ticker-sample: wrote {n} page(s) to {out}", file=sys.stderr)
            else:
                n = write_jsonl(spec, out)
                print(f"ticker-sample: wrote {n} tick(s) to {out}", file=sys.stderr)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
        return 0

    return run_cli("ticker-sample", body)


if __name__ == "__main__":
    raise SystemExit(main())
