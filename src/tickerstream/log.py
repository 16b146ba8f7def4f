"""structlog set-up shared by every console script.

JSON lines when stderr is not a terminal (for log shippers), coloured key=value on a TTY.
Logs go to stderr so stdout stays free for data (ticks, events).

Secrets never reach a log line: :func:`redact_secrets` runs before the renderer and replaces the
value of every key that names a secret (``password``, ``secret``, ``token``, ``sasl_plain_password``,
...), also inside nested dicts and lists, so a settings dict or client options logged whole are safe.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

#: Keys whose values are secrets (matched anywhere in the key, case-insensitively).
SECRET_KEY = re.compile(r"passw(or)?d|secret|token|credential|api_?key", re.IGNORECASE)
REDACTED = "[redacted]"


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and SECRET_KEY.search(key) is not None


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 5:
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(k) else _redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v, depth + 1) for v in value)
    return value


def redact_secrets(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace the values of secret-named keys (nested too) by ``[redacted]``."""
    for key, value in event_dict.items():
        if is_secret_key(key):
            event_dict[key] = REDACTED
        elif isinstance(value, (Mapping, list, tuple)):
            event_dict[key] = _redact(value)
    return event_dict


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog once per process; ``json=None`` picks JSON unless stderr is a TTY."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    _route_stdlib_logging(level, renderer)


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured: loggers
    are cached on first use, and a stream swapped since (a test's capture, a redirect) may be closed."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _route_stdlib_logging(level: str, renderer: structlog.typing.Processor) -> None:
    """Libraries log through ``logging`` (aiokafka's connection and fetch warnings): render their
    records like ours, one JSON object per line in production, so log shippers see one format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_secrets,
                renderer,
            ],
        )
    )
    handler.set_name("tickerstream")
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    # Replace only our own handler (configure_logging may run more than once, e.g. in tests).
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "tickerstream"] + [handler]
    # Libraries are chatty below WARNING; our own loggers are structlog's and follow ``level``.
    root.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))


class RepeatLimiter(logging.Filter):
    """Let one record per (logger, message template, level) through every ``interval_s``.

    During an outage or with a deleted topic, aiokafka logs the same line for every retry, up to a
    thousand a second (and rendering them costs more CPU than the retries). The first occurrence goes
    through at once; repeats within the interval are dropped and counted, and the next one let
    through says how many were left out (``repeated``), so nothing goes unnoticed.
    """

    def __init__(self, interval_s: float = 10.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._seen: dict[tuple[str, object, int], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg, record.levelno)
        now = self._clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.interval_s:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if len(self._seen) > 10_000:  # templates are few; only a misuse could grow this
            self._seen.clear()
        self._seen[key] = (now, 0)
        if last is not None and last[1]:
            record.msg = f"{record.msg} (repeated {last[1]} times in the last {self.interval_s:.0f} s)"
        return True


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
