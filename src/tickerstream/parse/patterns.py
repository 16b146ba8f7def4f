"""Compiled regular expressions of the general path: prices with a currency, percents, identifiers.

The general path is anchored on *prices*: every ticker record has exactly one number marked as money
(a currency sign or code next to it, or a ``SYM/USD`` pair before it). Finding those anchors is cheap and
independent of how the rest of the widget is laid out; the identifier is then read backwards from the
anchor and the percent forwards (or backwards, for percent-before-price widgets).
"""

from __future__ import annotations

import re

from tickerstream.parse.vocab import FIAT_CODES

ARROWS = "▲▼△▽↑↓⬆⬇🔺🔻"
UP_ARROWS = frozenset("▲△↑⬆🔺")
SIGN_CHARS = frozenset("$€£¥₩₹₽₺₴₦₱₫")

_CUR_SIGN = r"(?:(?<![A-Za-z])(?:US|HK|NZ|CA|AU|[CARS])\$|\$|€|£|¥|₩|₹|₽|₺|₴|₦|₱|₫)"
_CUR_CODE = r"(?<![A-Za-z])(?:" + "|".join(sorted(FIAT_CODES)) + r")(?![A-Za-z])"
CURRENCY = rf"(?:{_CUR_SIGN}|{_CUR_CODE})"
#: Digits of a price: subscript-zero form, grouped thousands, plain, or a bare fraction (``.5``).
NUMBER = (
    r"(?:0[.,]0[₀-₉]{1,2}\d{1,15}"
    r"|\d{1,3}(?:[,.\u00a0\u202f'’]\d{3})+(?:[.,]\d{1,15})?"
    r"|\d{1,15}(?:[.,]\d{1,15})?"
    r"|[.,]\d{1,15})(?![\d₀-₉]|[.,]\d)"
)
SUFFIX = r"(?:[kKmMbBtT](?![A-Za-z]))?"
#: What widgets print instead of a price when they have none (or digits no grouping rule explains);
#: with an identifier it is an invalid price.
_BAD = r"(?:NaN|nan|NAN|[Ii]nf(?:inity)?|INF|∞|N/A|n/a|—|–|-{1,2}|\d[\d.,]*\d)(?![A-Za-z0-9])"


def pct_body(tag: str) -> str:
    """A percent with its optional arrow and sign; group names get ``tag`` so several can coexist."""
    return (
        rf"(?:[(\[]\s?)?(?P<{tag}a>[{ARROWS}])?\s?(?P<{tag}s>[+\-−–])?\s?"
        rf"(?P<{tag}n>\d{{1,6}}(?:[.,]\d{{1,6}})?|[.,]\d{{1,6}})\s?%(?:\s?[)\]])?(?:\s?(?P<{tag}b>[{ARROWS}]))?"
    )


#: Currency markers: a sign, or three capitals the caller checks against the fiat codes. Written as
#: one leading character class so the regex engine's fast skip applies (~300 MB/s over prose); an
#: alternation of signs and codes scans ten times slower.
MARK = re.compile(r"[$€£¥₩₹₽₺₴₦₱₫A-Z](?:(?<=[A-Z])[A-Z][A-Z]|(?<![A-Z]))")
#: What makes a line worth looking at: a sign, or a window of three capitals that is a fiat code
#: (``XUSD`` included, as when ``MARK``'s matches were stepped through one position at a time).
#: Same leading class as ``MARK``; the fixed-width look-behind checks the code without leaving C, so
#: symbols (``WBTC``: ``WBT``, ``BTC``) no longer cost a Python round each. The scanner finds these
#: matches with ``hits.hit_finder`` (``bytes.find``); this is their definition and its fallback.
HIT = re.compile(
    r"[$€£¥₩₹₽₺₴₦₱₫A-Z](?:(?<=[A-Z])[A-Z][A-Z](?<=" + "|".join(sorted(FIAT_CODES)) + r")|(?<![A-Z]))"
)
#: Letters that extend a ``$`` sign to another dollar (``US$``, ``C$``, ``HK$``), longest first.
DOLLAR_PREFIXES = ("US", "HK", "NZ", "CA", "AU", "C", "A", "R", "S")

_NUM_GROUPS = rf"(?:(?P<n>{NUMBER})(?P<s>{SUFFIX})|(?P<bad>{_BAD}))"
#: The number after a prefix currency (``$ 1,234.5``, ``€-3``, ``$ NaN``).
AFTER_CUR = re.compile(rf"[ \t]?(?P<neg>[-−–][ \t]?)?{_NUM_GROUPS}")
#: The number after a ``SYM/USD`` pair (``BTC/USD: $62,700``).
AFTER_PAIR = re.compile(rf"[ \t:=]*(?:{_CUR_SIGN}[ \t]?)?(?P<neg>[-−][ \t]?)?{_NUM_GROUPS}")
#: The base of a pair, ending right before its quote code.
PAIR_BASE = re.compile(r"(?<![A-Za-z0-9])(?P<b>[A-Za-z0-9]{1,10})[ \t]?[/\-][ \t]?\Z")
#: A number ending right before a suffix currency (``101868.45$``, ``1.234,56 €``).
NUM_BEFORE = re.compile(
    rf"(?<![\d.,'’\u00a0\u202f])(?:(?<![^\s|(:])(?P<neg>[-−])[ \t]?)?(?P<n>{NUMBER})(?P<s>{SUFFIX})[ \t]?\Z"
)

