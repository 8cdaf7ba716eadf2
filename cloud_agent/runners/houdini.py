"""The Houdini runner: a ROP rendered by ``hython``, or a USD file rendered by ``husk``.

* ``.hip``/``.hipnc``/``.hiplc`` scenes: ``hython hython_render.py --rop /out/mantra1
  --frames 1 10 1 --output /renders/beauty.$F4.exr scene.hip`` renders the render node the
  panel chose (``common.jobspec.TARGET_ENV``; empty: the one ``common.houdini_rops`` picks,
  as the panel did) frame by frame, through the camera the panel chose (``--camera /obj/cam1``,
  from ``CAMERA_ENV``) if any.
* ``.usd``/``.usda``/``.usdc``/``.usdz`` files: ``husk --verbose 2a --frame 1 --frame-count 10
  --frame-inc 1 --output /renders/beauty.$F4.exr scene.usd`` (``--renderer``: the Hydra
  delegate the job's renderer names, ``husk_delegate``; none for Mantra and the other render
  nodes' renderers, so the file's render settings choose), with ``--camera /cameras/cam1`` for
  a chosen camera. The flags are those of SideFX's husk reference
  (https://www.sidefx.com/docs/houdini/ref/utils/husk.html).

A chosen camera is a path (``/obj/cam1``, a USD primitive ``/cameras/cam1``): anything else is
refused before a program starts, so that it can never be read as one of their options.

Frames are checked against the job's output pattern after each ``cloudburst: frame N done``
line and once the program exits. The executables are ``CLOUDBURST_HYTHON`` (else ``hython`` on
PATH) and ``husk`` beside it (else on PATH).

A task rendered from a workspace has ``CLOUDBURST_PATH_MAP`` in its environment
(``path_map_file``); its prefix rules become Houdini's own ``HOUDINI_PATHMAP`` (a JSON object
of studio prefix -> local prefix, longest first), which Houdini applies to every file path it
opens, so the studio paths inside a ``.hip`` find the workspace's files. Entries the job's
environment already had in ``HOUDINI_PATHMAP`` are kept unless a rule names the same prefix.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping

from cloud_agent.runners import houdini_log
from cloud_agent.runners.base import frame_run
from cloud_agent.runners.batch import BatchRender, make_output_folder, resolve_executable
from cloud_agent.runners.path_map_file import PATH_MAP_ENV, PathMap, normalise, read_path_map
from common.config import Settings
from common.errors import RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import TaskAssignment
from common.scene_readers.sequences import frame_path

ENV_VAR = "CLOUDBURST_HYTHON"
DEFAULT_EXECUTABLE = "hython"
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hython_render.py")
USD_EXTENSIONS = (".usd", ".usda", ".usdc", ".usdz")
#: Houdini's own path-mapping variable.
PATHMAP_ENV = "HOUDINI_PATHMAP"
#: Hydra delegates (husk's ``--renderer``) by the job's renderer name.
DELEGATES = {
    "karma": "BRAY_HdKarma",
    "karmaxpu": "BRAY_HdKarmaXPU",
    "storm": "HdStormRendererPlugin",
    "redshift": "HdRedshiftRendererPlugin",
    "arnold": "HdArnoldRendererPlugin",
    "renderman": "HdPrmanLoaderRendererPlugin",
}
#: Renderers of Houdini's render nodes that are no Hydra delegate: husk renders the file
#: with the delegate its render settings name (Karma when they name none).
NOT_DELEGATES = frozenset({"mantra", "opengl", "comp", "geometry", "alembic", "usd", "dop"})
_DELEGATE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


def husk_pattern(output: str) -> str:
    """``####`` as husk writes it: ``$F4``."""
    return re.sub(r"#+", lambda m: f"$F{len(m.group(0))}", output)


def houdini_pathmap(path_map: PathMap, existing: str = "") -> str:
    """``HOUDINI_PATHMAP``'s value for a path map: its rules, longest studio prefix first.

    Prefixes are written with ``/`` (as Houdini writes paths on every platform) and end with
    one, so that ``/mnt/studio`` does not also catch ``/mnt/studio2``. Entries of
    ``existing`` (the job's own value, a JSON object) are kept after the rules' unless a rule
    has the same prefix; an ``existing`` that is not a JSON object is dropped.
    """
    mapping: dict[str, str] = {}
    for studio, local in sorted(path_map.rules, key=lambda rule: -len(_folder(rule[0]))):
        mapping.setdefault(_folder(studio), _folder(local))
    try:
        previous = json.loads(existing) if existing.strip() else {}
    except ValueError:
        previous = {}
    if isinstance(previous, dict):
        for studio, local in previous.items():
            if isinstance(studio, str) and isinstance(local, str):
                mapping.setdefault(studio, local)
    return json.dumps(mapping)


