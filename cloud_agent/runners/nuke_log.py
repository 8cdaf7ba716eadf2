"""Reads the output of ``nuke -x`` (Nuke rendering Write nodes from the command line).

Lines understood, as Nuke prints them when it executes a script:

* ``Writing /shots/sh010/comp/sh010.0007.exr took 1.53 seconds`` after each file it writes
  (``.tmp`` files being renamed are reported with their final name);
* ``Frame 7 (2 of 10)`` as it moves through the frame range;
* ``ERROR: Read1: /plates/sh010.0007.exr: No such file or directory`` (Nuke 13 and later
  put a clock in front: ``[14:02.11] ERROR: ...``) and ``Error: ...`` lines;
* the licence client's ``Foundry licensing error: ...``, which Nuke prints before it exits
  without reading the script (an error, so the task names it).
"""

from __future__ import annotations

import re

from cloud_agent.runners.batch import FileWritten, FrameStarted, LogError, LogEvent
from common.models import FailureClass

_WRITING = re.compile(r"^(?:\[[\d:.]+\]\s*)?Writing (.+?) took [\d.]+ seconds")
_FRAME = re.compile(r"^(?:\[[\d:.]+\]\s*)?Frame (-?\d+) \((\d+) of (\d+)\)")
#: An error line of Nuke, with or without its clock.
_ERROR_LINE = r"^(?:\[[\d:.]+\]\s*)?(?:ERROR|Error):"
_ERROR = re.compile(_ERROR_LINE + r"\s*(.*)$")
_LICENCE_ERROR = re.compile(
    r"^(?:\[[\d:.]+\]\s*)?(Foundry licen[cs](?:e|ing) (?:error|failure)\b.*)$", re.I
)

#: Lines that tell why a Nuke render failed (``cloud_agent.failure_class``): no licence (the
#: Foundry licence client, RLM); a script or a plate missing (``Read1: ...: No such file or
#: directory``, ``Missing frame``); a script Nuke cannot run (a syntax error, no Write node);
#: memory ran out.
FAILURE_LINES: tuple[tuple[FailureClass, re.Pattern[str]], ...] = (
    (FailureClass.LICENCE, re.compile(r"\bFoundry licen[cs](?:e|ing) (?:error|failure)\b", re.I)),
    (FailureClass.LICENCE, re.compile(r"\bLicen[cs]e (?:not found|unavailable|expired)\b", re.I)),
    (
        FailureClass.MISSING_FILE,
        re.compile(_ERROR_LINE + r".*: No such file or directory\b"),
    ),
    (FailureClass.MISSING_FILE, re.compile(r"^\S+\.nk: No such file or directory\b")),
    (
        FailureClass.MISSING_FILE,
        re.compile(_ERROR_LINE + r".*\bMissing frame\b", re.I),
    ),
    (
        FailureClass.BAD_SCENE,
        re.compile(
            _ERROR_LINE + r".*\b(?:unknown command|syntax error|unexpected end of file)\b",
            re.I,
        ),
    ),
    (FailureClass.BAD_SCENE, re.compile(r"\bno active Write operators\b", re.I)),
    (
        FailureClass.OUT_OF_MEMORY,
        re.compile(_ERROR_LINE + r".*\bout of memory\b", re.I),
    ),
)


def parse_line(line: str) -> LogEvent | None:
    """The event one line of Nuke's output reports, or None."""
    text = line.rstrip("\r\n")
    match = _WRITING.match(text)
    if match:
        return FileWritten(match.group(1).strip())
    match = _FRAME.match(text)
    if match:
        return FrameStarted(int(match.group(1)))
    match = _ERROR.match(text)
    if match:
        return LogError(match.group(1).strip() or text.strip())
    match = _LICENCE_ERROR.match(text)
    if match:
        return LogError(match.group(1).strip())
    return None
