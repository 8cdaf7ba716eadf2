"""Reads the output of Maya's ``Render`` command, one line at a time.

Formats understood (each renderer prints its own lines inside Maya's batch log):

* Maya Software: ``Percentage of rendering done: 40 (/proj/images/shot.0007.iff)`` (also in
  the ``// Result: ... //`` form the script editor echoes), ``Starting Rendering <image>``
  and ``Finished Rendering <image>.``;
* Arnold (MtoA): ``[mtoa] Rendering Frame: 7 (1/3)  Camera: perspShape``, the core's
  ``00:00:02  1534MB         |    20% done - 14 rays/pixel``, ``[driver_exr] writing file
  `/proj/images/shot.0007.exr'`` and ``ERROR  | ...`` lines;
* Redshift: ``Rendering frame 7...``, ``Block 12/48 (3,2) rendered by GPU 0 in 9ms`` and
  ``Saved file '/proj/images/shot.0007.exr' in 0.05s.``;
* Maya itself: ``// Error: ... //`` and ``Error: ...`` lines.

The parser keeps no state; ``BatchRender`` follows frames from the events.
"""

from __future__ import annotations

import re

from cloud_agent.runners.batch import (
    FileWritten,
    FrameFinished,
    FrameProgress,
    FrameStarted,
    LogError,
    LogEvent,
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Percentage of rendering done:\s*(\d+(?:\.\d+)?)"), "percent"),
    (re.compile(r"Starting Rendering\s+(.+?)\.?\s*(?://)?$"), "start"),
    (re.compile(r"Finished Rendering\s+(.+?)\.?\s*(?://)?$"), "written"),
    (re.compile(r"\[mtoa\] Rendering [Ff]rame:?\s*(-?\d+)"), "frame"),
    (re.compile(r"\|\s+(\d+(?:\.\d+)?)% done\b"), "percent"),
    (re.compile(r"\[driver_\w+\] writing file `(.+?)'"), "written"),
    (re.compile(r"\|\s+render done\b"), "finished"),
    (re.compile(r"^\s*Rendering frame\s+(-?\d+)"), "frame"),
    (re.compile(r"Block (\d+)/(\d+) .*rendered"), "blocks"),
    (re.compile(r"Saved file '(.+?)'"), "written"),
    (re.compile(r"^\s*(?:// )?Error:\s*(.*?)\s*(?://)?$"), "error"),
    (re.compile(r"\bERROR\s+\|\s*(.*)$"), "error"),
)


def parse_line(line: str) -> LogEvent | None:
    """The event one line of ``Render``'s output reports, or None."""
    text = line.rstrip("\r\n")
    for pattern, kind in _PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        if kind == "percent":
            return FrameProgress(float(match.group(1)) / 100.0)
        if kind == "start":
            return FrameStarted()
        if kind == "written":
            return FileWritten(match.group(1).strip())
        if kind == "frame":
            return FrameStarted(int(match.group(1)))
        if kind == "finished":
            return FrameFinished()
        if kind == "blocks":
            done, total = int(match.group(1)), int(match.group(2))
            return FrameProgress(done / total) if total else None
        return LogError(match.group(1).strip() or text.strip())
    return None
