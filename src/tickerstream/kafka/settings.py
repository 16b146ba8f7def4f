"""Where the broker is and what the topics are called: the Kafka part of tickerstream's settings.

Plain dataclasses with defaults, so :func:`tickerstream.config.load_settings` can layer a TOML file,
``TICKER_*`` variables and ``--set`` flags over them like every other settings section.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Any

from tickerstream.errors import ConfigError

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class TopicNames:
    """The topic names of the design's contracts (docs: DESIGN.md, "Topics")."""

    ticks: str = "ticker.ticks"  # Tick JSON, key = symbol
    moves: str = "ticker.moves"  # Move events
    pegs: str = "ticker.pegs"  # PegEvent events
    quality: str = "ticker.quality"  # Quality (a source's 24 h change vs the history), Source (frozen)
    rejects: str = "ticker.rejects"  # dead letters: raw input + reason + source
    #: Base name of the reference-price topics: each processor group has its own, ``<refprices>.<group>``
    #: (compacted, key = symbol; every instance of the group reads it in full).
    refprices: str = "ticker.refprices"


@dataclass(frozen=True)
class KafkaSettings:
    """Broker address and topic layout.

    ``ticks_partitions`` is part of the recovery design: processor state is kept per input partition
    and symbols are assigned to partitions by key hash, so a ticks topic with another partition count is
    refused at start-up (see :class:`tickerstream.kafka.admin.TopicMismatch`) rather than used.

    Security (``security_protocol``, ``sasl_*``, ``ssl_cafile``) reaches every client through
    :meth:`client_kwargs`. The password is left out of ``repr`` and the logs redact it
    (:mod:`tickerstream.log`); give it by environment (``TICKER_KAFKA__SASL_PASSWORD``) or a config
    file rather than ``--set``, which other users of the machine can read in the process list.
    """

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    topics: TopicNames = field(default_factory=TopicNames)
    ticks_partitions: int = 6
    events_partitions: int = 1
    replication_factor: int = 1
    ticks_retention_ms: int = 7 * 24 * 3600 * 1000
    events_retention_ms: int = 30 * 24 * 3600 * 1000
    rejects_retention_ms: int = 14 * 24 * 3600 * 1000
    create_topics: bool = True
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    #: CA bundle for SSL/SASL_SSL; empty = the system's trust store.
    ssl_cafile: str = ""

    def __post_init__(self) -> None:
        for name in ("ticks_partitions", "events_partitions", "replication_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"security_protocol must be one of {', '.join(SECURITY_PROTOCOLS)}")
        if self.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(f"sasl_mechanism must be one of {', '.join(SASL_MECHANISMS)}")
        if self.security_protocol.startswith("SASL_") and not self.sasl_username:
            raise ValueError(f"security_protocol {self.security_protocol} needs sasl_username")
        if self.ssl_cafile and not os.path.isfile(self.ssl_cafile):
            raise ValueError(f"ssl_cafile {self.ssl_cafile} is not a file")

    def client_kwargs(self) -> dict[str, Any]:
        """Connection options for every aiokafka client (producer, consumer, admin); empty for
        PLAINTEXT, so plain set-ups build their clients exactly as before."""
        kw: dict[str, Any] = {}
        if self.security_protocol == "PLAINTEXT":
            return kw
        kw["security_protocol"] = self.security_protocol
        if self.security_protocol.startswith("SASL_"):
            kw["sasl_mechanism"] = self.sasl_mechanism
            kw["sasl_plain_username"] = self.sasl_username
            kw["sasl_plain_password"] = self.sasl_password
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            try:
                kw["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile or None)
            except (OSError, ssl.SSLError) as exc:  # unreadable, or not PEM certificates
                raise ConfigError(f"ssl_cafile {self.ssl_cafile}: not a usable CA bundle ({exc})") from None
        return kw
