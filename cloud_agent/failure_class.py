"""Why a render failed, read from its runner's log lines and from how its process ended.

Each DCC's log reader (``runners/blender_log.py``, ``maya_log.py``, ``houdini_log.py``,
``nuke_log.py``) names the lines of its products that tell a failure apart (``FAILURE_LINES``);
``COMMON_LINES`` holds those any program may print (an allocator or a GPU out of memory, a
licence server's own words). A ``FailureWatch`` is fed every line of an attempt and keeps the
first line of each class; ``classify`` then decides, in this order:

1. the attempt ran past its time limit: ``timeout``; it printed nothing and made no progress
   for its stall time: ``stalled``;
2. killed by SIGKILL after an out-of-memory line, or while the kernel's OOM killer struck the
   agent's cgroup: ``out_of_memory``; killed by SIGSEGV, SIGABRT, SIGBUS, SIGILL or SIGFPE:
   ``crash`` (a negative exit code, or a shell's 128 + n);
3. a line of a class, strongest first: ``licence``, ``missing_file``, ``bad_scene``,
   ``out_of_memory``;
4. killed by another signal: ``crash``; otherwise ``render_error``.

The patterns are narrow on purpose: ``missing_file`` and ``bad_scene`` fail a task without
retries, so an ordinary line must never read as one.
"""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

from cloud_agent.runners import blender_log, houdini_log, maya_log, nuke_log
from common.models import FailureClass

FailureLines: TypeAlias = Sequence[tuple[FailureClass, re.Pattern[str]]]
"""Line patterns, each with the class of failure a matching line tells."""

#: Lines any renderer, interpreter or licence client may print.
COMMON_LINES: FailureLines = (
    # Reprise (RLM: Arnold, Redshift, Foundry, V-Ray 3) and FlexLM/Autodesk clients.
    (FailureClass.LICENCE, re.compile(r"\bNo licen[cs]es? (?:available|for product)\b", re.I)),
    (FailureClass.LICENCE, re.compile(r"\bAll licen[cs]es (?:are )?in use\b", re.I)),
    (FailureClass.LICENCE, re.compile(r"\bCommunications error with licen[cs]e server\b", re.I)),
    (
        FailureClass.LICENCE,
        re.compile(
            r"\b(?:unable|failed|could not|cannot|can't) (?:to )?"
            r"(?:get|obtain|acquire|check ?out) (?:a |any |a valid )?licen[cs]e\b",
            re.I,
        ),
    ),
    (FailureClass.LICENCE, re.compile(r"\bLicen[cs]e checkout failed\b", re.I)),
    # Allocators and GPUs out of memory.
    (FailureClass.OUT_OF_MEMORY, re.compile(r"^\s*(?:\w+\.)*MemoryError\b")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bstd::bad_alloc\b")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bCUDA(?: error)?:? out of memory\b", re.I)),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bCUDA_ERROR_OUT_OF_MEMORY\b")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bcudaErrorMemoryAllocation\b")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bCannot allocate memory\b")),
)

#: Each DCC's own lines, found by the job's ``dcc``.
DCC_LINES: Mapping[str, FailureLines] = {
    "blender": blender_log.FAILURE_LINES,
    "maya": maya_log.FAILURE_LINES,
    "houdini": houdini_log.FAILURE_LINES,
    "nuke": nuke_log.FAILURE_LINES,
}

#: When lines of several classes appear, the first of these wins.
LINE_ORDER = (
    FailureClass.LICENCE,
    FailureClass.MISSING_FILE,
    FailureClass.BAD_SCENE,
    FailureClass.OUT_OF_MEMORY,
)

#: Signals of a program that died of its own fault.
CRASH_SIGNALS = frozenset(
    {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE}
)
#: Signals a shell's exit status 128 + n is read as (a wrapper script such as Maya's ``Render``
#: reports its child's death so); other statuses above 128 are a program's own.
_SHELL_SIGNALS = CRASH_SIGNALS | {signal.SIGKILL}


def lines_for(dcc: str) -> FailureLines:
    """The patterns of a DCC's renders: its own, then the common ones."""
    return (*DCC_LINES.get(dcc, ()), *COMMON_LINES)


class FailureWatch:
    """Keeps the first line of each failure class an attempt printed. One thread (the run's)."""

    def __init__(self, lines: FailureLines) -> None:
        self.lines = lines
        self.found: dict[FailureClass, str] = {}

    def feed(self, line: str) -> None:
        """Reads one line of output (without its line ending)."""
        if len(self.found) == len(LINE_ORDER):
            return
        for failure, pattern in self.lines:
            if failure not in self.found and pattern.search(line):
                self.found[failure] = line.strip()[:500]

    def strongest(self) -> FailureClass | None:
        """The class the lines tell, by ``LINE_ORDER``; None when no line told one."""
        return next((failure for failure in LINE_ORDER if failure in self.found), None)


def killed_by(exit_code: int | None) -> signal.Signals | None:
    """The signal that ended a process, from ``subprocess``'s negative code or a shell's
    128 + n; None when it exited by itself."""
    if exit_code is None:
        return None
    number = -exit_code if exit_code < 0 else exit_code - 128 if exit_code > 128 else 0
    try:
        sig = signal.Signals(number)
    except ValueError:
        return None
    if exit_code > 0 and sig not in _SHELL_SIGNALS:
        return None
    return sig


def classify(
    found: FailureClass | None,
    *,
    exit_code: int | None,
    timed_out: bool = False,
    stalled: bool = False,
    oom_killed: bool = False,
) -> FailureClass:
    """The class of a failed attempt (see the module's docstring for the order).

    Args:
        found: the class the attempt's lines told (``FailureWatch.strongest``).
        exit_code: the process's exit code (negative: a signal); None when it never started.
        timed_out: it was stopped at its time limit.
        stalled: it was stopped for printing nothing and making no progress.
        oom_killed: the kernel's OOM killer struck while it ran.
    """
    if timed_out:
        return FailureClass.TIMEOUT
    if stalled:
        return FailureClass.STALLED
    sig = killed_by(exit_code)
    if sig is signal.SIGKILL and (found is FailureClass.OUT_OF_MEMORY or oom_killed):
        return FailureClass.OUT_OF_MEMORY
    if sig in CRASH_SIGNALS:
        return FailureClass.CRASH
    if found is not None:
        return found
    return FailureClass.CRASH if sig is not None else FailureClass.RENDER_ERROR


def oom_kills(
    proc: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """How many processes the kernel's OOM killer has killed in this agent's cgroup (v2) and
    below it; None where that cannot be read (cgroup v1, another OS)."""
    with contextlib.suppress(OSError, ValueError):
        for line in proc.read_text().splitlines():
            hierarchy, _, path = line.split(":", 2)
            if hierarchy != "0":
                continue
            events = root / path.lstrip("/") / "memory.events"
            for entry in events.read_text().splitlines():
                name, _, count = entry.partition(" ")
                if name == "oom_kill":
                    return int(count)
    return None