#: The identifier before a price, matched on the *reversed* text before the anchor so the match starts
#: at the anchor and stops at the identifier: ``Name (SYM)``, ``Name SYM``, ``(SYM):``, ``SYM +1.2%``.
#: (A forward search ending in ``\Z`` would try every position of the line.) Groups come out reversed.
IDENT_REV = re.compile(
    rf"""
    (?:[ \t|]*
       (?:(?P<qb>[{ARROWS}])\s?)?(?:[)\]]\s?)?%\s?(?P<qn>\d{{1,6}}(?:[.,]\d{{1,6}})?|\d{{1,6}}[.,])
       \s?(?P<qs>[+\-−–])?\s?(?P<qa>[{ARROWS}])?(?:\s?[(\[])?
    )?
    (?P<sep>(?:[ \t:=|]|(?<![\d.,])(?<![\d.,]\s)[\-–—])*)
    (?: \)\s?(?P<ps>[A-Za-z0-9.\-]{{0,15}}[A-Za-z0-9])\s?\(
      | (?P<bs>[A-Za-z0-9]{{1,12}})(?![A-Za-z0-9.\-'’&]) )
    """,
    re.X,
)

#: A percent right after the price (``$ 1.00 0.01%``, ``$62.7k-0.9%``, ``| +1.2% |``, ``(▲ 1.2%)``).
PCT_AFTER = re.compile(r"[ \t|]*" + pct_body("r"))

#: Text allowed around records on a ticker line: separators, rank numbers, other columns (market cap,
#: volume, 1h/7d percents) and their labels. Anything else on the line means it is prose, not a widget.
_FILL_TOKEN = rf"""(?:[\s|•·∙*#>,;/:–—\-_=~]+
    | \#?\d{{1,4}}\.?(?![\w.,%])
    | {CURRENCY}\s?{NUMBER}{SUFFIX}
    | {NUMBER}{SUFFIX}\s?{CURRENCY}
    | [{ARROWS}]
    | [+\-−]?\s?\d{{1,6}}(?:[.,]\d{{1,6}})?\s?%
    | \(?(?:24\s?[hH]|1[hH]|7[dD])\)?(?![A-Za-z])
    | (?i:(?:24h\s?)?vol(?:ume)?|m(?:kt|arket)?\.?\s?cap)(?![A-Za-z])
    )"""
FILLER = re.compile(rf"(?:{_FILL_TOKEN})*", re.X)

#: Marks of sentences rather than names: terminal punctuation, quotes, money, links.
PROSE_MARK = re.compile(r"[!?;\"“”…$€£¥%@]|[.,:](?:\s|$)|https?:|www\.")
#: The same, less a full stop or comma before a blank: for names a seed-widget row vouches for, which
#: may abbreviate (``Sonic (prev. FTM)``, ``Coritiba F.C. Fan Token``).
PROSE_MARK_IN_ROW = re.compile(r"[!?;\"“”…$€£¥%@]|:(?:\s|$)|https?:|www\.")

#: The seed widget's row exactly as it prints it (``Name (SYM) $ price pct%``): one space around
#: ``(SYM)`` and ``$``, unsigned percent, nothing after. The name may hold parentheses
#: (``POL (ex-MATIC)``) but not a ``(..) $`` of its own. Groups: name, symbol, price, percent.
ROW_NAME = r"[A-Za-z][^\n(]*(?:\([^\n()]*\)(?! \$)[^\n(]*)*"
ROW_PRICE = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,12})?|\d{1,12}(?:\.\d{1,12})?"
ROW_PCT = r"\d{1,4}(?:\.\d{1,4})?"
ROW = rf"({ROW_NAME}) \(([A-Za-z0-9]{{1,15}})\) \$ ({ROW_PRICE}) ({ROW_PCT})%"
SEED_ROW = re.compile(ROW)

#: A coin-id slug line as CoinGecko widgets print it above the ticker (``usd-coin``, ``avalanche-2``).
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: Digits in a table header only as labels (``24h``, ``7d %``): anything else means a data row.
HEADER_DIGIT = re.compile(r"\d(?![\dhHdDwWmMyY%])")

#: Hints at the page's decimal separator, read only when a price like ``1,234`` needs them.
DECIMAL_COMMA_HINT = re.compile(r"\d,\d{1,2}(?!\d)\s?%|\d\.\d{3},\d|\d,\d+\s?(?:€|EUR)|[€£]\s?\d+,\d\d(?!\d)")
DECIMAL_DOT_HINT = re.compile(r"\d\.\d{1,2}(?!\d)\s?%|\d,\d{3}\.\d")
