"""The one place where a Kafka client's failure becomes a user-facing error (exit 1, one line).

Kept apart from ``cli.common`` so that commands that never talk to Kafka (``ticker-parse``,
``ticker-replay`` on files) do not import the Kafka client at start-up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from aiokafka.errors import KafkaConnectionError, KafkaError

from tickerstream.errors import KafkaUnavailable, describe


@contextlib.contextmanager
def kafka_failures(bootstrap: str) -> Iterator[None]:
    """Inside the block, a Kafka client error (or a network error or time-out talking to the broker)
    becomes :class:`KafkaUnavailable` naming the broker; ``run_cli`` prints it and exits 1.

    Errors of our own (a usage error, a failed delivery) pass through unchanged: they say more."""
    try:
        yield
    except BrokenPipeError:
        raise  # stdout was closed (`| head`): not Kafka's fault; run_cli ends quietly
    except (KafkaConnectionError, TimeoutError, ConnectionError) as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap}: {describe(exc)}") from None
    except (KafkaError, OSError) as exc:
        raise KafkaUnavailable(f"Kafka at {bootstrap}: {describe(exc)}") from None
