"""Stand-ins for Maya's ``Render``, ``hython``, ``husk`` and ``nuke``, as small programs a test
writes: they take the real command line, print recorded log lines (``data/*.txt``) and write
the files the real program would write. ``hython`` runs Cloudburst's real ``hython_render.py``
against the ``hou`` stand-in, whose render prints Mantra's recorded lines.

A fixture holds ``[start]``, ``[frame]`` and ``[end]`` sections; ``{frame}``, ``{index}``,
``{count}`` and ``{image}`` are filled in per frame, ``@write`` writes the frame's file.
"""

from __future__ import annotations

import os
import re
import runpy
import stat
import sys
from pathlib import Path

from common.scene_readers.sequences import frame_path

DATA = Path(__file__).with_name("data")
REPO = Path(__file__).resolve().parents[3]
STUBS = REPO / "tests" / "stubs"

PROGRAM = """#!{python}
import sys
sys.path[:0] = [{repo!r}, {stubs!r}]
from tests.cloud_agent.runners.fakes import {entry}
sys.exit({entry}(sys.argv[1:], {fixture!r}, {exit_code}))
"""


def write_fake(folder: Path, name: str, entry: str, fixture: str = "", exit_code: int = 0) -> str:
    """Writes an executable stand-in called ``name`` in ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        PROGRAM.format(
            python=sys.executable,
            repo=str(REPO),
            stubs=str(STUBS),
            entry=entry,
            fixture=str(DATA / fixture) if fixture else "",
            exit_code=exit_code,
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def sections(fixture: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"start": [], "frame": [], "end": []}
    current = "frame"
    for line in Path(fixture).read_text().splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"\[(start|frame|end)\]", line)
        if match:
            current = match.group(1)
        else:
            found[current].append(line)
    return found


def play(fixture: str, frames: list[int], images: dict[int, list[str]]) -> None:
    """Prints the fixture's lines for ``frames`` and writes each frame's files at ``@write``."""
    parts = sections(fixture)
    for line in parts["start"]:
        print(line, flush=True)
    for index, frame in enumerate(frames, start=1):
        for line in parts["frame"]:
            for image in images[frame] if ("{image}" in line or line == "@write") else [""]:
                if line == "@write":
                    os.makedirs(os.path.dirname(image), exist_ok=True)
                    Path(image).write_bytes(b"stand-in render")
                    continue
                values = {"frame": frame, "index": index, "count": len(frames), "image": image}
                print(line.format(**values), flush=True)
    for line in parts["end"]:
        print(line, flush=True)


def _flags(args: list[str]) -> dict[str, str]:
    return {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("-")}


def fake_maya_render(args: list[str], fixture: str, exit_code: int) -> int:
    """``Render -r R -proj DIR -s S -e E -b B [-rl L] -rd DIR -im NAME [-fnc C] -pad P
    [-of EXT] scene``.

    Like Maya with several layers, it writes a layer's frames in a folder named after it.
    Without ``-of`` (Arnold: the scene's driver decides) it writes ``$FAKE_MAYA_EXTENSION``
    (default ``exr``); without ``-fnc``, ``name.#.ext``. The project must be a folder.
    """
    flags = _flags(args)
    if not os.path.isdir(flags["-proj"]):
        print(f"// Error: project {flags['-proj']} does not exist //", flush=True)
        return 1
    fnc = flags.get("-fnc", "name.#.ext")
    separator = {"name.#.ext": ".", "name_#.ext": "_", "name#.ext": ""}[fnc]
    extension = flags.get("-of") or os.environ.get("FAKE_MAYA_EXTENSION", "exr")
    folder = Path(flags["-rd"]) / flags.get("-rl", "")
    frames = list(range(int(flags["-s"]), int(flags["-e"]) + 1, int(flags["-b"])))
    pad = int(flags["-pad"])
    images = {
        frame: [str(folder / f"{flags['-im']}{separator}{frame:0{pad}d}.{extension}")]
        for frame in frames
    }
    play(fixture, frames, images)
    return exit_code


def fake_nuke(args: list[str], fixture: str, exit_code: int) -> int:
    """``nuke -x -F A-BxS [-X Write] script.nk``: reads the script for the Write's file."""
    from common.scene_readers.nuke_report import expand_views, read_nuke_script

    flags = _flags(args)
    match = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", flags["-F"])
    assert match is not None, flags["-F"]
    first = int(match.group(1))
    frames = list(range(first, int(match.group(2) or first) + 1, int(match.group(3) or 1)))
    report = read_nuke_script(args[-1], env={})
    write = next(t for t in report.info.targets if t.name == flags.get("-X", t.name))
    views = report.info.extra["views"]
    images = {f: [frame_path(p, f) for p in expand_views(write.output, views)] for f in frames}
    play(fixture, frames, images)
    return exit_code


def fake_husk(args: list[str], fixture: str, exit_code: int) -> int:
    """``husk --frame F --frame-count N --frame-inc S --output PATTERN scene.usd``."""
    flags = _flags(args)
    first, count, step = (
        int(flags["--frame"]),
        int(flags["--frame-count"]),
        int(flags["--frame-inc"]),
    )
    frames = [first + i * step for i in range(count)]
    play(fixture, frames, {f: [frame_path(flags["--output"], f)] for f in frames})
    return exit_code


def fake_hython(args: list[str], fixture: str, exit_code: int) -> int:
    """``hython script.py ARGS``: runs the script with the ``hou`` stand-in importable."""
    sys.argv = list(args)
    try:
        runpy.run_path(args[0], run_name="__main__")
    except SystemExit as done:
        return int(done.code or 0)
    return exit_code
