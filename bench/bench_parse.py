"""Parser throughput on a large generated corpus, against a naive line-by-line regex in the same run.

    .venv/bin/python bench/bench_parse.py --mb 300        # the recorded run (docs/benchmarks.md)
    .venv/bin/python bench/bench_parse.py --mb 20 --repeat 1            # quick check
    .venv/bin/python bench/bench_parse.py --mb 300 --sites 200 --change 0.3   # re-scraped pages
    .venv/bin/python bench/bench_parse.py --dense                        # pages made to be slow

The corpus (seeded, so every run parses the same text) is a sequence of pages. Each page mixes news
prose (some of it quoting prices: "Bitcoin hit $100,000 on Monday"), menus, a CoinGecko-style
widget block like the seed page (slug line + ``Name (SYM) $ price pct%``) and, on some pages, other
supported styles: flattened one-line strips, pipe tables, compact strips, percent-before-price, euro
prices with decimal commas, pairs, and marquee repeats.

By default every page is a new site (its own article, its own quotes), so nothing repeats across pages
but what repeats on real pages anyway (menus, coin names): the parser's caches get no help from the
corpus. ``--sites N --change P`` models re-scraping instead: N sites scraped in turn, each quote
moving with probability P between two scrapes of a site (the article stays). (An earlier version
cycled 400 pre-generated pages; that made every line repeat exactly and would flatter any line cache.)

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
import statistics
import time
from collections import Counter
from collections.abc import Callable

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


Quote = tuple[float, float, float, float, float, bool]  # price, 24h %, 1h %, 7d %, market cap, arrow up


def _quote(rng: random.Random, base: float) -> Quote:
    return (
        _price(rng, base),
        rng.uniform(-9, 9),
        rng.uniform(-2, 2),
        rng.uniform(-20, 20),
        rng.uniform(1, 900),
        rng.random() < 0.5,
    )


def _seed_block(quotes: list[Quote]) -> list[str]:
    out = []
    for (slug, name, sym, _), q in zip(COINS, quotes, strict=True):
        out.append(slug)
        out.append(f"{name} ({sym}) $ {_fmt(q[0])} {abs(q[1]):.2f}%")
    return out


def _other_block(style: int, coins: list[tuple[str, str, str, float]], quotes: list[Quote]) -> list[str]:
    rows = [(n, s, b, q) for (_, n, s, b), q in zip(coins, quotes, strict=True)]
    if style == 0:  # flattened strip, signed percents
        return [" • ".join(f"{n} ({s}) ${_fmt(q[0])} {q[1]:+.2f}%" for n, s, _, q in rows)]
    if style == 1:  # pipe table with 1h/24h/7d columns and market cap
        return [
            "| # | Name | Symbol | Price | 1h % | 24h % | 7d % | Market Cap |",
            "|---|---|---|---|---|---|---|---|",
        ] + [
            f"| {i} | {n} | {s} | ${_fmt(q[0])} | {q[2]:+.1f}% | {q[1]:+.2f}% | {q[3]:+.1f}% | ${q[4]:.1f}B |"
            for i, (n, s, _, q) in enumerate(rows, 1)
        ]
    if style == 2:  # compact strip
        return [
            "".join(f"{s.lower()}${q[0] / 1000:.1f}k{q[1]:+.1f}%" for _, s, b, q in rows if b > 1000)
            + "eth$1.8k-0.7%"
        ]
    if style == 3:  # percent before price, arrows
        return [f"{n} ({s}) {'▲' if q[5] else '▼'} {abs(q[1]):.2f}% ${_fmt(q[0])}" for n, s, _, q in rows]
    if style == 4:  # euro, decimal comma, currency after
        return [
            f"{n} ({s}) {_fmt(q[0]).replace(',', ' ').replace('.', ',').replace(' ', '.')} € {q[1]:+.2f}%"
            for n, s, _, q in rows
        ]
    return [f"{s}/USD {q[0]} {q[1]:+.2f}%" for _, s, _, q in rows]


class Site:
    """One scraped page: its layout and article are fixed, its quotes move between scrapes."""

    def __init__(self, rng: random.Random, other_styles: bool) -> None:
        self.head = [rng.choice(MENUS), *_prose(rng, rng.randint(2, 6))]
        self.marquee = rng.random() < 0.2  # the widget loops its list twice: the repeat is not new ticks
        self.style = rng.randrange(6) if rng.random() < 0.5 and other_styles else None
        self.other_coins = rng.sample(COINS, 8)
        self.tail = [*_prose(rng, rng.randint(1, 4)), rng.choice(MENUS)]
        self.seed_quotes = [_quote(rng, b) for *_, b in COINS]
        self.other_quotes = [_quote(rng, b) for *_, b in self.other_coins]

    def scrape(self, rng: random.Random, change: float) -> str:
        """The page text, after each quote moved with probability ``change`` since the last scrape."""
        for quotes, coins in ((self.seed_quotes, COINS), (self.other_quotes, self.other_coins)):
            for i, (*_, base) in enumerate(coins):
                if rng.random() < change:
                    quotes[i] = _quote(rng, base)
        block = _seed_block(self.seed_quotes)
        lines = self.head + (block + block if self.marquee else block)
        if self.style is not None:
            lines += _other_block(self.style, self.other_coins, self.other_quotes)
        return "\n".join(lines + self.tail) + "\n"


def make_corpus(
    rng: random.Random, target: int, sites: int, change: float, other_styles: bool
) -> tuple[list[str], Counter[str]]:
    """Pages up to ``target`` bytes, and what they hold. ``sites`` = 0: every page is a new site (new
    article, new quotes), so no line repeats across pages except by chance. Otherwise ``sites`` sites
    are scraped in turn and each quote changes with probability ``change`` between two scrapes."""
    pool = [Site(rng, other_styles) for _ in range(sites)]
    pages: list[str] = []
    mix: Counter[str] = Counter()
    size = 0
    while size < target:
        site = pool[len(pages) % sites] if sites else Site(rng, other_styles)
        page = site.scrape(rng, change if sites else 1.0)
        pages.append(page)
        mix["marquee"] += site.marquee
        mix[STYLE_NAMES[site.style] if site.style is not None else "widget only"] += 1
        size += len(page.encode())
    return pages, mix


STYLE_NAMES = ["strip", "table", "compact", "pct-first", "euro", "pair"]


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


def _timed(fn: Callable[[str, int, str], int], pages: list[str]) -> tuple[int, float]:
    gc.collect()
    t0 = time.perf_counter()
    n = 0
    for i, page in enumerate(pages):
        n += fn(page, i, "bench")
    return n, time.perf_counter() - t0


def _ours(page: str, ts: int, source: str) -> int:
    return len(parse_text(page, ts=ts, source=source).ticks)


def _base(page: str, ts: int, source: str) -> int:
    return len(baseline_parse(page, ts, source))


#: Pages made to be slow (docs/reliability.md): one unit repeated up to the line cap, line after line,
#: each line a little different so no cache answers for it; and one line of 1.6 MB without a newline.
DENSE_UNITS = {
    "$1$1$1 (signs, no symbol)": "$1",
    "12$34%5, (digits, $ and %)": "12$34%5,",
    "USD 1 USD 1 (fiat codes)": "USD 1 ",
    "seed row, spaces": "Bitcoin (BTC) $ 67,000.12 1.23% ",
    "seed row, no separator": "Bitcoin (BTC) $ 67,000.12 1.23%",
    "AB $1 AB $1 (a record every 6 chars)": "AB $1 ",
    "((((( (brackets)": "(",
}


def dense_pages(size: int = 1_600_000) -> list[tuple[str, str]]:
    out = []
    for label, unit in DENSE_UNITS.items():
        line = unit * ((8_192 - 16) // len(unit))
        lines = [f"{line}{i % 10}" for i in range(size // (len(line) + 2))]
        out.append((f"{label}, lines", "\n".join(lines) + "\n"))
    seed = DENSE_UNITS["seed row, no separator"]
    out.append(("seed row, one 1.6 MB line", seed * (size // len(seed))))
    return out


def bench_dense(repeat: int) -> None:
    for label, page in dense_pages():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = parse_text(page, ts=0, source="bench")
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        mb = len(page.encode()) / 1e6
        print(
            f"{label:<48} {mb:4.1f} MB {t:7.3f} s {mb / t:7.2f} MB/s   "
            f"ticks {len(result.ticks)}, rejects {len(result.rejects)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=300.0, help="corpus size in MB (default 300)")
    ap.add_argument(
        "--sites", type=int, default=0, help="0 (default): every page new; N: N sites re-scraped in turn"
    )
    ap.add_argument(
        "--change", type=float, default=1.0, help="with --sites: chance a quote moves between scrapes"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side, interleaved (default 3)")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument(
        "--widget-only", action="store_true", help="no other-style blocks (fast path + prose only)"
    )
    ap.add_argument("--dense", action="store_true", help="time the pages made to be slow instead")
    args = ap.parse_args()
    if args.dense:
        print(f"python {platform.python_version()} | {_cpu_model()} | load {os.getloadavg()[0]:.2f}")
        bench_dense(args.repeat)
        return

    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    pages, mix = make_corpus(rng, int(args.mb * 1e6), args.sites, args.change, not args.widget_only)
    size = sum(len(p.encode()) for p in pages)
    info = f"python {platform.python_version()} | {_cpu_model()} | {os.cpu_count()} cpus"
    kind = f"{args.sites} sites re-scraped, change {args.change:g}" if args.sites else "every page new"
    print(
        f"{info} | corpus {size / 1e6:.1f} MB, {len(pages)} pages ({kind}), {time.perf_counter() - t0:.0f} s"
    )
    print("mix: " + ", ".join(f"{k} {v / len(pages):.0%}" for k, v in sorted(mix.items())))
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    runs: dict[str, list[tuple[int, float]]] = {"parse_text": [], "baseline": []}
    for _ in range(args.repeat):  # interleaved, so a burst of load from elsewhere hits both sides
        runs["parse_text"].append(_timed(_ours, pages))
        runs["baseline"].append(_timed(_base, pages))

    mb = size / 1e6
    med: dict[str, float] = {}
    for label, rs in runs.items():
        n = rs[0][0]
        times = sorted(t for _, t in rs)
        med[label] = t = statistics.median(times)
        spread = f"{n / times[-1]:,.0f}-{n / times[0]:,.0f} ticks/s"
        print(
            f"{label:<11}: {n:>10,} ticks, median {t:6.2f} s = {n / t:>9,.0f} ticks/s, {mb / t:5.1f} MB/s"
            f"   (runs {', '.join(f'{x:.2f}' for x in times)} s; {spread})"
        )
    ratio = (runs["parse_text"][0][0] / med["parse_text"]) / (runs["baseline"][0][0] / med["baseline"])
    same_bytes = med["baseline"] / med["parse_text"]
    print(f"ratio      : {ratio:.2f}x ticks/s, {same_bytes:.2f}x time on the same bytes")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
