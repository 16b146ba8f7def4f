"""stdin as an async stream of byte chunks, read without ever blocking the event loop.

``ticker-produce`` reads stdin both as one snapshot and, with ``--follow``, as a stream, while the
same event loop keeps sending batches and collecting acks. A blocking ``read()`` on the loop would
stall both; a read in ``asyncio.to_thread`` would hold interpreter exit (SIGTERM while waiting for
input). So a daemon thread reads and hands chunks over through a small queue.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator

#: Bytes asked for per ``os.read``: a pipe returns what it has, up to this.
READ_BYTES = 1 << 20


async def stdin_chunks(stop: asyncio.Event) -> AsyncIterator[bytes]:
    """Chunks of stdin as they arrive, until end of input or until ``stop`` is set.

    The queue is small (8 chunks) so a fast writer waits for a slow consumer instead of filling memory.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    fd = sys.stdin.fileno()

    def reader() -> None:
        while True:
            try:
                data = os.read(fd, READ_BYTES)
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
