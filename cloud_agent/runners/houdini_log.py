"""Reads the output of a Houdini render: ``hython hython_render.py`` or ``husk``.

Lines understood:

* the render script's own (``hython_render.py``): ``cloudburst: frame 7 start``,
  ``cloudburst: wrote /shots/sh010/render/beauty.0007.exr``, ``cloudburst: frame 7 done`` and
  ``cloudburst: error: ...``;
* ``ALF_PROGRESS 42%``: Alfred-style progress, printed by Mantra (``vm_alfprogress``), by
  ``hou.RopNode.render(output_progress=True)`` and by ``husk -V 2a``, per frame;
* Redshift's buckets, saved files and errors (``redshift_log``), for the ``Redshift_ROP``;
* errors: ``mantra: Unable to open texture ...``, ``Error: ...``, ``[Error] ...``,
  ``ERROR | ...`` (husk, Karma) and ``hou.OperationFailed: ...``.
"""

from __future__ import annotations

import re

from cloud_agent.runners import redshift_log
from cloud_agent.runners.batch import (
    FileWritten,
    FrameFinished,
    FrameProgress,
    FrameStarted,
    LogError,
    LogEvent,
)
from common.models import FailureClass

_OURS = re.compile(r"^cloudburst: (?:frame (-?\d+) (start|done)|wrote (.+)|error: (.*))$")
_ALF = re.compile(r"ALF_PROGRESS\s+(\d+(?:\.\d+)?)%")
_ERRORS = (
    re.compile(r"^mantra: (.*\b(?:[Uu]nable|[Ee]rror|[Cc]annot|[Ff]ailed)\b.*)$"),
    re.compile(r"^(?:Error|\[Error\]):?\s*(.*)$"),
    re.compile(r"\bERROR\s*\|\s*(.*)$"),
    re.compile(r"^hou\.OperationFailed:\s*(.*)$"),
)

#: Lines that tell why a Houdini render failed (``cloud_agent.failure_class``): no licence
#: (``No licenses could be found to run this application``, SideFX's licence server; an error
#: line of Redshift's about its licence); the hip
#: file or a file it reads is missing (``Unable to open file``, mantra's textures, husk's USD
#: layers); a scene without what the job names (``hython_render.py``'s errors); memory ran out.
FAILURE_LINES: tuple[tuple[FailureClass, re.Pattern[str]], ...] = (
    (FailureClass.LICENCE, re.compile(r"\bNo licen[cs]es? could be found\b", re.I)),
    (
        FailureClass.LICENCE,
        re.compile(
            r"\b(?:sesinetd|hserver)\b.*\b(?:unreachable|not running|"
            r"could not connect|cannot connect)",
            re.I,
        ),
    ),
    (FailureClass.LICENCE, re.compile(r"^ERROR\s*:\s*\[Redshift\].*\blicen[cs](?:e|ing)\b", re.I)),
    (FailureClass.MISSING_FILE, re.compile(r"\b(?:Unable to|Could not|Cannot) open file\b")),
    (FailureClass.MISSING_FILE, re.compile(r"^mantra: Unable to open texture\b")),
    (FailureClass.MISSING_FILE, re.compile(r"\b(?:Cannot|Could not|Failed to) open layer @")),
    (
        FailureClass.MISSING_FILE,
        re.compile(r"\bNo such file or directory\b.*\.(?:hip|hipnc|hiplc|usd[ac]?)\b"),
    ),
    (
        FailureClass.BAD_SCENE,
        re.compile(
            r"^cloudburst: error: .*\b(?:the scene has no (?:camera|render node)"
            r"|has no camera to set)\b"
        ),
    ),
    (FailureClass.BAD_SCENE, re.compile(r"\b(?:Bad|Invalid|Unknown) file format\b", re.I)),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\b[Oo]ut of (?:GPU |device )?memory\b")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"^mantra: .*\bUnable to allocate\b")),
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
    event = redshift_log.parse_line(text)
    if event is not None:
        return event
    for pattern in _ERRORS:
        match = pattern.search(text)
        if match:
            return LogError(match.group(1).strip() or text.strip())
    return None
