"""The one place where a Kafka client's failure becomes a user-facing error (exit 1, one line).

Kept apart from ``cli.common`` so that commands that never talk to Kafka (``ticker-parse``,
``ticker-replay`` on files) do not import the Kafka client at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from aiokafka.errors import KafkaConnectionError, KafkaError

from tickerstream.errors import KafkaUnavailable, describe

#: aiokafka's log line for a failed connection attempt; its text holds the real cause.
_UNABLE = re.compile(r'^Unable connect to "[^"]*": (?P<why>.+)$', re.DOTALL)


class _ConnectFailures(logging.Handler):
    """Keeps the cause of the last failed connection: aiokafka logs it ("invalid credentials",
    "certificate verify failed") and then raises a bare "Unable to bootstrap from [...]"."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        m = _UNABLE.match(record.getMessage())
        if m:
            self.last = m.group("why").strip().splitlines()[0]


@contextlib.contextmanager
def kafka_failures(bootstrap: str) -> Iterator[None]:
    """Inside the block, a Kafka client error (or a network error or time-out talking to the broker)
    becomes :class:`KafkaUnavailable` naming the broker; ``run_cli`` prints it and exits 1.

    Errors of our own (a usage error, a failed delivery) pass through unchanged: they say more.
    A refused login or an untrusted certificate is named as such (the client only says "Unable to
    bootstrap"), so a wrong password or CA reads as what it is."""
    failures = _ConnectFailures()
    client_log = logging.getLogger("aiokafka")
    client_log.addHandler(failures)
    try:
        yield
    except BrokenPipeError:
        raise  # stdout was closed (`| head`): not Kafka's fault; run_cli ends quietly
    except (KafkaConnectionError, TimeoutError, ConnectionError) as exc:
        why = failures.last or describe(exc)
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap}: {why}") from None
    except (KafkaError, OSError) as exc:
        raise KafkaUnavailable(f"Kafka at {bootstrap}: {describe(exc)}") from None
    finally:
        client_log.removeHandler(failures)