def _folder(prefix: str) -> str:
    path = normalise(prefix)
    return path if path.endswith("/") else path + "/"


def render_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The render's environment: the job's, plus ``HOUDINI_PATHMAP`` when it has a path map.

    Raises:
        RenderError: the path-map file cannot be read.
    """
    result = dict(env)
    map_file = env.get(PATH_MAP_ENV)
    if map_file:
        result[PATHMAP_ENV] = houdini_pathmap(read_path_map(map_file), env.get(PATHMAP_ENV, ""))
    return result


_CAMERA_PATH = re.compile(r"/[^\s\x00-\x1f\x7f]*")


def chosen_camera(env: Mapping[str, str]) -> str:
    """The camera the panel chose (``CAMERA_ENV``), ``""`` for the render node's own.

    Raises:
        RenderError: the value is not a node or primitive path.
    """
    camera = env.get(CAMERA_ENV, "")
    if camera and _CAMERA_PATH.fullmatch(camera) is None:
        raise RenderError(
            f"The job's camera {camera[:80]!r} is not a Houdini camera path. Pick the camera in "
            "the panel again (a path such as /obj/cam1), or Scene camera."
        )
    return camera


def husk_delegate(renderer: str) -> str:
    """husk's ``--renderer`` for the job's renderer; "" to leave the choice to the file.

    Raises:
        RenderError: the renderer is not a Hydra delegate's name (a plug-in type name).
    """
    name = renderer.strip()
    if not name or name.lower() in NOT_DELEGATES:
        return ""
    if name.lower() in DELEGATES:
        return DELEGATES[name.lower()]
    if _DELEGATE_NAME.fullmatch(name) is None:
        raise RenderError(
            f"The job's renderer {name[:80]!r} is not a Hydra render delegate. Resubmit with "
            "karma, redshift, arnold or a delegate's plug-in name (BRAY_HdKarma)."
        )
    return name


def expected_files(output: str) -> Callable[[int], list[str]]:
    """The glob pattern of a frame's file for an output with ``####``, ``$F4`` or ``%04d``."""

    def expected(frame: int) -> list[str]:
        return [glob.escape(frame_path(output, frame))]

    return expected


class HoudiniRunner:
    """Runs Houdini jobs (``Runner`` for the ``houdini`` DCC)."""

    dcc = "houdini"

    def __init__(self, hython: str, husk: str | None = None) -> None:
        self.hython = hython
        self.husk = husk

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        which: Callable[[str], str | None] = shutil.which,
    ) -> HoudiniRunner:
        """The runner for this node's ``hython`` (and ``husk``, when it has one).

        Raises:
            ConfigError: no ``hython`` here (the agent then renders no Houdini jobs).
        """
        configured = settings.hython
        hython = resolve_executable(
            configured,
            env_var=ENV_VAR,
            default=DEFAULT_EXECUTABLE,
            program="Houdini's hython",
            which=which,
        )
        beside = os.path.join(os.path.dirname(hython), "husk")
        husk = beside if os.access(beside, os.X_OK) else which("husk")
        return cls(hython, husk)

    def prepare(self, assignment: TaskAssignment) -> BatchRender:
        """The attempt for one task (the agent's main thread).

        Raises:
            RenderError: the frames cannot be rendered here (a USD file and no husk), the
                job's camera is not a path, or the task's path map cannot be read.
        """
        first, last, step = frame_run(assignment.frames)
        output = assignment.output
        if not output.startswith("$"):
            output = os.path.abspath(os.path.expanduser(output))
        camera = chosen_camera(assignment.env)
        make_output_folder(output)
        if assignment.scene.lower().endswith(USD_EXTENSIONS):
            if self.husk is None:
                raise RenderError(
                    "This node has hython but no husk, so it cannot render USD files. "
                    "Install Houdini's husk beside hython."
                )
            delegate = husk_delegate(assignment.renderer)
            command = [
                self.husk, "--verbose", "2a",
                "--frame", str(first), "--frame-count", str(len(assignment.frames)),
                "--frame-inc", str(step),
                *(["--renderer", delegate] if delegate else []),
                *(["--camera", camera] if camera else []),
                "--output", husk_pattern(output), assignment.scene,
            ]  # fmt: skip
            label = "husk"
        else:
            command = [
                self.hython, SCRIPT,
                *(["--rop", assignment.env[TARGET_ENV]] if assignment.env.get(TARGET_ENV) else []),
                *(["--camera", camera] if camera else []),
                "--frames", str(first), str(last), str(step),
                "--output", output, assignment.scene,
            ]  # fmt: skip
            label = "Houdini"
        return BatchRender(
            assignment,
            command,
            render_environment(assignment.env),
            expected_files(output),
            houdini_log.parse_line,
            label,
        )
