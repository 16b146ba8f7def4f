"""The error types every layer raises; only ``tickerstream.cli`` turns them into messages and exit codes.

Two families decide what a user sees:

* :class:`UsageError` and its subclasses are mistakes the user can fix (a bad flag, a missing file,
  a broken config or peg registry, a topic laid out differently from what the command expects). The
  command prints one ``prog: error: ...`` line and exits 2. The message says what to fix.
* :class:`KafkaUnavailable` means the command was right but Kafka could not be used (unreachable,
  refused, a delivery that failed for good): one line, exit 1.

Library code raises these (or lets a client library's own error through); it never prints and never
chooses an exit code. Errors that stay inside one stage (a checkpoint that cannot be read, a tick
that is not valid) live with the code that raises and handles them.
"""

from __future__ import annotations


class TickerstreamError(Exception):
    """Base of the errors below, so a caller can catch everything tickerstream itself raises."""


class UsageError(TickerstreamError):
    """A mistake the user can fix; the message says what to fix (exit 2)."""


class ConfigError(UsageError):
    """A setting could not be applied; the message names the key and what is expected."""


class RegistryError(UsageError):
    """The peg registry file is not valid; the message names the file and the entry."""


class SourceError(UsageError):
    """An input file or directory cannot be read; the message names it and says why."""


class InputError(UsageError):
    """A recorded input (replay, main job) cannot be used; the message says which and why."""


class TopicError(UsageError):
    """A topic is missing or laid out differently from what the command needs (exit 2)."""


class TopicReadError(UsageError):
    """A range of a topic cannot be read as asked (no such topic, an empty range)."""


class MetricsServerError(UsageError):
    """The metrics endpoint could not be bound; the message says which address and what to do."""


class KafkaUnavailable(TickerstreamError):
    """The command was right but Kafka could not be used (unreachable, refused): exit 1, one line."""


class ProduceError(KafkaUnavailable):
    """A batch could not be delivered to Kafka (after the client's own retries)."""


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``: enough to say what failed, on one line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
