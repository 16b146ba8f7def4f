"""What every tickerstream console script shares: the one mapping from errors to exit codes.

Library code raises the errors of :mod:`tickerstream.errors`; only here do they become output and an
exit code. A user mistake (:class:`UsageError`: bad flag value, missing file, broken config or peg
registry, a topic laid out otherwise) is one ``prog: error: ...`` line on stderr and exit 2, never a
traceback. Kafka that cannot be used (:class:`KafkaUnavailable`; see ``cli.kafka_errors``) is one line
and exit 1. Ctrl-C and SIGTERM exit 130, and a closed stdout (``| head``) ends the program quietly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from tickerstream.errors import KafkaUnavailable, UsageError

if TYPE_CHECKING:
    from tickerstream.engine import EngineConfig

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one ``prog: error: ... (see --help)`` line.

    Parse inside ``run_cli`` so the ``UsageError`` becomes exit code 2 like every other user mistake.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def run_cli(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, mapping user mistakes, Kafka failures and interrupts to exit codes."""
    # SIGTERM (docker stop, systemd, kill) takes the same clean path as Ctrl-C. Commands that run an
    # asyncio loop install their own handlers on it, which take precedence while the loop runs.
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal() works only there
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return body()
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KafkaUnavailable as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); point stdout at devnull so the final flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and repeatable ``--set KEY=VALUE`` for the engine's settings."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings (TOML): engine tables and [kafka]; see README 'Configuration'",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one engine setting, e.g. --set moves.zscore_k=5 (repeatable)",
    )


def load_engine_config(args: argparse.Namespace) -> EngineConfig:
    """Defaults < ``--config`` file < ``TICKER_ENGINE__*`` < ``--set`` (see ``tickerstream.config``)."""
    from tickerstream.config import load_settings
    from tickerstream.engine import EngineConfig

    config = load_settings(EngineConfig, args.config, overrides=args.overrides, env_section="ENGINE")
    check_registry(config)
    return config


def check_registry(config: EngineConfig) -> None:
    """Load the peg registry now: a broken one is a usage error before any work (``RegistryError``)."""
    if config.pegs.enabled:
        from tickerstream.engine.registry import load_registry

        load_registry(config.pegs)


def add_logging_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default=os.environ.get("TICKER_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="log verbosity (env TICKER_LOG_LEVEL; default INFO); logs go to stderr",
    )
    parser.add_argument(
        "--log-format",
        choices=["auto", "json", "console"],
        default="auto",
        help="log format: auto = JSON unless stderr is a terminal (default auto)",
    )


def configure_from_args(args: argparse.Namespace) -> None:
    from tickerstream.log import configure_logging

    fmt = args.log_format
    configure_logging(args.log_level, json=None if fmt == "auto" else fmt == "json")
