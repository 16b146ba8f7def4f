"""``child_processes``: every subprocess a test starts is stopped when the test ends, pass or fail.

A test that fails half-way (an assertion, a time-out) skips its own clean-up code after that point; a
``ticker-process`` left running then spins on deleted topics (re-parented to PID 1), eats the CPU the
next tests need, and they fail in turn. Tests register each process they start here right after
starting it; at teardown whatever still runs gets SIGTERM, and SIGKILL if it is still there after a
grace period (the process's own shutdown, not this machine's speed, decides whether it stops at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import TypeVar

import pytest

#: How long a child gets to exit on SIGTERM before SIGKILL (a processor commits and leaves its group).
GRACE_S = 15.0

AnyProcess = subprocess.Popen[bytes] | subprocess.Popen[str] | asyncio.subprocess.Process
P = TypeVar("P", subprocess.Popen[bytes], subprocess.Popen[str], asyncio.subprocess.Process)


def _running(proc: AnyProcess) -> bool:
    if isinstance(proc, subprocess.Popen):
        return proc.poll() is None
    if proc.returncode is not None:
        return False
    # Reaping an asyncio child is its loop's job (waitpid here would race its child watcher), so ask
    # the kernel without reaping: an exited child that nobody waited for yet is a zombie ("Z").
    try:
        with open(f"/proc/{proc.pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != b"Z"


def _signal(proc: AnyProcess, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def stop_processes(procs: list[AnyProcess], grace_s: float = GRACE_S) -> list[int]:
    """SIGTERM, then SIGKILL what is left after ``grace_s``; returns the pids that needed SIGKILL."""
    alive = [p for p in procs if _running(p)]
    for p in alive:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _running(p)]
    for p in alive:
        _signal(p, signal.SIGKILL)
        if isinstance(p, subprocess.Popen):
            p.wait()
    return [p.pid for p in alive]


class ChildProcesses:
    """The processes one test started (``add`` returns its argument, for ``p = children.add(...)``)."""

    def __init__(self) -> None:
        self.procs: list[AnyProcess] = []

    def add(self, proc: P) -> P:
        self.procs.append(proc)
        return proc


@pytest.fixture
def child_processes() -> Iterator[ChildProcesses]:
    children = ChildProcesses()
    try:
        yield children
    finally:
        stop_processes(children.procs)
