"""The Maya runner: ``Render`` command lines, progress from Maya's log, frames found after exit.

The job's output pattern (``/shows/x/images/sh010.####.exr``) becomes Maya's output folder
(``-rd``), image name (``-im``), naming convention (``-fnc name.#.ext``, ``name_#.ext`` or
``name#.ext``) and padding (``-pad``), so Maya writes exactly the files the job names. The
render layer and camera chosen in the panel arrive in the job's environment
(``common.jobspec.TARGET_ENV``, ``CAMERA_ENV``). Maya puts a layer's images in a subfolder
when the scene renders several layers, so a frame's file is looked for below ``-rd`` too.

The scene opens in its own Maya project (``-proj``: the nearest folder above the scene holding
``workspace.mel``, else the scene's folder), so project-relative textures and caches resolve as
on the artist's machine. Each renderer takes the flags its ``Render -r <name> -help`` lists:
Arnold names its file format through its driver (so no ``-of``, nor ``-fnc``, which its batch
flags do not list) and prints its progress and the files it writes from log verbosity 2 on
(``-ai:lve 2``). Redshift, V-Ray and RenderMan take Maya's common flags (``-rl``, ``-cam``,
``-s``/``-e``/``-b``, ``-rd``, ``-im``, ``-preRender``; RenderMan for Maya's batch page lists
``-rl`` and ``-preRender`` among its own). Redshift's ``-gpu`` is not passed: a node's
Redshift renders on the devices its preferences or ``REDSHIFT_GPUDEVICES`` name, as on the
artist's machine. A format is looked for under the extension its renderer writes
(``maya_formats``: Arnold's ``jpeg`` driver writes ``.jpg``).

The executable is ``CLOUDBURST_MAYA_RENDER`` (a path or a name), else ``Render`` on PATH.

A task rendered from a workspace has ``CLOUDBURST_PATH_MAP`` in its environment
(``path_map_file``). A ``.ma`` scene was rewritten there already; for the paths Maya reads
out of ``.mb`` files, each prefix rule also becomes a ``dirmap -m`` mapping, run through
``-preRender``. ``-preRender`` runs once the scene is open, so it repoints paths resolved at
render time (file textures, caches) but not references, which Maya loads with the scene.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Callable

from cloud_agent.runners import maya_log
from cloud_agent.runners.base import frame_run
from cloud_agent.runners.batch import BatchRender, make_output_folder, resolve_executable
from cloud_agent.runners.maya_formats import file_extension
from cloud_agent.runners.path_map_file import PATH_MAP_ENV, PathMap, normalise, read_path_map
from common.config import Settings
from common.errors import RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import TaskAssignment
from common.scene_readers.maya_ascii import find_workspace

ENV_VAR = "CLOUDBURST_MAYA_RENDER"
DEFAULT_EXECUTABLE = "Render"
#: ``Render -r`` names of the renderers ``defaultRenderGlobals.currentRenderer`` names.
RENDERER_FLAGS = {
    "mayaSoftware": "sw",
    "mayaHardware": "hw",
    "mayaHardware2": "hw2",
    "mayaVector": "vr",
    "arnold": "arnold",
    "redshift": "redshift",
    "vray": "vray",
    "renderman": "renderman",
}
#: Flags a renderer needs on top of the common ones (Arnold: log progress and written files).
RENDERER_EXTRA_FLAGS = {"arnold": ["-ai:lve", "2"]}
#: Renderers whose batch flags have no ``-fnc`` nor ``-of`` (the scene's driver names the format).
NO_FORMAT_FLAGS = frozenset({"arnold"})
_NAMING = {".": "name.#.ext", "_": "name_#.ext", "": "name#.ext"}
_OUTPUT = re.compile(r"^(?P<stem>.*?)(?P<sep>[._]?)(?P<hashes>#+)(?:\.(?P<ext>[A-Za-z0-9]+))?$")


def split_output(output: str, output_format: str = "") -> tuple[str, str, str, int, str]:
    """``(folder, name, separator, padding, extension)`` of an output pattern.

    Raises:
        RenderError: the pattern is not one Maya can write (``name.####.ext``,
            ``name_####.ext`` or ``name####.ext``), or has no extension nor format.
    """
    folder, file_name = os.path.split(output)
    match = _OUTPUT.match(file_name)
    if match is None or not match.group("stem"):
        raise RenderError(
            f"Maya cannot write the output pattern {output!r}: it names frames "
            "name.####.ext, name_####.ext or name####.ext. Use for example "
            f"{os.path.join(folder or '/renders', 'shot.####.exr')}."
        )
    extension = match.group("ext") or output_format.lower()
    if not extension:
        raise RenderError(
            f"The output pattern {output!r} has no extension and the job no format; "
            "add one, as in shot.####.exr."
        )
    padding = len(match.group("hashes"))
    return folder, match.group("stem"), match.group("sep"), padding, extension


def dirmap_mel(path_map: PathMap) -> str:
    """MEL that turns on ``dirmap`` with one mapping per rule, longest studio prefix first.

    Prefixes are written with ``/``, as ``dirmap`` wants them; ``dirmap`` compares them with
    regard to case on every platform.
    """
    commands = ["dirmap -en true;"]
    seen: set[str] = set()
    for studio, local in sorted(path_map.rules, key=lambda rule: -len(normalise(rule[0]))):
        source = normalise(studio)
        if source not in seen:
            seen.add(source)
            commands.append(f"dirmap -m {_mel_string(source)} {_mel_string(normalise(local))};")
    return " ".join(commands)


def _mel_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def maya_command(
    executable: str, assignment: TaskAssignment
) -> tuple[list[str], Callable[[int], list[str]]]:
    """The ``Render`` command for a task, and the glob pattern of each frame's file.

    Raises:
        RenderError: the output pattern cannot be given to Maya, or the task's path map
            cannot be read.
    """
    first, last, step = frame_run(assignment.frames)
    output = os.path.abspath(os.path.expanduser(assignment.output))
    folder, name, separator, padding, extension = split_output(output, assignment.output_format)
    renderer = RENDERER_FLAGS.get(assignment.renderer, assignment.renderer or "file")
    extension = file_extension(renderer, extension)
    layer = assignment.env.get(TARGET_ENV, "")
    camera = assignment.env.get(CAMERA_ENV, "")
    map_file = assignment.env.get(PATH_MAP_ENV)
    path_map = read_path_map(map_file) if map_file else None
    naming = [] if renderer in NO_FORMAT_FLAGS else ["-fnc", _NAMING[separator]]
    of = ["-of", extension] if assignment.output_format and renderer not in NO_FORMAT_FLAGS else []
    command = [
        executable, "-r", renderer, "-proj", find_workspace(assignment.scene),
        "-s", str(first), "-e", str(last), "-b", str(step),
        *(["-rl", layer] if layer else []),
        *(["-cam", camera] if camera else []),
        *RENDERER_EXTRA_FLAGS.get(renderer, []),
        *(["-preRender", dirmap_mel(path_map)] if path_map and path_map.rules else []),
        "-rd", folder, "-im", name, *naming, "-pad", str(padding), *of,
        assignment.scene,
    ]  # fmt: skip

    def expected(frame: int) -> list[str]:
        file_name = f"{name}{separator}{frame:0{padding}d}.{extension}"
        return [os.path.join(glob.escape(folder), "**", glob.escape(file_name))]

    return command, expected


class MayaRunner:
    """Runs Maya jobs with one ``Render`` executable (``Runner`` for the ``maya`` DCC)."""

    dcc = "maya"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        which: Callable[[str], str | None] = shutil.which,
    ) -> MayaRunner:
        """The runner for this node's ``Render``.

        Raises:
            ConfigError: no ``Render`` here (the agent then renders no Maya jobs).
        """
        configured = settings.maya_render
        return cls(
            resolve_executable(
                configured,
                env_var=ENV_VAR,
                default=DEFAULT_EXECUTABLE,
                program="Maya's Render",
                which=which,
            )
        )

    def prepare(self, assignment: TaskAssignment) -> BatchRender:
        """The attempt for one task (the agent's main thread).

        Raises:
            RenderError: the frames or the output pattern cannot be given to Maya.
        """
        command, expected = maya_command(self.executable, assignment)
        make_output_folder(assignment.output)
        return BatchRender(
            assignment, command, assignment.env, expected, maya_log.parse_line, "Maya"
        )
