"""Parser throughput on a large generated corpus, against a naive line-by-line regex in the same run.

    .venv/bin/python bench/bench_parse.py --mb 300        # the recorded run (docs/benchmarks.md)
    .venv/bin/python bench/bench_parse.py --mb 20         # quick check

The corpus (seeded, so every run parses the same text) is a sequence of pages. Each page mixes news
prose (some of it quoting prices: "Bitcoin hit $100,000 on Monday"), menus, a CoinGecko-style
widget block like the seed page (slug line + ``Name (SYM) $ price pct%``) and, on some pages, other
supported styles: flattened one-line strips, pipe tables, compact strips, percent-before-price, euro
prices with decimal commas, pairs, and marquee repeats. A pool of distinct pages is generated and
cycled to reach the requested size (generation would otherwise dominate the run).

The baseline is what a first version would do: ``for line in page.splitlines(): regex.search(line)``
with one regex for the seed format, building a ``Tick`` per match. It understands fewer styles, so
besides ticks/s (each side's own count) we print MB/s and the time ratio over the same bytes.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import time

from tickerstream.model import Tick
from tickerstream.parse import parse_text

COINS = [
    ("bitcoin", "Bitcoin", "BTC", 104442.98),
    ("ethereum", "Ethereum", "ETH", 3259.53),
    ("tether", "Tether", "USDT", 1.0),
    ("solana", "Solana", "SOL", 237.31),
    ("usd-coin", "USDC", "USDC", 1.0),
    ("dogecoin", "Dogecoin", "DOGE", 0.329218),
    ("staked-ether", "Lido Staked Ether", "STETH", 3256.68),
    ("avalanche-2", "Avalanche", "AVAX", 35.02),
    ("wrapped-bitcoin", "Wrapped Bitcoin", "WBTC", 104314.95),
    ("the-open-network", "Toncoin", "TON", 4.84),
    ("shiba-inu", "Shiba Inu", "SHIB", 0.000019),
    ("ethena-usde", "Ethena USDe", "USDe", 1.0),
    ("polygon-ecosystem-token", "POL (ex-MATIC)", "POL", 0.4135),
    ("crypto-com-chain", "Cronos", "CRO", 0.130743),
    ("mantra-dao", "MANTRA", "OM", 5.61),
    ("usdt0", "USDT0", "USDT0", 1.0),
    ("dai", "Dai", "DAI", 1.0),
    ("kaspa", "Kaspa", "KAS", 0.131722),
    ("near", "NEAR Protocol", "NEAR", 4.68),
    ("whitebit", "WhiteBIT Coin", "WBT", 28.49),
]
_SYL = ["zor", "ka", "lum", "vex", "tra", "no", "bi", "qu", "sol", "mer", "da", "fi", "ro", "xen", "pa"]
_RNG0 = random.Random(7)
for _ in range(30):  # synthetic coins so the widget has the seed's ~50 rows
    _n = "".join(_RNG0.sample(_SYL, 2)).capitalize()
    _sym = _n[:4].upper()
    COINS.append((_n.lower() + "-token", f"{_n} Token", _sym, round(10 ** _RNG0.uniform(-5, 4), 6)))

WORDS = tuple(
    " ".join(
        [
            "the market analysts said on monday that prices would remain volatile while regulators weigh new",
            "rules for exchanges and investors watch inflation data central banks bonds equities rally slump",
            "week report according to people familiar with the matter trading desk fund flows demand supply",
        ]
    ).split(" ")
)
MENUS = ["Home | Markets | News | Opinion | Video", "Back to top button", "Related Articles", "Source link"]
PRICE_PROSE = [
    "Bitcoin hit ${p:,.0f} on Monday, its highest level in weeks.",
    "Market Cap: ${cap:.1f}T",
    "24h Vol ${vol:.0f}B",
    "S&P 500 5,{i:03d}.45 +0.5%",
    "The fund raised $1{i} million from investors last year.",
]


def _price(rng: random.Random, base: float) -> float:
    return round(base * rng.uniform(0.9, 1.1), 6 if base < 1 else 2)


def _fmt(p: float) -> str:
    return f"{p:,.2f}" if p >= 1 else f"{p:.6f}"


def _prose(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words = rng.choices(WORDS, k=rng.randint(25, 70))
        out.append(" ".join(words).capitalize() + ".")
        if rng.random() < 0.15:
            out.append(
                rng.choice(PRICE_PROSE).format(
                    p=rng.uniform(9e4, 1.1e5),
                    cap=rng.uniform(1, 4),
                    vol=rng.uniform(20, 90),
                    i=rng.randint(0, 999),
                )
            )
        out.append("")
    return out


def _seed_block(rng: random.Random) -> list[str]:
    out = []
    for slug, name, sym, base in COINS:
        out.append(slug)
        out.append(f"{name} ({sym}) $ {_fmt(_price(rng, base))} {rng.uniform(0, 9):.2f}%")
    return out


def _other_block(rng: random.Random) -> list[str]:
    coins = rng.sample(COINS, 8)
    style = rng.randrange(6)
    if style == 0:  # flattened strip, signed percents
        return [
            " • ".join(
                f"{n} ({s}) ${_fmt(_price(rng, b))} {rng.uniform(-9, 9):+.2f}%" for _, n, s, b in coins
            )
        ]
    if style == 1:  # pipe table with 1h/24h/7d columns and market cap
        rows = [
            "| # | Name | Symbol | Price | 1h % | 24h % | 7d % | Market Cap |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for i, (_, n, s, b) in enumerate(coins, 1):
            rows.append(
                f"| {i} | {n} | {s} | ${_fmt(_price(rng, b))} | {rng.uniform(-2, 2):+.1f}% | "
                f"{rng.uniform(-9, 9):+.2f}% | {rng.uniform(-20, 20):+.1f}% | ${rng.uniform(1, 900):.1f}B |"
            )
        return rows
    if style == 2:  # compact strip
        return [
            "".join(
                f"{s.lower()}${_price(rng, b) / 1000:.1f}k{rng.uniform(-9, 9):+.1f}%"
                for _, _, s, b in coins
                if b > 1000
            )
            + "eth$1.8k-0.7%"
        ]
    if style == 3:  # percent before price, arrows
        return [
            f"{n} ({s}) {'▲' if rng.random() < 0.5 else '▼'} {rng.uniform(0, 9):.2f}% ${_fmt(_price(rng, b))}"
            for _, n, s, b in coins
        ]
    if style == 4:  # euro, decimal comma, currency after
        return [
            f"{n} ({s}) {_fmt(_price(rng, b)).replace(',', ' ').replace('.', ',').replace(' ', '.')} € "
            f"{rng.uniform(-9, 9):+.2f}%".replace(".", ",", 0)
            for _, n, s, b in coins
        ]
    return [f"{s}/USD {_price(rng, b)} {rng.uniform(-9, 9):+.2f}%" for _, _, s, b in coins]


def make_page(rng: random.Random, other_styles: bool = True) -> str:
    lines: list[str] = [rng.choice(MENUS)]
    lines += _prose(rng, rng.randint(2, 6))
    block = _seed_block(rng)
    if rng.random() < 0.2:
        block = block + block  # marquee loop: the repeat is not new ticks
    lines += block
    if rng.random() < 0.5 and other_styles:
        lines += _other_block(rng)
    lines += _prose(rng, rng.randint(1, 4))
    lines.append(rng.choice(MENUS))
    return "\n".join(lines) + "\n"


BASELINE = re.compile(r"^(.+?) \((\w+)\) \$ ([\d,.]+) ([\d.]+)%$")


def baseline_parse(page: str, ts: int, source: str) -> list[Tick]:
    """The naive way: split lines, one regex per line, a Tick per match (no slugs, dedupe, or styles)."""
    ticks = []
    for line in page.splitlines():
        m = BASELINE.search(line)
        if m:
            name, sym, price, pct = m.groups()
            ticks.append(
                Tick(
                    sym.upper(),
                    name,
                    None,
                    float(price.replace(",", "")),
                    "USD",
                    float(pct),
                    False,
                    ts,
                    source,
                )
            )
    return ticks


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=300.0, help="corpus size in MB (default 300)")
    ap.add_argument("--pool", type=int, default=400, help="distinct generated pages (default 400)")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument(
        "--widget-only", action="store_true", help="no other-style blocks (fast path + prose only)"
    )
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pool = [make_page(rng, other_styles=not args.widget_only) for _ in range(args.pool)]
    target = int(args.mb * 1e6)
    pages: list[str] = []
    size = 0
    while size < target:
        page = pool[len(pages) % len(pool)]
        pages.append(page)
        size += len(page.encode())
    info = f"python {platform.python_version()} | {_cpu_model()} | {os.cpu_count()} cpus"
    print(f"{info} | corpus {size / 1e6:.1f} MB, {len(pages)} pages")

    gc.collect()
    t0 = time.perf_counter()
    ours = 0
    for i, page in enumerate(pages):
        ours += len(parse_text(page, ts=i, source="bench").ticks)
    t_ours = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    base = 0
    for i, page in enumerate(pages):
        base += len(baseline_parse(page, i, "bench"))
    t_base = time.perf_counter() - t0

    mb = size / 1e6
    for label, n, t in (("parse_text", ours, t_ours), ("baseline", base, t_base)):
        print(f"{label:<11}: {n:>10,} ticks in {t:7.2f} s = {n / t:>10,.0f} ticks/s, {mb / t:6.1f} MB/s")
    ratio = (ours / t_ours) / (base / t_base)
    print(f"ratio      : {ratio:.2f}x ticks/s, {t_base / t_ours:.2f}x time on the same bytes")


if __name__ == "__main__":
    main()
