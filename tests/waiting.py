"""Waiting for what other threads and processes do, in tests: no sleep of a guessed length."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 20.0


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Returns once ``predicate()`` is true; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """The process is dead: no such process, or a zombie waiting for init to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")
