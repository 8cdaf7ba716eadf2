"""Reads the output of a Houdini render: ``hython hython_render.py`` or ``husk``.

Lines understood:

* the render script's own (``hython_render.py``): ``cloudburst: frame 7 start``,
  ``cloudburst: wrote /shots/sh010/render/beauty.0007.exr``, ``cloudburst: frame 7 done`` and
  ``cloudburst: error: ...``;
* ``ALF_PROGRESS 42%``: Alfred-style progress, printed by Mantra (``vm_alfprogress``), by
  ``hou.RopNode.render(output_progress=True)`` and by ``husk -V 2a``, per frame;
* errors: ``mantra: Unable to open texture ...``, ``Error: ...``, ``[Error] ...``,
  ``ERROR | ...`` (husk, Karma) and ``hou.OperationFailed: ...``.
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

_OURS = re.compile(r"^cloudburst: (?:frame (-?\d+) (start|done)|wrote (.+)|error: (.*))$")
_ALF = re.compile(r"ALF_PROGRESS\s+(\d+(?:\.\d+)?)%")
_ERRORS = (
    re.compile(r"^mantra: (.*\b(?:[Uu]nable|[Ee]rror|[Cc]annot|[Ff]ailed)\b.*)$"),
    re.compile(r"^(?:Error|\[Error\]):?\s*(.*)$"),
    re.compile(r"\bERROR\s*\|\s*(.*)$"),
    re.compile(r"^hou\.OperationFailed:\s*(.*)$"),
)


def parse_line(line: str) -> LogEvent | None:
    """The event one line of a Houdini render's output reports, or None."""
    text = line.rstrip("\r\n")
    match = _OURS.match(text)
    if match:
        frame, what, path, error = match.groups()
        if path is not None:
            return FileWritten(path.strip())
        if error is not None:
            return LogError(error.strip())
        return FrameStarted(int(frame)) if what == "start" else FrameFinished(int(frame))
    match = _ALF.search(text)
    if match:
        return FrameProgress(float(match.group(1)) / 100.0)
    for pattern in _ERRORS:
        match = pattern.search(text)
        if match:
            return LogError(match.group(1).strip() or text.strip())
    return None
