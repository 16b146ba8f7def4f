"""The seed page (a real scraped CoinGecko widget under a news article): golden test and slug rules."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import DATA
from tests.support.schemas import assert_valid_records
from tickerstream.model import Tick
from tickerstream.parse import SnapshotParser, parse_bytes, parse_text
from tickerstream.parse import snapshot as snapshot_mod

SEED = (DATA / "seed_page.txt").read_text(encoding="utf-8")
TS = 1_699_430_000_000


def expected_ticks(source: str = "seed") -> list[Tick]:
    """The hand-checked expectation: every widget row of the seed page, in page order."""
    rows = [json.loads(line) for line in (DATA / "seed_page.expected.jsonl").read_text().splitlines()]
    return [Tick(**row, ts=TS, source=source) for row in rows]


def test_seed_page_golden() -> None:
    result = parse_text(SEED, ts=TS, source="seed")
    assert result.ticks == expected_ticks()
    assert result.rejects == []
    assert_valid_records(result.ticks, result.rejects)


def test_seed_page_via_bytes_and_crlf() -> None:
    assert parse_bytes(SEED.encode(), ts=TS, source="seed").ticks == expected_ticks()
    crlf = SEED.replace("\n", "\r\n").encode()
    assert parse_bytes(crlf, ts=TS, source="seed").ticks == expected_ticks()


def test_seed_page_general_path_agrees_with_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disable the fast path: the general path alone must give the same 50 ticks."""
    monkeypatch.setattr(snapshot_mod, "_FAST_LINE", snapshot_mod.re.compile(r"(?!)"))
    monkeypatch.setattr(snapshot_mod, "_EXTENT", snapshot_mod.re.compile(r"(?!)"))
    assert parse_text(SEED, ts=TS, source="seed").ticks == expected_ticks()


def test_seed_page_fed_in_small_chunks_equals_whole() -> None:
    parser = SnapshotParser(ts=TS, source="seed")
    ticks: list[Tick] = []
    for i in range(0, len(SEED), 7):
        ticks += parser.feed(SEED[i : i + 7]).ticks
    ticks += parser.close().ticks
    assert ticks == expected_ticks()


def test_marquee_repeat_is_one_tick() -> None:
    looped = SEED + "\n" + SEED[SEED.index("bitcoin\n") :]
    assert parse_text(looped, ts=TS, source="seed").ticks == expected_ticks()


def test_changed_price_in_a_repeat_is_a_new_tick() -> None:
    page = "bitcoin\nBitcoin (BTC) $ 1.00 1.00%\nbitcoin\nBitcoin (BTC) $ 2.00 1.00%\n" * 2
    assert [t.price for t in parse_text(page, ts=TS).ticks] == [1.0, 2.0]


def _coin_ids(page: str) -> list[tuple[str, str | None]]:
    return [(t.symbol, t.coin_id) for t in parse_text(page, ts=TS).ticks]


def test_malformed_slug_is_not_attached_and_does_not_shift() -> None:
    page = SEED.replace("\nstaked-ether\n", "\nlido staked-ether\n")
    ids = dict(_coin_ids(page))
    assert ids["STETH"] is None
    assert ids["ADA"] == "cardano" and ids["TRX"] == "tron"
    assert len(ids) == 50


def test_missing_slug_lines() -> None:
    page = (
        "Bitcoin (BTC) $ 104,442.98 0.48%\n"
        "ethereum\nEthereum (ETH) $ 3,259.53 2.32%\n"
        "XRP (XRP) $ 3.08 0.69%\n"
    )
    assert _coin_ids(page) == [("BTC", None), ("ETH", "ethereum"), ("XRP", None)]


def test_slug_naming_another_known_coin_is_refused() -> None:
    assert _coin_ids("bitcoin\nEthereum (ETH) $ 3,259.53 2.32%\n") == [("ETH", None)]


def test_unrelated_looking_real_ids_are_attached() -> None:
    page = (
        "crypto-com-chain\nCronos (CRO) $ 0.130743 0.10%\n"
        "the-open-network\nToncoin (TON) $ 4.84 0.56%\n"
        "some-new-coin-id\nZeta Widget (ZWT) $ 1.23 0.10%\n"
    )
    assert _coin_ids(page) == [
        ("CRO", "crypto-com-chain"),
        ("TON", "the-open-network"),
        ("ZWT", "some-new-coin-id"),
    ]


def test_slug_followed_by_prose_or_another_slug_is_dropped() -> None:
    page = "usd-coin\nThe market moved today.\nUSDC (USDC) $ 1.00 0.01%\n"
    assert _coin_ids(page) == [("USDC", None)]
    page = "usd-coin\ntether\nUSDC (USDC) $ 1.00 0.01%\n"
    assert _coin_ids(page) == [("USDC", None)]  # "tether" is adjacent but names another coin


def test_slug_across_blank_line_only_when_related() -> None:
    assert _coin_ids("usd-coin\n\nUSDC (USDC) $ 1.00 0.01%\n") == [("USDC", "usd-coin")]
    assert _coin_ids("zeta-thing\n\nUSDC (USDC) $ 1.00 0.01%\n") == [("USDC", None)]


def test_slug_attaches_only_to_first_record_of_a_line() -> None:
    page = "bitcoin\nBitcoin (BTC) $ 104,442.98 0.48% Ethereum (ETH) $ 3,259.53 2.32%\n"
    assert _coin_ids(page) == [("BTC", "bitcoin"), ("ETH", None)]


def test_pending_slug_survives_feed_boundary() -> None:
    parser = SnapshotParser(ts=TS, source="f")
    assert parser.feed("usd-coin\n").ticks == []
    ticks = parser.feed("USDC (USDC) $ 1.00 0.01%\n").ticks + parser.close().ticks
    assert [(t.symbol, t.coin_id) for t in ticks] == [("USDC", "usd-coin")]


def test_feed_keeps_partial_line_until_newline_or_close() -> None:
    parser = SnapshotParser(ts=TS, source="f")
    assert parser.feed("Bitcoin (BTC) $ 104,4").ticks == []
    assert parser.feed("42.98 0.48").ticks == []
    ticks = parser.feed("%").ticks + parser.close().ticks
    assert [(t.symbol, t.price) for t in ticks] == [("BTC", 104442.98)]


def test_ticks_share_snapshot_ts_and_source() -> None:
    result = parse_text(SEED, ts=123, source="page.txt")
    assert {(t.ts, t.source) for t in result.ticks} == {(123, "page.txt")}
