"""Every Grafana panel query returns data from a real Prometheus scraping the real pipeline.

No Grafana server can be installed here, so this does what Grafana would, against the processes
that will run in production:

* the pipeline: ``ticker-produce --follow`` on an inbox directory and two ``ticker-process``
  instances (one consumer group, the second joins a few seconds later: a rebalance and a restore
  from checkpoints), each serving ``/metrics`` on a free port, on topics unique to this test;
* the input: two days of the seeded sample (a crash: moves; a USDC depeg) dropped into the inbox as
  page files, then a live page every second (event time = now) with USDC at 0.97 (critical, held)
  and USDT flipping between 1.00 and 0.97 (peg hysteresis and confirmation off: a peg event per
  page), so rates, batch and latency histograms have fresh observations throughout;
* Debian's ``prometheus`` on 127.0.0.1 with a temporary config, scraping all three every second;
* every panel query of both dashboards, with ``$__rate_interval``/``$__range`` and the template
  variables substituted (``tickerstream.dashboards.queries``), sent as Grafana sends it: instant
  queries to ``/api/v1/query``, time-series panels to ``/api/v1/query_range`` over the run. Each
  must return at least one finite value; every variable must have values; the alert rules must
  load and evaluate, and USDC's critical depeg must be (at least) pending.

A missing ``prometheus`` binary or broker fails the test: a skipped check proves nothing. Teardown
sends SIGTERM to the pipeline and requires exit code 0 from each process.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
import yaml

from tests.support.kafka import delete_topics
from tests.support.paths import REPO
from tests.support.processor import cli_args, fast_config, settings, topic_names
from tickerstream.dashboards import DASHBOARDS
from tickerstream.dashboards.queries import resolved_queries, variable_queries
from tickerstream.kafka.admin import ensure_topics, topic_specs_for
from tickerstream.sources.sample import (
    SampleSpec,
    Snapshot,
    load_assets,
    page_file_name,
    render_page,
    write_pages,
)

pytestmark = [pytest.mark.timeout(180), pytest.mark.promtool]  # runs Debian's prometheus

RULES = REPO / "deploy" / "prometheus" / "rules"
BIN = Path(sys.executable).parent
SCRAPES_BEFORE_QUERYING = 8
#: What Grafana would send with a 1 s scrape interval: $__rate_interval = max(4 x scrape, ...).
RATE_INTERVAL = "5s"
RANGE = "3s"
#: Seconds between the first processor's start and the second's (the rebalance under observation).
SECOND_PROCESSOR_AFTER_S = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


# --- input: sample history, then a live page every second ------------------------------------------


def write_history(inbox: Path) -> int:
    """Two days of the seeded sample (crash and USDC depeg), ending now, as page files."""
    start = datetime.now(UTC) - timedelta(days=2, minutes=5)
    spec = SampleSpec(
        seed=7, start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), days=2.0, interval_s=1200.0,
        crash_at=0.2, depeg_at=0.45,
    )  # fmt: skip
    staging = inbox.parent / "staging"
    count = write_pages(spec, staging)
    for page in sorted(staging.iterdir()):
        page.rename(inbox / page.name)
    return count


@dataclass
class LiveFeed:
    """Drops a page per second into the inbox (written as *.tmp, then renamed: the watcher skips *.tmp)."""

    inbox: Path
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    pages: int = 0

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by the fixture, not lost in a thread
            self.errors.append(exc)

    def _run(self) -> None:
        assets = {a.symbol: a for a in load_assets()}
        rng = np.random.default_rng(5)
        symbols = ["BTC", "ETH", "SOL", "USDT", "USDC"]
        prices = np.array([104_000.0, 3_300.0, 180.0, 1.0, 0.97])
        last_s = 0
        while not self.stop.is_set():
            now_s = max(int(time.time()), last_s + 1)  # file names have second resolution
            last_s = now_s
            prices[:3] *= np.exp(rng.normal(0.0, 0.002, 3))
            prices[3] = 1.0 if self.pages % 2 else 0.97
            snap = Snapshot(now_s * 1000, symbols, prices.copy(), np.full(len(symbols), 0.5))
            name = page_file_name(now_s * 1000)
            tmp = self.inbox / (name + ".tmp")
            tmp.write_text(render_page(snap, assets, rng), encoding="utf-8")
            tmp.rename(self.inbox / name)
            self.pages += 1
            self.stop.wait(max(0.0, now_s + 1 - time.time()))


# --- processes ------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def tail(self, chars: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]


def spawn(name: str, cmd: list[str], logs: Path) -> Process:
    log_path = logs / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    return Process(name, proc, log_path, log)


def stop_all(procs: list[Process], timeout_s: float = 30.0) -> list[str]:
    """SIGTERM each, wait; returns what did not exit 0 (with its log tail)."""
    for p in procs:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    problems: list[str] = []
    deadline = time.monotonic() + timeout_s
    for p in procs:
        try:
            code = p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.proc.kill()
            code = p.proc.wait()
            problems.append(f"{p.name} did not stop on SIGTERM in {timeout_s:.0f} s")
        if code != 0 and p.name != "prometheus":
            problems.append(f"{p.name} exited {code}:\n{p.tail()}")
        p.log.close()
    return problems


def start_prometheus(targets: dict[str, list[int]], workdir: Path) -> tuple[Process, str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus not found on PATH; install Debian's prometheus package: "
            "sudo apt-get install -y prometheus",
            pytrace=False,
        )
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted(RULES.glob("*.yml"))],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}" for port in ports]}]}
            for job, ports in targets.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config), "utf-8")
    port = free_port()
    cmd = [
        binary,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    return spawn("prometheus", cmd, workdir), f"http://127.0.0.1:{port}"


def wait_ready(prom: Process, url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if prom.proc.poll() is not None:
            pytest.fail(f"prometheus exited {prom.proc.returncode}: {prom.tail()}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("prometheus did not become ready in 30 s")
        time.sleep(0.2)


# --- the pipeline under Prometheus -----------------------------------------------------------------


@dataclass
class Live:
    url: str  # Prometheus
    started: float  # Unix s, when the pipeline started: the dashboards' time range begins here


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("dashboards-live")
    prefix = f"it.dashboards-live.{uuid.uuid4().hex[:8]}."
    kafka = settings(kafka_bootstrap, prefix)
    asyncio.run(ensure_topics(kafka_bootstrap, topic_specs_for(kafka)))
    inbox = work / "inbox"
    inbox.mkdir()
    write_history(inbox)

    ports = {"producer": free_port(), "processor-a": free_port(), "processor-b": free_port()}
    prom, url = start_prometheus(
        {
            "ticker-producer": [ports["producer"]],
            "ticker-processor": [ports["processor-a"], ports["processor-b"]],
        },
        work,
    )
    procs: list[Process] = []
    feed = LiveFeed(inbox)
    feeder = threading.Thread(target=feed.run, name="live-pages", daemon=True)
    started = time.time()
    try:
        wait_ready(prom, url)
        t = kafka.topics
        procs.append(
            spawn(
                "producer",
                [
                    str(BIN / "ticker-produce"), "--follow", str(inbox), "--poll-interval", "0.2",
                    "--bootstrap-servers", kafka_bootstrap, "--ticks-topic", t.ticks,
                    "--rejects-topic", t.rejects, "--partitions", str(kafka.ticks_partitions),
                    "--progress-interval", "0", "--log-format", "json",
                    "--metrics-port", str(ports["producer"]),
                ],
                work,
            )
        )  # fmt: skip
        feeder.start()
        base = cli_args(kafka, fast_config(prefix))
        no_hysteresis = ["--set", "pegs.min_exit_ticks=1", "--set", "pegs.min_exit_duration_s=0"]
        no_hysteresis += ["--set", "pegs.usd_confirm_s=0"]  # every flip of USDT is an event
        for name in ("processor-a", "processor-b"):
            if name == "processor-b":
                time.sleep(SECOND_PROCESSOR_AFTER_S)
            cmd = [sys.executable, "-m", "tickerstream.cli.process", *base, *no_hysteresis]
            cmd += ["--log-format", "json", "--metrics-port", str(ports[name])]
            procs.append(spawn(name, cmd, work))
        for p in procs:
            if p.proc.poll() is not None:
                pytest.fail(f"{p.name} exited {p.proc.returncode} at start:\n{p.tail()}")
        yield Live(url, started)
    finally:
        feed.stop.set()
        if feeder.is_alive():
            feeder.join(timeout=5)
        problems = stop_all(procs)
        stop_all([prom])
        asyncio.run(delete_topics(kafka_bootstrap, topic_names(kafka)))
    assert not feed.errors, feed.errors
    assert not problems, "\n".join(problems)


def query(url: str, expr: str) -> list[dict[str, Any]]:
    body = get_json(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def query_range(url: str, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": "1"}
    body = get_json(f"{url}/api/v1/query_range?" + urllib.parse.urlencode(params))
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def wait_until(url: str, expr: str, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not query(url, expr):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what} ({expr})")
        time.sleep(0.5)


def wait_for_pipeline(url: str) -> None:
    """Both processors scraped for a while, the rebalance and restores seen, events flowing."""
    up = f'min(count_over_time(up{{job=~"ticker-.*"}}[1m])) >= {SCRAPES_BEFORE_QUERYING}'
    wait_until(url, f'{up} and min(up{{job=~"ticker-.*"}}) == 1', "scrapes of every target")
    wait_until(url, "sum(ticker_assigned_partitions) == 4 and count(ticker_assigned_partitions > 0) == 2",
               "both processors owning partitions")  # fmt: skip
    wait_until(url, "count(ticker_state_restore_duration_seconds_count > 0) == 2", "a restore in each")
    wait_until(url, 'sum(increase(ticker_event_latency_seconds_count{type="peg"}[5s])) > 0', "live events")


def has_finite_value(result: list[dict[str, Any]]) -> bool:
    values = [v for r in result for v in (r.get("values") or [r["value"]])]
    return any(math.isfinite(float(v[1])) for v in values)


def test_every_panel_query_returns_data(live: Live) -> None:
    wait_for_pipeline(live.url)
    end = time.time()
    failures: list[str] = []
    checked = 0
    for name, build in DASHBOARDS.items():
        dash = build()
        for panel_query, expr in resolved_queries(dash, rate_interval=RATE_INTERVAL, range_=RANGE):
            checked += 1
            if panel_query.instant:
                result = query(live.url, expr)
            else:
                result = query_range(live.url, expr, live.started, end)
            if not has_finite_value(result):
                failures.append(f"{panel_query}: {'no series' if not result else 'only NaN'}: {expr}")
        for var, (selector, label) in variable_queries(dash).items():
            params = urllib.parse.urlencode({"match[]": selector})
            values = get_json(f"{live.url}/api/v1/label/{label}/values?{params}")["data"]
            if not values:
                failures.append(f"{name}: variable ${var}: label_values({selector}, {label}) is empty")
    assert checked > 30
    assert not failures, "\n".join(failures)


def test_the_pipeline_reports_what_it_did(live: Live) -> None:
    """Numbers that only the real pipeline produces: moves from the sample's crash, peg events,
    a lag per owned partition, the producer's ticks reaching the processors."""
    wait_for_pipeline(live.url)

    def value(expr: str) -> float:
        result = query(live.url, expr)
        assert result, f"no data: {expr}"
        return float(result[0]["value"][1])

    assert value('sum(ticker_events_total{type="move"})') > 0
    assert value('sum(ticker_events_total{type="peg"})') > 0
    assert value("count(ticker_consumer_lag_records)") == 4  # one series per partition, no duplicates
    produced = value("sum(ticker_ticks_produced_total)")
    assert produced > 3000 and value("sum(ticker_records_consumed_total)") > 0
    assert value("sum(ticker_lines_read_total)") > produced
    assert value("sum(ticker_rebalances_total)") >= 3  # a joins; a and b rebalance when b joins
    # Live events are seconds old, not the pages' event time: the latency starts at Kafka's append.
    p99 = 'histogram_quantile(0.99, sum by (le) (rate(ticker_event_latency_seconds_bucket{type="peg"}[30s])))'
    assert value(p99) < 30


def test_alert_rules_load_and_evaluate(live: Live) -> None:
    wait_for_pipeline(live.url)
    groups = get_json(f"{live.url}/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) >= 7
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not broken, broken
    # The live pages keep USDC at 0.97: the critical depeg alert is at least pending by now
    # (Prometheus lists pending alerts too).
    wait_until(live.url, 'ALERTS{alertname="TickerPegCritical", symbol="USDC"}', "TickerPegCritical USDC")
