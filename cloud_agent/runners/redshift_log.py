"""Reads Redshift's own lines, whichever DCC it renders in (Houdini's ``Redshift_ROP`` here).

Redshift prints the same messages in every host, usually behind a level and its tag
(``INFO : [Redshift] Block 12/48 (3,2) rendered by GPU 0 in 9ms``; the form CGRU's public
Afanasy parser for Redshift matches, and the one issue 14 recorded from a real batch log):

* ``Block i/n (x,y) rendered by GPU g in Tms``: the frame's progress, ``i`` of ``n`` buckets;
* ``Saved file '<path>' in Ts.``: a file written;
* ``ERROR : [Redshift] ...``, ``Frame rendering aborted.`` and ``Rendering was internally
  aborted``: errors (the last two are what Thinkbox Deadline's public plug-ins treat as
  Redshift's fatal ones).

``Rendering frame N...`` is not read: the render script says which frame starts.
"""

from __future__ import annotations

import re

from cloud_agent.runners.batch import FileWritten, FrameProgress, LogError, LogEvent

_LEVEL = re.compile(r"^\s*(?:(INFO|WARN(?:ING)?|DEBUG|DETAILED|ERROR)\s*:\s*)?(\[Redshift\]\s*)?")
_BLOCK = re.compile(r"^Block (\d+)/(\d+)\b.*\brendered\b")
_SAVED = re.compile(r"^Saved file '(.+?)'")
_ABORTED = re.compile(r"^(Frame rendering aborted\.?|Rendering was internally aborted.*)$")


def parse_line(text: str) -> LogEvent | None:
    """The event a line of Redshift's reports, or None (not Redshift's, or nothing to report)."""
    prefix = _LEVEL.match(text)
    level, tag = (prefix.group(1), prefix.group(2)) if prefix else (None, None)
    message = text[prefix.end() :].strip() if prefix else text.strip()
    if level == "ERROR" and tag:
        return LogError(message or text.strip())
    match = _BLOCK.match(message)
    if match and int(match.group(2)) > 0:
        return FrameProgress(min(1.0, int(match.group(1)) / int(match.group(2))))
    match = _SAVED.match(message)
    if match:
        return FileWritten(match.group(1))
    match = _ABORTED.match(message)
    if match:
        return LogError(match.group(1))
    return None
