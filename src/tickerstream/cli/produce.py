"""``ticker-produce``: scraped pages in, ticks (keyed by symbol) and rejects out to Kafka.

A thin shell: ``tickerstream.sources`` and ``tickerstream.follow`` read, ``tickerstream.parse``
parses, :class:`tickerstream.kafka.produce.TickProducer` batches and delivers. Files are read and
parsed in a worker thread, one group of snapshots ahead of what the event loop is sending, so parsing,
compression and the network overlap; back-pressure from the producer pauses the reading.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tickerstream.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_logging_args,
    configure_from_args,
    run_cli,
)
from tickerstream.config import load_settings
from tickerstream.follow import DirectoryWatcher, FollowedFile, LineChunker
from tickerstream.kafka.admin import TopicError, ensure_topics, topic_specs_for
from tickerstream.kafka.produce import (
    CODECS,
    ProduceError,
    ProducerConfig,
    ProduceStats,
    TickProducer,
    encode_tick,
)
from tickerstream.kafka.settings import DEFAULT_BOOTSTRAP, KafkaSettings
from tickerstream.log import get_logger
from tickerstream.metrics import (
    PRODUCER_PORT,
    AnyMetrics,
    MetricsServer,
    NoMetrics,
    add_metrics_args,
    default_metrics,
    start_metrics_server,
)
from tickerstream.model import Reject
from tickerstream.parse import ParseResult, parse_bytes
from tickerstream.sources import Snapshot, SourceError, iter_snapshots, now_ms, parse_iso_ts, walk_files

PROG = "ticker-produce"
log = get_logger(PROG)

DESCRIPTION = """\
Parse scraped page text into ticks and produce them to Kafka: ticks to the ticks topic (key = symbol,
partition = murmur2(symbol) like every Kafka client; the topics keep broker append time), rejects
(input that could not become a tick, with its reason) to the dead-letter topic.

Inputs: files, directories (recursive, sorted, hidden files skipped) or '-' for stdin (the default).
Each file or stdin is one snapshot, timed exactly like ticker-parse: --ts, else an ISO timestamp in the
file name, else the file's mtime, else now (stdin).

