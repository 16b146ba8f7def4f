"""The external tools some tests run: Debian's ``prometheus`` package (promtool, prometheus) and
headless Chromium.

A test that runs one carries the tool's marker (``promtool`` or ``chromium``, see pyproject.toml), so
``make test-unit`` can leave it out on a machine without the tool. A missing tool fails the test,
locally and in CI alike (like a missing Kafka broker): a check that skips proves nothing. ``.ci/run``
installs the tools (``make system-deps``); locally the message says how.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO

INSTALL_HINT = "install Debian's prometheus package: sudo apt-get install -y prometheus"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH; {INSTALL_HINT}", pytrace=False)
    return path


def promtool(*args: str, stdin: bytes | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run promtool; the caller asserts on returncode with the output in the message."""
    return subprocess.run(
        [require_tool("promtool"), *args],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is required for this test: apt-get install chromium (.ci/run does)")
    return path
