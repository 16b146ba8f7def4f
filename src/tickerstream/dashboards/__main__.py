"""Regenerate (or ``--check``) the committed Grafana dashboards.

python -m tickerstream.dashboards                 # write deploy/grafana/dashboards/*.json
python -m tickerstream.dashboards --check         # exit 1 if a committed file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tickerstream.dashboards import DASHBOARDS, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tickerstream.dashboards", description="Regenerate the Grafana dashboards."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("deploy/grafana/dashboards"),
        help="directory of the dashboard JSON files (default: deploy/grafana/dashboards)",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare instead of writing; exit 1 on a difference"
    )
    args = parser.parse_args(argv)
    if not args.out.is_dir():
        parser.error(f"{args.out} is not a directory (run from the repository root or pass --out)")
    stale = []
    for name in DASHBOARDS:
        path = args.out / f"{name}.json"
        text = render(name)
        current = path.read_text("utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if stale:
        print(f"out of date (run python -m tickerstream.dashboards): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
