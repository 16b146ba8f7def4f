"""tickerstream: parse scraped crypto tickers, detect moves and peg deviations, on Kafka or embedded."""

__version__ = "0.1.0"
