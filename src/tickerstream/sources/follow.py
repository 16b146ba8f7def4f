"""Inputs that keep arriving: a file that grows, a directory that new files are dropped into, a pipe.

Used by ``ticker-produce --follow``. The classes here only read bytes (no Kafka, no clock of their
own), so they are tested without a broker; the command's event loop polls them.

Event time of followed text. A growing file has no timestamps of its own, so **the complete lines
read in one poll form one snapshot, and its event time is the wall-clock time at which they were
read** (ingestion time). Repeats of the same (symbol, price) are collapsed within such a chunk only,
as within one page. Lines are only parsed once complete (up to their newline); a partial last line
waits for the next poll. A coin-id slug line at the very end of one chunk still belongs to the record
at the start of the next: :class:`LineChunker` carries it over as context.

Files dropped into a followed directory are whole snapshots, timed like any input file (a timestamp
in the name, else the mtime), and taken once their size and mtime have stayed the same for one poll,
so a file still being written is not read half-way (writers should still write to a hidden name,
``.name``, and rename it: hidden files and ``*.tmp``/``*.part`` are ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

from tickerstream.parse import MAX_LINE_CHARS
from tickerstream.parse.slugs import as_slug

#: A partial line longer than this (bytes) is cut and handed over as if complete (the parser rejects it as
#: too long if it could hold a price); the rest up to its newline is dropped. Bounds memory per input.
MAX_PENDING_BYTES = 4 * MAX_LINE_CHARS + 4
#: Bytes read from a followed file per call, so one huge append is handled in bounded pieces.
READ_BYTES = 4 * 1024 * 1024
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")


class LineChunker:
    """Turns a byte stream into chunks of complete lines, each with the context the parser needs.

    ``push`` returns the complete lines received so far (possibly empty), prefixed with the previous
    chunk's trailing slug line (and the blank lines after it) when there was one; that context line
    is not a record, so parsing it again yields nothing twice.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._context = b""
        self._skipping = False  # inside the tail of an over-long line that was already handed over

    def push(self, data: bytes) -> bytes:
        """Feed bytes; return complete lines (with context prefix) ready to parse, or ``b""``."""
        if self._skipping:
            nl = data.find(b"\n")
            if nl < 0:
                return b""
            self._skipping = False
            data = data[nl + 1 :]
        buf = self._pending + data if self._pending else data
        cut = buf.rfind(b"\n")
        if cut < 0:
            if len(buf) > MAX_PENDING_BYTES:
                self._pending = b""
                self._skipping = True
                return self._with_context(buf + b"\n")
            self._pending = buf
            return b""
        self._pending = buf[cut + 1 :]
        return self._with_context(buf[: cut + 1])

    def finish(self) -> bytes:
        """At end of input: the last line even without its newline (``b""`` if none)."""
        rest, self._pending = self._pending, b""
        self._skipping = False
        return self._with_context(rest + b"\n") if rest else b""

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    def _with_context(self, lines: bytes) -> bytes:
        out = self._context + lines if self._context else lines
        self._context = _trailing_slug(out)
        return out


def _trailing_slug(text: bytes) -> bytes:
    """The last non-blank line of ``text`` and the blank lines after it, if that line is a slug."""
    stripped = text.rstrip()
    if not stripped:
        return b""
    start = stripped.rfind(b"\n") + 1
    line = stripped[start:]
    try:
        is_slug = len(line) <= 128 and as_slug(line.decode("utf-8")) is not None
    except UnicodeDecodeError:
        return b""
    return text[start:] if is_slug else b""


class FollowedFile:
    """Reads what is appended to one file, like ``tail -F``: survives truncation and replacement.

    ``start_at_end=False`` (the default) reads the existing content first, then what is appended.
    If the file is truncated, reading starts again at its beginning; if it is replaced (another inode
    at the path, e.g. log rotation), the old file is read to its end and the new one from its start.
    A missing file is waited for.
    """

    def __init__(self, path: str | os.PathLike[str], *, start_at_end: bool = False) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._position = 0
        self._start_at_end = start_at_end
        #: How often the file was truncated or replaced (for logs).
        self.restarts = 0

    def read(self, limit: int = READ_BYTES) -> bytes:
        """Up to ``limit`` new bytes (``b""`` if nothing new); call again until it returns ``b""``."""
        fd = self._ensure_open()
        if fd is None:
            return b""
        data = os.pread(fd, limit, self._position)
        if data:
            self._position += len(data)
            return data
        # At the end of what we have open: has the path been replaced or truncated meanwhile?
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return b""
        if (st.st_dev, st.st_ino) != self._identity:
            self._close()  # the old file was read to its end; the new one is read from its start
            self.restarts += 1
            return self.read(limit)
        if st.st_size < self._position:
            self._position = 0
            self.restarts += 1
            return self.read(limit)
        return b""

    def close(self) -> None:
        self._close()

    def _ensure_open(self) -> int | None:
        if self._fd is not None:
            return self._fd
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError):
            return None
        st = os.fstat(fd)
        self._fd = fd
        self._identity = (st.st_dev, st.st_ino)
        self._position = st.st_size if self._start_at_end else 0
        self._start_at_end = False  # a replacement file is read from its start
        return fd

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._identity = None
        self._position = 0


class DirectoryWatcher:
    """Finds files that appear in a directory tree, each reported once, when it has stopped changing.

    A file is *ready* when two successive polls saw the same size and mtime. Files present at the first
    poll are new too (so a restart re-reads an inbox that was not emptied: move processed files away).
    A file that disappears is forgotten, so the same name dropped again is read again.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._candidates: dict[Path, tuple[int, int]] = {}
        self._done: set[Path] = set()

    def poll(self) -> list[Path]:
        """Files that became ready since the last poll, in sorted order."""
        present: dict[Path, tuple[int, int]] = {}
        for path in _walk(self.root):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            present[path] = (st.st_size, st.st_mtime_ns)
        self._done &= present.keys()
        ready: list[Path] = []
        candidates: dict[Path, tuple[int, int]] = {}
        for path, sig in present.items():
            if path in self._done:
                continue
            if self._candidates.get(path) == sig:
                ready.append(path)
                self._done.add(path)
            else:
                candidates[path] = sig
        self._candidates = candidates
        return sorted(ready)


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            out.append(Path(dirpath) / name)
    return out
