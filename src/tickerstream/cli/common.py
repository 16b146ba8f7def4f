"""What every tickerstream console script shares: exit codes and turning user mistakes into one line.

A user mistake (bad flag value, missing file, broken config) is reported as a single
``prog: error: ...`` line on stderr with exit code 2, never a traceback. Ctrl-C exits 130,
and a closed stdout (``| head``) ends the program quietly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from tickerstream.engine import EngineConfig

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake the user can fix; the message says what to fix."""


class KafkaUnavailable(Exception):
    """The command was right but Kafka could not be used (unreachable, refused): exit 1, one line."""


class CliParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one ``prog: error: ... (see --help)`` line.

    Parse inside ``run_cli`` so the ``UsageError`` becomes exit code 2 like every other user mistake.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def run_cli(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, mapping user mistakes and interrupts to exit codes without tracebacks."""
    from tickerstream.config import ConfigError

    # SIGTERM (docker stop, systemd, kill) takes the same clean path as Ctrl-C. Commands that run an
    # asyncio loop install their own handlers on it, which take precedence while the loop runs.
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal() works only there
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return body()
    except (UsageError, ConfigError) as exc:
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
    parser.add_argument("--config", metavar="FILE", help="engine settings (TOML); see README 'Configuration'")
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
    from tickerstream.engine.registry import RegistryError

    try:
        config = load_settings(EngineConfig, args.config, overrides=args.overrides, env_section="ENGINE")
        if config.pegs.enabled:  # a broken peg registry is a user mistake: report it before any work
            from tickerstream.engine.registry import load_registry

            load_registry(config.pegs)
    except RegistryError as exc:
        raise UsageError(str(exc)) from None
    return config


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