--follow keeps reading: a file is followed as it grows (like tail -F, from its start unless --from-end;
truncation and rotation are handled), a directory is watched for new files (each one snapshot, taken
once its size has settled; hidden and *.tmp/*.part names are ignored), and '-' is read as a stream.
Followed text has no timestamps of its own: the complete lines read in one poll are one snapshot whose
event time is the time they were read.

Delivery: idempotent producer, acks=all, compressed record batches built per partition. SIGTERM or
Ctrl-C stops reading, sends everything already accepted and waits for the broker's acks, then exits 0;
a second Ctrl-C exits 130 at once. A summary line goes to stderr; long runs log progress periodically.

Topics are created if missing (--no-create-topics: only checked). An existing ticks topic with another
partition count is refused (exit 2): partitions decide which processor owns which symbol.

Exit status: 0 done (also after SIGTERM/Ctrl-C), 1 Kafka failure, 2 usage error, 130 forced stop.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="file, directory or '-' for stdin (default: -)")
    p.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        metavar="HOST:PORT",
        help=f"Kafka brokers (env KAFKA_BOOTSTRAP_SERVERS; default {DEFAULT_BOOTSTRAP})",
    )
    p.add_argument("--ts", metavar="ISO8601", help="event time of every snapshot (not with --follow)")
    p.add_argument("--follow", action="store_true", help="keep reading PATHs as they grow (see above)")
    p.add_argument("--from-end", action="store_true", help="with --follow: skip a file's existing content")
    p.add_argument(
        "--poll-interval", type=float, default=0.5, metavar="S", help="with --follow: poll every S s (0.5)"
    )
    p.add_argument("--archive", metavar="FILE", help="also append the produced ticks to FILE as JSON Lines")
    g = p.add_argument_group("topics")
    g.add_argument("--config", metavar="FILE", help="Kafka settings (TOML; env TICKER_KAFKA__*)")
    g.add_argument("--ticks-topic", metavar="NAME", help="ticks topic (default ticker.ticks)")
    g.add_argument("--rejects-topic", metavar="NAME", help="dead-letter topic (default ticker.rejects)")
    g.add_argument("--partitions", type=int, metavar="N", help="partitions of the ticks topic (default 6)")
    g.add_argument(
        "--no-create-topics", action="store_true", help="only check that the topics exist, never create"
    )
    g.add_argument(
        "--init-topics",
        action="store_true",
        help="create (or check) all tickerstream topics, then exit without reading input",
    )
    t = p.add_argument_group("batching (defaults measured: docs/benchmarks.md)")
    t.add_argument(
        "--compression",
        choices=["auto", *CODECS],
        default="auto",
        help="record batch codec; auto = zstd if cramjam is installed, else gzip",
    )
    defaults = ProducerConfig()
    t.add_argument("--batch-bytes", type=int, default=defaults.batch_bytes, help="bytes per record batch")
    t.add_argument(
        "--linger-ms", type=int, default=defaults.linger_ms, help="max wait of a partly filled batch"
    )
    t.add_argument(
        "--max-in-flight", type=int, default=defaults.max_in_flight, help="unacked batches before waiting"
    )
    t.add_argument(
        "--parse-workers",
        choices=["auto", "0", "1", "2", "3", "4"],
        default="auto",
        help="processes parsing files (0: this one); auto = 2 for inputs over 16 MB on 2+ cores",
    )
    p.add_argument(
        "--progress-interval", type=float, default=10.0, metavar="S", help="log progress every S s (0: off)"
    )
    add_metrics_args(p, PRODUCER_PORT)
    add_logging_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli(PROG, lambda: _run(argv))


@dataclass
class _Options:
    args: argparse.Namespace
    settings: KafkaSettings
    config: ProducerConfig
    ts_override: int | None
    metrics: AnyMetrics = dataclasses.field(default_factory=NoMetrics)
    metrics_address: str | None = None


#: How often the producer's totals (``ProduceStats``) are copied into the Prometheus counters.
METRICS_SYNC_S = 1.0


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_from_args(args)
    opts = _options(args)
    server: MetricsServer | None = None
    if not args.no_metrics and not args.init_topics:  # --init-topics is one-shot: nothing to scrape
        opts.metrics = metrics = default_metrics()
        server = start_metrics_server(args.metrics_host, args.metrics_port, metrics.registry)
        opts.metrics_address = f"{server.host}:{server.port}"
    try:
        return asyncio.run(_main(opts))
    except asyncio.CancelledError:  # a second signal: stop without flushing
        print(f"{PROG}: interrupted, unsent ticks dropped", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if server is not None:
            server.close()


def _options(args: argparse.Namespace) -> _Options:
    overrides = []
    if args.bootstrap_servers:
        overrides.append(f"bootstrap_servers={args.bootstrap_servers!r}".replace("'", '"'))
    if args.ticks_topic:
        overrides.append(f'topics.ticks="{args.ticks_topic}"')
    if args.rejects_topic:
        overrides.append(f'topics.rejects="{args.rejects_topic}"')
    if args.partitions is not None:
        overrides.append(f"ticks_partitions={args.partitions}")
    settings = load_settings(KafkaSettings, args.config, overrides=overrides, env_section="KAFKA")
    ts_override = None
    if args.ts is not None:
        if args.follow:
            raise UsageError("--ts does not go with --follow: followed text is timed as it is read")
        try:
            ts_override = parse_iso_ts(args.ts)
        except ValueError as exc:
            raise UsageError(f"--ts: {exc}") from None
    if args.from_end and not args.follow:
        raise UsageError("--from-end needs --follow")
    if args.poll_interval <= 0 or args.progress_interval < 0:
        raise UsageError("--poll-interval must be > 0 and --progress-interval >= 0")
    try:
        config = ProducerConfig(
            bootstrap_servers=settings.bootstrap_servers,
            ticks_topic=settings.topics.ticks,
            rejects_topic=settings.topics.rejects,
            compression=None if args.compression == "auto" else args.compression,
            batch_bytes=args.batch_bytes,
            linger_ms=args.linger_ms,
            max_in_flight=args.max_in_flight,
            client_options=settings.client_kwargs(),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    paths = args.paths or ["-"]
    if not args.init_topics:
        for path in paths:
            if path != "-" and not os.path.exists(path):
                raise UsageError(f"no such file or directory: {path}")
        if paths.count("-") > 1:
            raise UsageError("stdin ('-') can be read only once")
    args.paths = paths
    return _Options(args, settings, config, ts_override)


async def _main(opts: _Options) -> int:
    args, settings = opts.args, opts.settings
    specs = topic_specs_for(settings)
    if not args.init_topics:
        specs = [s for s in specs if s.name in (settings.topics.ticks, settings.topics.rejects)]
    try:
        await ensure_topics(
            settings.bootstrap_servers,
            specs,
            create=not args.no_create_topics,
            client_kwargs=settings.client_kwargs(),
        )
    except TopicError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # the broker did not answer: one line, not a traceback
        print(f"{PROG}: error: Kafka at {settings.bootstrap_servers}: {_describe(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    if args.init_topics:
        print(f"{PROG}: topics ready: {', '.join(s.name for s in specs)}", file=sys.stderr)
        return EXIT_OK
    if opts.metrics_address is not None:  # logged once the topics are fine: a usage error stays one line
        log.info("produce.metrics_serving", address=opts.metrics_address)

    stop = asyncio.Event()
    _install_signal_handlers(stop, asyncio.current_task())
    stats = ProduceStats()
    started = time.monotonic()
    archive: BinaryIO | None = None
    if args.archive:
        try:
            archive = open(args.archive, "ab")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"--archive: cannot write {args.archive}: {exc.strerror}") from None
    metrics = opts.metrics
    on_acked = None
    if not isinstance(metrics, NoMetrics):
        real = metrics

        def on_acked(records: int, seconds: float) -> None:
            # One observation per acknowledged record batch; the counters come from sync_totals.
            real.observe_produce_batch(lines=0, ticks=0, duration_s=seconds)

    producer = TickProducer(opts.config, stats=stats, archive=archive, on_acked=on_acked)
    progress = None
    syncing = None
    failed: BaseException | None = None
    try:
        await producer.start()
        if args.progress_interval > 0:
            progress = asyncio.create_task(_log_progress(stats, args.progress_interval))
        if not isinstance(metrics, NoMetrics):
            syncing = asyncio.create_task(_sync_metrics(stats, metrics, METRICS_SYNC_S))
        try:
            if args.follow:
                await _follow_all(producer, args, stop)
            else:
                await _produce_once(producer, args.paths, opts.ts_override, stop, args.parse_workers)
        finally:
            await producer.stop()  # flushes everything accepted, waits for the acks
    except (ProduceError, OSError) as exc:
        failed = exc
    except Exception as exc:
        if type(exc).__module__.startswith("aiokafka"):
            failed = exc
        else:
            raise
    finally:
        for task in (progress, syncing):
            if task is not None:
                task.cancel()
        _sync_totals(stats, metrics)  # the last acks, for a scrape before the endpoint closes
        if archive is not None:
            archive.close()
    _summary(stats, time.monotonic() - started, stop.is_set(), opts.config.ticks_topic)
    if failed is not None:
        print(f"{PROG}: error: Kafka delivery failed: {_describe(failed)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _install_signal_handlers(stop: asyncio.Event, main_task: asyncio.Task[int] | None) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if not stop.is_set():
            stop.set()
            log.info("produce.stopping", signal=signal.Signals(signum).name, detail="flushing accepted ticks")
        elif main_task is not None:
            main_task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)


# -- one pass over files, directories, stdin ---------------------------------------------------------

#: A worker-thread pull parses snapshots until it holds this many bytes of input (or the input ends).
PULL_BYTES = 4 * 1024 * 1024


@dataclass
class _Parsed:
    source: str
    ts: int
    size: int
    lines: int
    result: ParseResult


def _pull(snapshots: Iterator[Snapshot], limit: int | None = PULL_BYTES) -> list[_Parsed]:
    """Read and parse the next group of snapshots, up to ``limit`` bytes of input (None: all)."""
    out: list[_Parsed] = []
    size = 0
    for snap in snapshots:
        result = parse_bytes(snap.data, ts=snap.ts, source=snap.source)
        out.append(_Parsed(snap.source, snap.ts, len(snap.data), snap.data.count(b"\n"), result))
        size += len(snap.data)
        if limit is not None and size >= limit:
            break
    return out


async def _produce_once(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event, workers: str
) -> None:
    """Each path in turn; runs of file/directory paths are parsed in a worker process when it pays."""
    runs: list[list[str]] = [[]]
    for path in paths:
        if path == "-":
            runs += [["-"], []]
        else:
            runs[-1].append(path)
    for run in runs:
        if stop.is_set():
            return
        if run == ["-"]:
            await _produce_stdin_once(producer, ts_override, stop)
        elif run:
            count, files = _worker_count(run, workers)
            if count and files:
                await _produce_in_workers(producer, files, count, ts_override, stop)
            else:
                await _produce_in_thread(producer, run, ts_override, stop)


async def _produce_in_thread(
    producer: TickProducer, paths: list[str], ts_override: int | None, stop: asyncio.Event
) -> None:
    try:
        snapshots = iter_snapshots(paths, ts_override=ts_override)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    pending = asyncio.create_task(asyncio.to_thread(_guarded_pull, snapshots))
    while True:
        group = await pending
        if not group or stop.is_set():
            break
        pending = asyncio.create_task(asyncio.to_thread(_guarded_pull, snapshots))  # read ahead
        await _send_group(producer, group)


def _guarded_pull(snapshots: Iterator[Snapshot], limit: int | None = PULL_BYTES) -> list[_Parsed]:
    try:
        return _pull(snapshots, limit)
    except SourceError as exc:
        raise UsageError(str(exc)) from None


async def _send_group(producer: TickProducer, group: list[_Parsed]) -> None:
    stats = producer.stats
    ticks = [t for p in group for t in p.result.ticks] if len(group) > 1 else group[0].result.ticks
    await producer.send_ticks(ticks)
    for p in group:
        if p.result.rejects:
            await producer.send_rejects(p.result.rejects, ts=p.ts)
        stats.snapshots += 1
        stats.bytes_read += p.size
        stats.lines_read += p.lines


async def _produce_stdin_once(producer: TickProducer, ts_override: int | None, stop: asyncio.Event) -> None:
    """stdin as one snapshot, like ticker-parse (event time: --ts, else when reading started)."""
    ts = ts_override if ts_override is not None else now_ms()
    chunks: list[bytes] = []
    async for chunk in _stdin_chunks(stop):
        chunks.append(chunk)
    if stop.is_set():
        return  # stopped before the snapshot was complete: nothing of it was accepted
    data = b"".join(chunks)
    result = await asyncio.to_thread(parse_bytes, data, ts=ts, source="-")
    await _send_group(producer, [_Parsed("-", ts, len(data), data.count(b"\n"), result)])


# -- parsing in worker processes ------------------------------------------------------------------

#: Inputs at least this big are parsed in worker processes (``--parse-workers auto``).
WORKER_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class _Encoded:
    """A group of files parsed and encoded by a worker: the ticks as (key, ts, JSON) columns."""

    symbols: list[str]
    ts: list[int]
    values: list[bytes]
    rejects: list[tuple[int, list[Reject]]]  # (snapshot event time, its rejects)
    snapshots: int
    size: int
    lines: int


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what a signal means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _parse_files(files: list[str], ts_override: int | None) -> _Encoded:
    """Runs in a worker: read, parse and encode ``files`` (one snapshot each, timed like any input)."""
    group = _guarded_pull(iter_snapshots(files, ts_override=ts_override), limit=None)
    ticks = [t for p in group for t in p.result.ticks]
    return _Encoded(
        symbols=[t.symbol for t in ticks],
        ts=[t.ts for t in ticks],
        values=list(map(encode_tick, ticks)),
        rejects=[(p.ts, p.result.rejects) for p in group if p.result.rejects],
        snapshots=len(group),
        size=sum(p.size for p in group),
        lines=sum(p.lines for p in group),
    )


def expand_files(paths: list[str]) -> list[tuple[str, int]]:
    """(file, size) of ``paths`` in the order ``sources.iter_snapshots`` reads them (its own walk)."""
    out: list[tuple[str, int]] = []
    try:
        for path in paths:
            files = walk_files(path) if os.path.isdir(path) else (path,)
            out.extend((name, os.path.getsize(name)) for name in files)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    return out


def _groups(files: list[tuple[str, int]]) -> Iterator[list[str]]:
    group: list[str] = []
    size = 0
    for name, n in files:
        group.append(name)
        size += n
        if size >= PULL_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _worker_count(paths: list[str], setting: str) -> tuple[int, list[tuple[str, int]] | None]:
    """How many parse workers for these paths (0: parse in this process), and their file list."""
    if setting == "0" or (setting == "auto" and (os.cpu_count() or 1) < 2):
        return 0, None
    files = expand_files(paths)
    if setting == "auto":
        big = sum(n for _, n in files) >= WORKER_MIN_BYTES
        return (min(2, (os.cpu_count() or 1)) if big else 0), files
    return int(setting), files


async def _produce_in_workers(
    producer: TickProducer,
    files: list[tuple[str, int]],
    workers: int,
    ts_override: int | None,
    stop: asyncio.Event,
) -> None:
    """Parse and encode in worker processes (threads would share one GIL), produce here, in input order:
    groups of files are submitted in order and their results taken in the same order."""
    loop = asyncio.get_running_loop()
    stats = producer.stats
    groups = _groups(files)
    context = multiprocessing.get_context("spawn")  # no fork of a process running an event loop
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        pending: deque[asyncio.Future[_Encoded]] = deque()

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                pending.append(loop.run_in_executor(pool, _parse_files, group, ts_override))

        for _ in range(workers + 1):  # every worker busy, and one result ready ahead
            submit()
        try:
            while pending and not stop.is_set():
                encoded = await pending.popleft()
                if stop.is_set():
                    break
                submit()
                await producer.send_encoded(encoded.symbols, encoded.ts, encoded.values)
                for ts, rejects in encoded.rejects:
                    await producer.send_rejects(rejects, ts=ts)
                stats.snapshots += encoded.snapshots
                stats.bytes_read += encoded.size
                stats.lines_read += encoded.lines
        finally:
            for future in pending:
                future.cancel()
            # Wait (off the event loop) until the workers are gone, at most one group's parse: a pool
            # left to the interpreter's exit hooks can hang there if a second signal arrives.
            await loop.run_in_executor(None, functools.partial(pool.shutdown, wait=True, cancel_futures=True))


# -- --follow --------------------------------------------------------------------------------------


async def _follow_all(producer: TickProducer, args: argparse.Namespace, stop: asyncio.Event) -> None:
    tasks = []
    for path in args.paths:
        if path == "-":
            coro = _follow_stdin(producer, stop)
        elif os.path.isdir(path):
            coro = _follow_directory(producer, Path(path), args.poll_interval, stop)
        else:
            coro = _follow_file(producer, Path(path), args.poll_interval, args.from_end, stop)
        tasks.append(asyncio.create_task(coro))
    log.info("produce.following", paths=args.paths, poll_interval_s=args.poll_interval)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def _send_text(producer: TickProducer, data: bytes, source: str, lines: int) -> None:
    """One chunk of complete lines: one snapshot timed now (the time it was read)."""
    if not data:
        return
    ts = now_ms()
    result = parse_bytes(data, ts=ts, source=source)
    await _send_group(producer, [_Parsed(source, ts, len(data), lines, result)])


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _follow_file(
    producer: TickProducer, path: Path, interval: float, from_end: bool, stop: asyncio.Event
) -> None:
    followed = FollowedFile(path, start_at_end=from_end)
    chunker = LineChunker()
    source = str(path)
    try:
        while not stop.is_set():
            data = followed.read()
            if data:
                lines = chunker.push(data)
                await _send_text(producer, lines, source, data.count(b"\n"))
                continue  # more may be waiting: read on before sleeping
            await _sleep_or_stop(stop, interval)
    finally:
        followed.close()


async def _follow_directory(producer: TickProducer, root: Path, interval: float, stop: asyncio.Event) -> None:
    watcher = DirectoryWatcher(root)
    while not stop.is_set():
        ready = await asyncio.to_thread(watcher.poll)
        for path in ready:
            if stop.is_set():
                return
            try:
                group = await asyncio.to_thread(_pull, iter_snapshots([str(path)]))
            except SourceError as exc:  # vanished or unreadable meanwhile: not fatal for a watcher
                log.warning("produce.file_skipped", path=str(path), error=str(exc))
                continue
            if group:
                await _send_group(producer, group)
                log.debug("produce.file_produced", path=str(path), ticks=len(group[0].result.ticks))
        await _sleep_or_stop(stop, interval)


async def _follow_stdin(producer: TickProducer, stop: asyncio.Event) -> None:
    chunker = LineChunker()
    async for data in _stdin_chunks(stop):
        await _send_text(producer, chunker.push(data), "-", data.count(b"\n"))
    if not stop.is_set():
        await _send_text(producer, chunker.finish(), "-", 0)


# -- stdin without blocking the event loop ---------------------------------------------------------


async def _stdin_chunks(stop: asyncio.Event) -> AsyncIterator[bytes]:
    """Chunks of stdin as they arrive, read by a daemon thread so a blocked read never holds the event
    loop (the producer keeps sending and acking) nor the process at exit (SIGTERM while waiting)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    fd = sys.stdin.fileno()

    def reader() -> None:
        while True:
            try:
                data = os.read(fd, 1 << 20)
            except OSError:
                data = b""
            fut = asyncio.run_coroutine_threadsafe(queue.put(data or None), loop)
            try:
                fut.result()
            except Exception:  # the loop is gone: nobody is listening any more
                return
            if not data:
                return

    threading.Thread(target=reader, name="stdin-reader", daemon=True).start()
    while True:
        getter = asyncio.ensure_future(queue.get())
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if getter not in done:
            getter.cancel()
            return
        data = getter.result()
        if data is None:
            return
        yield data


# -- reporting -----------------------------------------------------------------------------------


async def _log_progress(stats: ProduceStats, interval: float) -> None:
    last_t, last_n = time.monotonic(), 0
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        rate = (stats.ticks_acked - last_n) / max(now - last_t, 1e-9)
        log.info(
            "produce.progress",
            ticks_acked=stats.ticks_acked,
            ticks_per_s=round(rate),
            rejects_acked=stats.rejects_acked,
            snapshots=stats.snapshots,
            mb_read=round(stats.bytes_read / 1e6, 1),
        )
        last_t, last_n = now, stats.ticks_acked


def _sync_totals(stats: ProduceStats, metrics: AnyMetrics) -> None:
    metrics.sync_totals(
        lines_read=stats.lines_read,
        ticks_produced=stats.ticks_acked,
        rejects=stats.rejects_by_reason,
        produce_errors=stats.delivery_errors,
    )


async def _sync_metrics(stats: ProduceStats, metrics: AnyMetrics, interval: float) -> None:
    """Mirror the totals ``ProduceStats`` keeps anyway, on a timer: nothing per tick or per batch."""
    while True:
        _sync_totals(stats, metrics)
        await asyncio.sleep(interval)


def _summary(stats: ProduceStats, elapsed: float, stopped: bool, topic: str) -> None:
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(stats.rejects_by_reason.items()))
    rate = stats.ticks_acked / elapsed if elapsed > 0 else 0.0
    log.info("produce.done", elapsed_s=round(elapsed, 3), ticks_per_s=round(rate), **_stats_fields(stats))
    print(
        f"{PROG}: {stats.ticks_acked} ticks, {stats.rejects_acked} rejects"
        + (f" ({reasons})" if reasons else "")
        + f" from {stats.snapshots} snapshot(s) to {topic}"
        + (" (stopped by signal)" if stopped else ""),
        file=sys.stderr,
    )


def _stats_fields(stats: ProduceStats) -> dict[str, int]:
    return {
        "ticks_sent": stats.ticks_sent,
        "ticks_acked": stats.ticks_acked,
        "rejects_acked": stats.rejects_acked,
        "batches_acked": stats.batches_acked,
        "bytes_sent": stats.bytes_sent,
        "delivery_errors": stats.delivery_errors,
        "future_ts_clamped": stats.future_ts_clamped,
    }


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
