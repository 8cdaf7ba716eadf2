"""Reads the output of Maya's ``Render`` command, one line at a time.

Formats understood (each renderer prints its own lines inside Maya's batch log):

* Maya Software: ``Percentage of rendering done: 40 (/proj/images/shot.0007.iff)`` (also in
  the ``// Result: ... //`` form the script editor echoes), ``Starting Rendering <image>``
  and ``Finished Rendering <image>.``;
* Arnold (MtoA): ``[mtoa] Rendering Frame: 7 (1/3)  Camera: perspShape``, the core's
  ``00:00:02  1534MB         |    20% done - 14 rays/pixel``, ``[driver_exr] writing file
  `/proj/images/shot.0007.exr'`` and ``ERROR  | ...`` lines;
* Redshift: ``Rendering frame 7...``, ``Block 12/48 (3,2) rendered by GPU 0 in 9ms``,
  ``Saved file '/proj/images/shot.0007.exr' in 0.05s.``, each usually behind its level and
  the plug-in's tag (``INFO : [Redshift] Rendering frame 7...``); ``ERROR : [Redshift] ...``,
  ``Frame rendering aborted.`` and ``Rendering was internally aborted`` are errors;
* V-Ray: ``V-Ray: Rendering image...`` alone on its line (a frame starts), its progress
  (``V-Ray: Rendering image...: 45.0% [ 0h 0m 2.1s] [ 0h 0m 2.6s est]`` from V-Ray 5 on;
  ``V-Ray: 45%`` and ``45 % completed`` before), ``Successfully written image file "..."``,
  ``V-Ray: Total frame time`` (the frame is over), ``V-Ray error: ...`` and, from V-Ray 5 on,
  messages behind a clock and their level (``[2024/Nov/25|10:12:01] error: ...``); a progress
  line is never a new frame;
* RenderMan (RfM): ``rfm Notice: Rendering <camera> at 7`` (a frame starts),
  ``R90000  45%`` or ``R90000 {INFO} 45%`` (prman's progress) and ``R56001 {ERROR} ...`` /
  ``{SEVERE}`` messages;
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
from common.models import FailureClass

#: The level and tag Redshift (and other plug-ins) put before their lines.
_PREFIX = re.compile(r"^\s*(?:(?:INFO|WARN(?:ING)?|DEBUG|DETAILED)\s*:\s*)?(?:\[Redshift\]\s*)?")

#: The clock V-Ray 5 and later put before each message: ``[2024/Nov/25|10:12:01] ``.
_VRAY_CLOCK = r"^\[\d{4}/\w{3}/\d{1,2}\|[\d:.]+\]\s*"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Maya Software
    (re.compile(r"Percentage of rendering done:\s*(\d+(?:\.\d+)?)"), "percent"),
    (re.compile(r"Starting Rendering\s+(.+?)\.?\s*(?://)?$"), "start"),
    (re.compile(r"Finished Rendering\s+(.+?)\.?\s*(?://)?$"), "written"),
    # Arnold
    (re.compile(r"\[mtoa\] Rendering [Ff]rame:?\s*(-?\d+)"), "frame"),
    (re.compile(r"\|\s+(\d+(?:\.\d+)?)% done\b"), "percent"),
    (re.compile(r"\[driver_\w+\] writing file `(.+?)'"), "written"),
    (re.compile(r"\|\s+render done\b"), "finished"),
    (re.compile(r"\[mtoa\] Failed batch render"), "error"),
    # Redshift
    (re.compile(r"^Rendering frame\s+(-?\d+)"), "frame"),
    (re.compile(r"Block (\d+)/(\d+) .*rendered"), "blocks"),
    (re.compile(r"Saved file '(.+?)'"), "written"),
    (re.compile(r"^ERROR\s*:\s*(?:\[Redshift\]\s*)?(.*)$"), "error"),
    (re.compile(r"^(Frame rendering aborted\.?|Rendering was internally aborted.*)$"), "error"),
    # V-Ray
    (re.compile(r"V-Ray: Rendering image\.*:\s*(\d+(?:\.\d+)?)\s*%"), "percent"),
    (re.compile(r"V-Ray: Rendering image\.*\s*$"), "start"),
    (re.compile(r"V-Ray:\s+(\d+(?:\.\d+)?)\s*%"), "percent"),
    (re.compile(r"\b(\d+(?:\.\d+)?) % completed"), "percent"),
    (re.compile(r'Successfully written image file "(.+?)"'), "written"),
    (re.compile(r"V-Ray: Total frame time"), "finished"),
    (re.compile(r"V-Ray error:\s*(.*)$"), "error"),
    (re.compile(_VRAY_CLOCK + r"(?:V-Ray:\s*)?error:\s*(.*)$"), "error"),
    # RenderMan
    (re.compile(r"rfm Notice: Rendering .* at (-?\d+)"), "frame"),
    (re.compile(r"\bR90000\s+(?:\{INFO\}\s*)?(\d+(?:\.\d+)?)%"), "percent"),
    (re.compile(r"\b[A-Z]\d{5}\s+\{(?:ERROR|SEVERE)\}\s*(.*)$"), "error"),
    # Maya itself, Arnold's errors
    (re.compile(r"^\s*(?:// )?Error:\s*(.*?)\s*(?://)?$"), "error"),
    (re.compile(r"\bERROR\s+\|\s*(.*)$"), "error"),
)

#: A line any of Maya's renderers prints as an error (Maya, Arnold, Redshift, V-Ray, RenderMan).
_ERROR_LINE = (
    r"(?:^\s*(?://\s*)?Error:|\bERROR\s*[|:]|V-Ray error:|\{(?:ERROR|SEVERE)\}|\[mtoa\] Failed"
    r"|" + _VRAY_CLOCK + r"(?:V-Ray:\s*)?error:)"
)

#: Lines that tell why a Maya render failed (``cloud_agent.failure_class``): no licence (an
#: error line about the licence, Arnold's and Redshift's licence clients ``[rlm]``/``[clm]``);
#: a scene or file missing (``Cannot find file``, ``File not found``, an error line ending in
#: ``No such file or directory``); a scene Maya cannot read (a ``.ma`` with a syntax error or a
#: procedure it cannot find, ``not a valid Maya file``); memory ran out (Redshift, V-Ray, Maya).
FAILURE_LINES: tuple[tuple[FailureClass, re.Pattern[str]], ...] = (
    (FailureClass.LICENCE, re.compile(_ERROR_LINE + r".*\blicen[cs](?:e|ing)\b", re.I)),
    (
        FailureClass.LICENCE,
        re.compile(
            r"\[(?:rlm|clm)[\w.]*\].*(?:error checking out licen[cs]e|could not connect to any"
            r" licen[cs]e server|no licen[cs]e|licen[cs]e (?:not found|unavailable|fail))",
            re.I,
        ),
    ),
    (FailureClass.LICENCE, re.compile(r"\(lic\)[^|]*\b(?:no|not|unable|fail\w*|denied|expired)\b")),
    (FailureClass.MISSING_FILE, re.compile(_ERROR_LINE + r".*\bCannot find file\b")),
    (FailureClass.MISSING_FILE, re.compile(_ERROR_LINE + r".*\bFile not found\b", re.I)),
    (FailureClass.MISSING_FILE, re.compile(_ERROR_LINE + r".*\bNo such file or directory\b")),
    (
        FailureClass.MISSING_FILE,
        re.compile(_ERROR_LINE + r".*\b(?:unable to|could not|cannot|failed to) open\b", re.I),
    ),
    (FailureClass.BAD_SCENE, re.compile(_ERROR_LINE + r".*\bline \d+: .*\bSyntax error\b", re.I)),
    (FailureClass.BAD_SCENE, re.compile(_ERROR_LINE + r".*\bCannot find procedure\b")),
    (FailureClass.BAD_SCENE, re.compile(r"\bnot a valid Maya (?:ASCII |Binary )?file\b", re.I)),
    (FailureClass.BAD_SCENE, re.compile(_ERROR_LINE + r".*\bfile is corrupt", re.I)),
    (
        FailureClass.OUT_OF_MEMORY,
        re.compile(
            _ERROR_LINE + r".*\b(?:out of (?:GPU |video |host )?memory|out of VRAM|not enough"
            r" memory|memory allocation fail(?:ed|ure))\b",
            re.I,
        ),
    ),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bMemory exception\b")),
)


def parse_line(line: str) -> LogEvent | None:
    """The event one line of ``Render``'s output reports, or None."""
    text = _PREFIX.sub("", line.rstrip("\r\n"), count=1)
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
        message = match.group(1).strip() if match.groups() else ""
        return LogError(message or text.strip())
    return None
