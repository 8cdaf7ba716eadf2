"""``cloudburst-blender``: a ``blender``-compatible command line on top of the ``bpy`` module.

A render node without Blender installed still renders for real through the ``bpy`` wheel: the
agent runs ``cloudburst-blender -b scene.blend -o //render/f_#### -F PNG -s 1 -e 10 -a`` exactly
as it would run ``blender``. The options are a subset of Blender's own and, like Blender's, are
processed in order: ``-s 3 -e 5 -a`` renders frames 3 to 5, while ``-a -s 3`` renders the scene's
own range and only then sets its start.

What it prints (stdout, flushed line by line), per frame::

    Rendering frame 1
    Fra: 1 | Mem: 2M | Sample 1/4              <- Blender's own render statistics
    Saved: '/abs/path/f_0001.png'
     Time: 00:00.52 (Saving: 00:00.01)

The first two are the lines Blender 5's ``blender -b`` logs, without the clock and category in
front of them; the last two are what every Blender prints after writing a frame.

then ``Blender quit`` at the end. ``bpy`` adds its own chatter (``Read blend: ...``). Errors go
to stderr as ``Error: ...``. Exit codes: 0 success, 1 a render or scene error, 2 a command line
that cannot be understood; a ``--python`` script's ``sys.exit(N)`` ends the command there with
``N``, as it ends Blender.

Parsing the command line and expanding output paths are pure functions; ``bpy`` is imported only
when actions run, so this package imports on any machine. Modules: ``actions`` (what the command
line asks for), ``command_line`` (``parse_args``), ``formats`` (image formats and extensions),
``output_path`` (where frames are written), ``runtime`` (running actions with ``bpy``) and
``cli`` (``main``).
"""

from __future__ import annotations

from cloud_agent.blender_compat.actions import (
    MAX_FRAME,
    MIN_FRAME,
    Action,
    LoadScene,
    RelativeFrame,
    RenderAnimation,
    RenderFrames,
    RunPythonExpr,
    RunPythonFile,
    SelectScene,
    SetAutoexec,
    SetEngine,
    SetFormat,
    SetFrameEnd,
    SetFrameStart,
    SetFrameStep,
    SetOutput,
    SetPythonExitCode,
    SetThreads,
    SetUseExtension,
    resolve_frames,
)
from cloud_agent.blender_compat.cli import main
from cloud_agent.blender_compat.command_line import (
    MAX_THREADS,
    PROG,
    UsageError,
    parse_args,
    usage,
)
from cloud_agent.blender_compat.formats import KNOWN_FORMATS
from cloud_agent.blender_compat.output_path import expand_output_path, format_timecode
from cloud_agent.blender_compat.runtime import RenderFailed, run_actions

__all__ = [
    "KNOWN_FORMATS",
    "MAX_FRAME",
    "MAX_THREADS",
    "MIN_FRAME",
    "PROG",
    "Action",
    "LoadScene",
    "RelativeFrame",
    "RenderAnimation",
    "RenderFailed",
    "RenderFrames",
    "RunPythonExpr",
    "RunPythonFile",
    "SelectScene",
    "SetAutoexec",
    "SetEngine",
    "SetFormat",
    "SetFrameEnd",
    "SetFrameStart",
    "SetFrameStep",
    "SetOutput",
    "SetPythonExitCode",
    "SetThreads",
    "SetUseExtension",
    "UsageError",
    "expand_output_path",
    "format_timecode",
    "main",
    "parse_args",
    "resolve_frames",
    "run_actions",
    "usage",
]
