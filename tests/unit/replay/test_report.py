"""ticker-replay --report: a self-contained HTML file that headless Chromium renders without errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import chromium
from tickerstream.cli.replay import main as replay_main
from tickerstream.sources.sample import SampleSpec, write_jsonl

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    jsonl = tmp / "ticks.jsonl"
    write_jsonl(SampleSpec(), jsonl)
    assert replay_main([str(jsonl), "--out", str(tmp / "events.jsonl"), "--report", str(tmp / "rep")]) == 0
    return tmp / "rep" / "index.html"


def test_report_is_self_contained_with_charts_bands_and_episodes(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing loaded from the network
    assert "<script" not in html
    assert html.count("<svg") >= 8
    assert 'class="band warn"' in html and 'class="band critical"' in html
    assert 'class="episode"' in html  # the USDC depeg is shaded
    assert 'class="move down"' in html  # the crash is marked
    assert "USDC" in html and "peg episodes" in html.lower()


@pytest.mark.chromium
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = chromium()
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM Chromium built has every chart: the file parsed and rendered as HTML+SVG.
    assert dom.stdout.count("<svg") >= 8 and "<polyline" in dom.stdout
    page_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not page_errors, page_errors
    shot = tmp_path / "report.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1000,1600", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page is a few KB


def test_same_input_same_report(report: Path, tmp_path: Path) -> None:
    jsonl = report.parent.parent / "ticks.jsonl"
    assert (
        replay_main([str(jsonl), "--out", str(tmp_path / "ev.jsonl"), "--report", str(tmp_path / "rep")]) == 0
    )
    assert (tmp_path / "rep" / "index.html").read_bytes() == report.read_bytes()
