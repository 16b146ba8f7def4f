"""What the recording readers have seen so far: shared by every input kind of ``replay/inputs.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tickerstream.model import Reject


@dataclass(slots=True)
class ReadStats:
    """What the readers have seen so far (for the summary and the progress line)."""

    bytes_total: int = 0
    #: Bytes consumed so far per input file (streams are read interleaved by the merge).
    positions: dict[str, int] = field(default_factory=dict)
    records: int = 0
    reject_counts: dict[str, int] = field(default_factory=dict)
    #: Where rejects go (e.g. a --rejects file); counted either way, so none is lost silently.
    reject_sink: Callable[[Reject], None] | None = None

    @property
    def bytes_read(self) -> int:
        return sum(self.positions.values())

    def reject(self, reject: Reject) -> None:
        self.reject_counts[reject.reason.value] = self.reject_counts.get(reject.reason.value, 0) + 1
        if self.reject_sink is not None:
            self.reject_sink(reject)
