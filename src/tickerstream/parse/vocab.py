"""The words the parser knows: currency signs and codes, tokens that are never coin symbols, coin ids.

Plain data, no logic, so a reviewer can see at a glance what the parser trusts.
"""

from __future__ import annotations

# The plausible price range is part of what a tick is (the Kafka decoder refuses the same values the
# parser does), so it lives with the records in ``model``; re-exported here for the parser.
from tickerstream.model import MAX_PRICE_USD as MAX_PRICE_USD
from tickerstream.model import MIN_PRICE as MIN_PRICE
from tickerstream.model import max_price as max_price

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
