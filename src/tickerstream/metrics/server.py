"""Serving ``/metrics``: one HTTP port per process (no multiprocess mode).

Default ports (docs/observability.md): ticker-produce 9321, ticker-process 9322. They stay clear
of node_exporter's 9100, which Debian's ``prometheus`` package pulls in next to the processes.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from tickerstream.errors import MetricsServerError

PRODUCER_PORT = 9321
PROCESSOR_PORT = 9322


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A running ``/metrics`` endpoint (a daemon thread); ``port`` is the bound port."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(host: str, port: int, registry: CollectorRegistry) -> MetricsServer:
    """Serve ``registry`` on ``http://host:port/metrics`` from a daemon thread. Port 0 picks a
    free port (see ``.port``). A taken port or a bad host is a ``MetricsServerError``."""
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "port already in use; choose another with --metrics-port (0 = any free port)"
        else:
            why = exc.strerror or str(exc)
        raise MetricsServerError(f"cannot serve metrics on {host}:{port}: {why}") from None
    return MetricsServer(host, int(server.server_port), server, thread)
