"""``--archive``: the ticks Kafka acknowledged, in the order they were accepted, as JSON Lines or
Parquet (any :class:`ArchiveSink`: what is acknowledged is decided here, the format by the sink).

Why not write a tick when it is accepted: a batch that is never acknowledged (an outage longer than
the delivery timeout, an error that cannot pass, a forced stop) left its ticks in the archive though
they never reached the topic, so a replay of the archive saw ticks no processor ever did. Here each
accepted run of ticks (one ``send_encoded`` call) waits, every tick noting the record batch that
carries it, until each batch the run touches is settled: ticks of acknowledged batches are written,
ticks of abandoned batches are left out and counted. Runs are written strictly in acceptance order, so
a batch acknowledged late (a retry after an outage) holds back the runs after it instead of landing
after them: the file keeps the stream's order, like the archive written at acceptance did.

Memory: a run waits only while a batch it touches is open, in flight or waiting for a retry, all of
which the producer already bounds (``max_in_flight``), so the waiting runs are bounded alike.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable


@runtime_checkable
class ArchiveSink(Protocol):
    """Where acknowledged ticks go: ``write_values`` gets tick records (JSON) in acceptance order.

    ``columnar.ParquetFile`` and ``columnar.ParquetDataset`` are sinks; a binary file is wrapped in
    :class:`JsonLinesSink`. The sink is closed by whoever opened it, after the producer stopped.
    """

    def write_values(self, values: list[bytes]) -> None: ...

    def flush(self) -> None: ...


class JsonLinesSink:
    """Tick records appended to a binary file, one per line (the replay's JSON Lines)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def write_values(self, values: list[bytes]) -> None:
        values.append(b"")  # a newline after the last line too (the list is ours to change)
        self.file.write(b"\n".join(values))

    def flush(self) -> None:
        self.file.flush()


@dataclass(slots=True)
class _Run:
    """Ticks accepted by one call, in order, with the batch (its identity) holding each."""

    number: int
    values: list[bytes]
    owners: list[object]


class AckedArchive:
    """Hands accepted ticks to ``sink`` once Kafka has acknowledged the batches that carry them
    (a binary file: JSON Lines appended to it).

    The producer tells it, in this order: :meth:`track` for each ticks batch it opens while accepting
    a run, :meth:`accept` for the run, then :meth:`acked` or :meth:`abandoned` once per batch (a batch
    is identified by the object first created for it, whatever retries rebuild). :meth:`close` abandons
    what never settled and writes the rest.
    """

    def __init__(self, sink: BinaryIO | ArchiveSink) -> None:
        self.sink: ArchiveSink = sink if isinstance(sink, ArchiveSink) else JsonLinesSink(sink)
        #: Ticks written to the file, and ticks left out because their batch was never acknowledged.
        self.written = 0
        self.left_out = 0
        self._runs: deque[_Run] = deque()
        self._next_run = 0
        #: Unsettled batches -> number of the first run with a tick in them.
        self._pending: dict[object, int] = {}
        #: Abandoned batches that a waiting run may still hold ticks of.
        self._abandoned: set[object] = set()

    def track(self, batch: object) -> None:
        """``batch`` was opened for the run being accepted (the next :meth:`accept`)."""
        self._pending[batch] = self._next_run

    def accept(self, values: list[bytes], owners: list[object]) -> None:
        """A run of accepted ticks (``values``, taken over) and the batch of each (``owners[i]``)."""
        self._runs.append(_Run(self._next_run, values, owners))
        self._next_run += 1
        self._drain()

    def acked(self, batch: object) -> None:
        """Kafka acknowledged ``batch``: its ticks may be written."""
        if self._pending.pop(batch, None) is not None:
            self._drain()

    def abandoned(self, batch: object) -> None:
        """``batch`` will never be acknowledged: its ticks stay out of the file."""
        if self._pending.pop(batch, None) is not None:
            self._abandoned.add(batch)
            self._drain()

    def flush(self) -> None:
        self.sink.flush()

    def close(self) -> None:
        """End of the run: batches still unsettled (never sent after a failure) count as abandoned."""
        self._abandoned.update(self._pending)
        self._pending.clear()
        self._drain()
        self.sink.flush()

    def _drain(self) -> None:
        """Write the waiting runs, oldest first, up to the first one that touches an unsettled batch."""
        while self._runs:
            run = self._runs[0]
            if self._pending and min(self._pending.values()) <= run.number:
                return
            self._runs.popleft()
            self._write(run)
        # No run left that could hold their ticks: new runs only touch batches opened after now.
        self._abandoned.clear()

    def _write(self, run: _Run) -> None:
        values = run.values
        if self._abandoned and not self._abandoned.isdisjoint(run.owners):
            values = [v for v, owner in zip(values, run.owners, strict=True) if owner not in self._abandoned]
            self.left_out += len(run.values) - len(values)
        if values:
            self.written += len(values)
            self.sink.write_values(values)
