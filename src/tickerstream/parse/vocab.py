"""The words the parser knows: currency signs and codes, tokens that are never coin symbols, coin ids.

Plain data, no logic, so a reviewer can see at a glance what the parser trusts.
"""

from __future__ import annotations

#: Currency signs as written on pages -> ISO 4217 code. ``¥`` is read as JPY (CNY pages mostly write CNY).
SIGN_TO_ISO: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₩": "KRW",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₴": "UAH",
    "₦": "NGN",
    "₱": "PHP",
    "₫": "VND",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "R$": "BRL",
    "HK$": "HKD",
    "S$": "SGD",
    "NZ$": "NZD",
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Quote currencies accepted as codes (``62,700 USD``, ``EUR 1.234,56``, ``BTC/EUR``).
FIAT_CODES: frozenset[str] = _words(
    "USD EUR GBP JPY CHF CAD AUD NZD KRW INR RUB BRL CNY HKD SGD TRY UAH NGN PHP VND IDR MXN ZAR SEK NOK "
    "DKK PLN CZK HUF THB ARS CLP COP AED SAR ILS TWD MYR PKR"
)

#: Rough units of each currency per US dollar, only to scale the plausible price cap.
_UNITS_PER_USD: dict[str, float] = {
    "JPY": 200,
    "KRW": 2000,
    "INR": 100,
    "RUB": 150,
    "IDR": 20000,
    "VND": 30000,
    "NGN": 2000,
    "HUF": 500,
    "ARS": 2000,
    "CLP": 1200,
    "COP": 5000,
    "PKR": 400,
    "PHP": 70,
    "THB": 40,
    "TWD": 40,
    "UAH": 50,
    "CZK": 30,
    "MXN": 25,
    "ZAR": 25,
    "TRY": 50,
    "SEK": 15,
    "NOK": 15,
    "DKK": 10,
    "CNY": 10,
    "HKD": 10,
}

#: Largest plausible price of a crypto asset in US dollars (BTC is ~1e5); anything above is a misread.
MAX_PRICE_USD = 1e7
#: Smallest plausible price (a 0.0₁₂… meme coin is ~1e-13).
MIN_PRICE = 1e-15


def max_price(currency: str) -> float:
    return MAX_PRICE_USD * _UNITS_PER_USD.get(currency, 5.0 if currency != "USD" else 1.0)


#: Upper-case tokens that look like symbols but are metrics, labels, indices, fiat or metals. A line
#: ``MCAP $2.1T`` or ``SPX $5,123`` is not a coin price (a false tick can raise a false depeg alarm).
NOT_SYMBOLS: frozenset[str] = FIAT_CODES | _words(
    # metrics and labels
    "MCAP CAP VOL VOLUME TVL FDV ATH ATL TOTAL PRICE PRICES HIGH LOW OPEN CLOSE AVG MAX MIN TOP ETF ETFS "
    "GDP CPI PPI FED FOMC SEC NEWS USA US UK EU AM PM ET UTC GMT CEO IPO API FAQ NFT NFTS DEFI DEX CEX "
    "BUY SELL HOLD LONG SHORT PER NOW NEW FREE UP DOWN TODAY SUPPLY DOMINANCE CHANGE CHG 24H 1H 7D "
    # stock indices, commodities
    "SPX SPY QQQ DJI DJIA DOW NDX NASDAQ IXIC FTSE DAX CAC NIKKEI N225 HSI VIX RUT TSX ASX SENSEX "
    "NIFTY STOXX IBEX KOSPI SSE CSI XAU XAG XPT XPD GOLD SILVER OIL WTI BRENT NATGAS"
)

#: Words in a name that mark a figure that is not a coin price (``Total Market Cap (MCAP) $2.1T``).
NOT_NAME_WORDS: frozenset[str] = _words(
    "market cap capitalization volume vol dominance index s&p dow nasdaq ftse nikkei dax supply "
    "tvl fdv gas fee fees"
)

#: Well-known CoinGecko ids -> symbol. Used only to refuse a slug that clearly names another coin
#: (``bitcoin`` above an Ethereum line); unknown slugs that precede a ticker line are attached.
KNOWN_COIN_IDS: dict[str, str] = {
    "bitcoin": "BTC",
    "ethereum": "ETH",
    "tether": "USDT",
    "ripple": "XRP",
    "xrp": "XRP",
    "binancecoin": "BNB",
    "bnb": "BNB",
    "solana": "SOL",
    "usd-coin": "USDC",
    "dogecoin": "DOGE",
    "cardano": "ADA",
    "tron": "TRX",
    "staked-ether": "STETH",
    "chainlink": "LINK",
    "avalanche-2": "AVAX",
    "wrapped-bitcoin": "WBTC",
    "wrapped-steth": "WSTETH",
    "stellar": "XLM",
    "sui": "SUI",
    "the-open-network": "TON",
    "hedera-hashgraph": "HBAR",
    "shiba-inu": "SHIB",
    "litecoin": "LTC",
    "weth": "WETH",
    "polkadot": "DOT",
    "leo-token": "LEO",
    "hyperliquid": "HYPE",
    "bitcoin-cash": "BCH",
    "bitget-token": "BGB",
    "uniswap": "UNI",
    "usds": "USDS",
    "wrapped-eeth": "WEETH",
    "ethena-usde": "USDE",
    "near": "NEAR",
    "pepe": "PEPE",
    "mantra-dao": "OM",
    "official-trump": "TRUMP",
    "ondo-finance": "ONDO",
    "aave": "AAVE",
    "aptos": "APT",
    "internet-computer": "ICP",
    "monero": "XMR",
    "whitebit": "WBT",
    "mantle": "MNT",
    "ethereum-classic": "ETC",
    "bittensor": "TAO",
    "vechain": "VET",
    "crypto-com-chain": "CRO",
    "polygon-ecosystem-token": "POL",
    "dai": "DAI",
    "kaspa": "KAS",
    "okb": "OKB",
    "first-digital-usd": "FDUSD",
    "paypal-usd": "PYUSD",
    "true-usd": "TUSD",
    "frax": "FRAX",
    "arbitrum": "ARB",
    "optimism": "OP",
    "cosmos": "ATOM",
    "filecoin": "FIL",
    "algorand": "ALGO",
    "maker": "MKR",
    "lido-dao": "LDO",
    "tether-gold": "XAUT",
    "pax-gold": "PAXG",
    "usdt0": "USDT0",
    "dogwifcoin": "WIF",
    "bonk": "BONK",
    "floki": "FLOKI",
    "celestia": "TIA",
    "stacks": "STX",
    "eos": "EOS",
    "tezos": "XTZ",
    "zcash": "ZEC",
    "dash": "DASH",
    "ethena": "ENA",
    "binance-usd": "BUSD",
}
