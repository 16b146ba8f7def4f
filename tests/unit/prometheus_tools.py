"""Finding Debian's ``prometheus`` package tools for the tests that check metrics, config and rules.

A missing tool fails the test, locally and in CI alike (like a missing Kafka broker): a check that
skips proves nothing. ``.ci/run`` installs the package; locally the message says how.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
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
