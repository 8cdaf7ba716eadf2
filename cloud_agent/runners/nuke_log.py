"""Reads the output of ``nuke -x`` (Nuke rendering Write nodes from the command line).

Lines understood, as Nuke prints them when it executes a script:

* ``Writing /shots/sh010/comp/sh010.0007.exr took 1.53 seconds`` after each file it writes
  (``.tmp`` files being renamed are reported with their final name);
* ``Frame 7 (2 of 10)`` as it moves through the frame range;
* ``ERROR: Read1: /plates/sh010.0007.exr: No such file or directory`` (Nuke 13 and later
  put a clock in front: ``[14:02.11] ERROR: ...``) and ``Error: ...`` lines.
"""

from __future__ import annotations

import re

from cloud_agent.runners.batch import FileWritten, FrameStarted, LogError, LogEvent

_WRITING = re.compile(r"^(?:\[[\d:.]+\]\s*)?Writing (.+?) took [\d.]+ seconds")
_FRAME = re.compile(r"^(?:\[[\d:.]+\]\s*)?Frame (-?\d+) \((\d+) of (\d+)\)")
_ERROR = re.compile(r"^(?:\[[\d:.]+\]\s*)?(?:ERROR|Error):\s*(.*)$")


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
    return None
