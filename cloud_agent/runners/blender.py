"""The Blender runner: ``blender -b`` command lines, progress from its log, frames put in place.

No half-written frame ever sits at its final path: Blender writes into a private staging folder
(``<output folder>/.cloudburst-partial/<task>-<attempt>/``, same file names), and each frame is
moved into place with ``os.replace`` as soon as Blender's ``Saved:`` line says it is complete. A
killed render leaves only staging files, which ``cleanup()`` removes; those of an attempt whose
agent was killed outright are removed when a later attempt at the same task is prepared.

Output names follow Blender's own rules (``BLI_path_frame``, ``do_ensure_image_extension``): the
last run of ``#`` in the file name becomes the zero-padded frame number; a name without ``#``
gets four digits appended; then the format's extension is added, replacing another image
extension; ``//`` starts at the scene's folder.

A task rendered from a workspace has ``CLOUDBURST_PATH_MAP`` in its environment (see
``path_map_file``): a ``.blend`` keeps the studio paths of its libraries and textures inside, so
``blender_remap.py`` runs right after the scene is loaded (``--python``, with
``--python-exit-code 1``) to repoint them, and ends Blender before it renders when a file the
scene needs is missing. A task whose job names a view layer or a camera
(``CLOUDBURST_RENDER_TARGET``, ``CLOUDBURST_CAMERA``, chosen in the panel) runs
``blender_target.py`` next, which renders that layer alone through that camera, and ends
Blender before it renders when the scene has no such layer or camera.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cloud_agent.runners import blender_log
from cloud_agent.runners.base import LineReport, frame_run
from cloud_agent.runners.path_map_file import PATH_MAP_ENV
from common.config import Settings
from common.errors import ConfigError, RenderError
from common.frames import format_frames
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import TaskAssignment

logger = logging.getLogger(__name__)

#: Folder, inside the output folder, where renders write before frames are moved into place.
STAGING_DIR_NAME = ".cloudburst-partial"
#: The console script ``cloudburst-blender`` (``cloud_agent.blender_compat``).
COMPAT_SCRIPT = "cloudburst-blender"
COMPAT_MODULE = "cloud_agent.blender_compat"
#: The script that repoints a scene's external files when the task has a path map.
REMAP_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blender_remap.py")
#: The script that picks the chosen view layer and camera when the job names one.
TARGET_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blender_target.py")


# --- Blender's output names ---------------------------------------------------------------

#: Extensions Blender writes for each ``-F`` format (the first one is what it adds).
FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "TGA": (".tga",),
    "RAWTGA": (".tga",),
    "IRIS": (".rgb",),
    "JPEG": (".jpg", ".jpeg"),
    "PNG": (".png",),
    "BMP": (".bmp",),
    "HDR": (".hdr",),
    "TIFF": (".tif", ".tiff"),
    "OPEN_EXR": (".exr",),
    "OPEN_EXR_MULTILAYER": (".exr",),
    "EXR": (".exr",),
    "MULTILAYER": (".exr",),
    "CINEON": (".cin",),
    "DPX": (".dpx",),
    "JP2": (".jp2",),
    "WEBP": (".webp",),
}

#: Every extension Blender knows as an image (``imb_ext_image``); these get replaced.
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".png", ".tga", ".bmp", ".jpg", ".jpeg", ".sgi", ".rgb", ".rgba", ".tif", ".tiff", ".tx",
    ".jp2", ".j2c", ".hdr", ".dds", ".dpx", ".cin", ".exr", ".psd", ".pdd", ".psb", ".webp",
)  # fmt: skip

_MOVIE_FORMATS = frozenset({"FFMPEG", "AVIRAW", "AVIJPEG", "H264", "XVID", "THEORA"})
_HASHES = re.compile(r"#+")


def format_extensions(output_format: str) -> tuple[str, ...] | None:
    """The extensions of a ``-F`` format; None when the format is empty (the scene's own).

    Raises:
        RenderError: the format is a movie, or unknown to Blender.
    """
    fmt = output_format.strip().upper()
    if not fmt:
        return None
    if fmt in _MOVIE_FORMATS:
        raise RenderError(
            f"The output format {fmt} writes a movie, which cannot be split into tasks. "
            "Render an image sequence (PNG, OPEN_EXR...) and encode the movie afterwards."
        )
    try:
        return FORMAT_EXTENSIONS[fmt]
    except KeyError:
        raise RenderError(
            f"Blender does not know the output format {output_format!r}. "
            f"Use one of: {', '.join(FORMAT_EXTENSIONS)}."
        ) from None


def absolute_output(output: str, scene: str) -> str:
    """The output pattern as an absolute path; ``//`` is the scene's folder, as in Blender.

    A trailing slash (a folder, so frames are named ``0001.png``...) is kept.
    """
    folder = output.endswith(("/", os.sep))
    if output.startswith("//"):
        path = os.path.join(os.path.dirname(os.path.abspath(scene)), output[2:])
    else:
        path = os.path.expanduser(output)
    path = os.path.abspath(path)
    return path + os.sep if folder and not path.endswith(os.sep) else path


def frame_name(name: str, frame: int) -> str:
    """Puts ``frame`` into a file name as Blender does (without adding an extension).

    The last run of ``#`` becomes the frame, zero-padded to the run's length; a name without
    ``#`` gets the frame appended with four digits.
    """
    if "#" not in name:
        name += "####"
    runs = list(_HASHES.finditer(name))
    last = runs[-1]
    digits = last.end() - last.start()
    return f"{name[: last.start()]}{frame:0{digits}d}{name[last.end() :]}"


def ensure_extension(path: str, extensions: tuple[str, ...]) -> str:
    """Adds the format's extension unless present, replacing another image extension."""
    lower = path.lower()
    if any(lower.endswith(ext) for ext in extensions):
        return path
    if any(lower.endswith(ext) for ext in IMAGE_EXTENSIONS):
        return os.path.splitext(path)[0] + extensions[0]
    return path + extensions[0]


def expand_output(pattern: str, frame: int, extensions: tuple[str, ...] | None) -> str:
    """The file Blender writes for ``frame`` given the ``-o`` pattern (absolute or not).

    Only the file name's ``#`` are replaced (those in folder names stay). With ``extensions``
    None (the scene's format, unknown here) no extension is added.
    """
    folder, name = os.path.split(pattern)
    path = os.path.join(folder, frame_name(name, frame)) if folder else frame_name(name, frame)
    return ensure_extension(path, extensions) if extensions else path


def strip_image_extension(name: str) -> str:
    """The file name without its extension when that is an image extension."""
    root, ext = os.path.splitext(name)
    return root if ext.lower() in IMAGE_EXTENSIONS else name


# --- the executable --------------------------------------------------------------------------


def resolve_blender(
    setting: str = "",
    *,
    which: Callable[[str], str | None] = shutil.which,
    python: str = sys.executable,
    has_bpy: bool | None = None,
) -> list[str]:
    """The command that starts Blender on this node.

    Args:
        setting: the ``blender`` setting: a path or a program name; empty to look for one.
        which: finds a program on PATH (``shutil.which``).
        python: the agent's interpreter, next to which ``cloudburst-blender`` is installed.
        has_bpy: whether ``python`` can import ``bpy``; looked up when None.

    Returns:
        The named executable; else ``blender`` on PATH; else, when ``bpy`` is installed, the
        ``cloudburst-blender`` script next to ``python`` or else
        ``[python, "-m", "cloud_agent.blender_compat"]``.

    Raises:
        ConfigError: the setting names a program that does not exist or cannot run, or no
            Blender is found at all.
    """
    if setting:
        found = which(setting)
        if found is None:
            raise ConfigError(
                f"The Blender executable {setting!r} (setting 'blender', CLOUDBURST_BLENDER or "
                "--blender) does not exist or is not executable. Give the full path to blender, "
                "or leave it empty to use blender from PATH."
            )
        return [found]
    found = which("blender")
    if found is not None:
        return [found]
    if has_bpy is None:
        has_bpy = importlib.util.find_spec("bpy") is not None
    if not has_bpy:
        raise ConfigError(
            "No Blender on this node: blender is not on PATH and the bpy module is not "
            "installed. Install Blender, set 'blender' (CLOUDBURST_BLENDER or --blender) to its "
            "path, or install the bpy wheel (pip install 'cloudburst[blender]')."
        )
    script = Path(python).parent / COMPAT_SCRIPT
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [python, "-m", COMPAT_MODULE]


# --- the runner ------------------------------------------------------------------------------


def remove_earlier_attempts(staging_root: str, task_id: int, attempt: int) -> list[str]:
    """Removes the staging folders of a task's attempts before ``attempt``.

    Such a folder is left when an agent is killed outright in mid-render. Later attempts and
    other tasks' folders are kept: they may be rendering right now. ``staging_root`` (the
    ``.cloudburst-partial`` folder) is removed too when nothing is left in it.

    Returns:
        The folders removed.
    """
    try:
        names = os.listdir(staging_root)
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        match = re.fullmatch(rf"{task_id}-(\d+)", name)
        if match is None or int(match[1]) >= attempt:
            continue
        path = os.path.join(staging_root, name)
        logger.info("task %s: removing %s, left by attempt %s", task_id, path, match[1])
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    with contextlib.suppress(OSError):
        os.rmdir(staging_root)  # only when empty
    return removed


def scene_scripts(env: dict[str, str]) -> list[str]:
    """The ``--python`` options that run after the scene loads, before anything renders.

    The path map's script first (libraries it reloads may bring cameras), then the one that
    picks the chosen view layer and camera; none when the task needs neither.
    """
    scripts = [REMAP_SCRIPT] if env.get(PATH_MAP_ENV) else []
    if env.get(TARGET_ENV) or env.get(CAMERA_ENV):
        scripts.append(TARGET_SCRIPT)
    if not scripts:
        return []
    return ["--python-exit-code", "1", *(arg for s in scripts for arg in ("--python", s))]


class BlenderRunner:
    """Runs Blender jobs with one executable (``Runner`` for the ``blender`` DCC)."""

    dcc = "blender"

    def __init__(self, executable: Sequence[str]) -> None:
        self.executable = list(executable)

    @classmethod
    def from_settings(cls, settings: Settings) -> BlenderRunner:
        """The runner for the configured executable (see ``resolve_blender``).

        Raises:
            ConfigError: the ``blender`` setting names no usable program.
        """
        return cls(resolve_blender(settings.blender))

    def prepare(self, assignment: TaskAssignment) -> BlenderTaskRender:
        """Builds the attempt for one task and creates its staging folder.

        Staging folders left by earlier attempts at the same task (their agent was killed before
        its ``cleanup()``) are removed first.

        Runs on the agent's main thread.

        Raises:
            RenderError: the frames cannot be given to Blender, the output format is unknown,
                or the output folder cannot be created.
        """
        return BlenderTaskRender(assignment, self.executable)


class BlenderTaskRender:
    """One Blender attempt at one task (``TaskRender``); used by one thread."""

    def __init__(self, assignment: TaskAssignment, executable: Sequence[str]) -> None:
        self.assignment = assignment
        self.frames = list(assignment.frames)
        first, last, step = frame_run(self.frames)
        if first < 0:
            raise RenderError(
                f"Blender's command line cannot render negative frames ({first}): it reads "
                "-s/-e values that start with '-' as relative to the scene's range."
            )
        self.extensions = format_extensions(assignment.output_format)
        fmt = assignment.output_format.strip().upper()
        self.final_pattern = absolute_output(assignment.output, assignment.scene)
        self.final_dir, name = os.path.split(self.final_pattern)
        self.staging_dir = os.path.join(
            self.final_dir, STAGING_DIR_NAME, f"{assignment.task_id}-{assignment.attempt}"
        )
        self.staging_pattern = os.path.join(self.staging_dir, name)
        self._expected = {
            self._key(expand_output(name, f, self.extensions)): f for f in self.frames
        }
        self.command = [
            *executable, "-b", assignment.scene,
            *scene_scripts(assignment.env),
            "-o", self.staging_pattern,
            *(["-F", fmt] if fmt else []),
            "-s", str(first), "-e", str(last),
            *(["-j", str(step)] if step != 1 else []),
            "-a",
        ]  # fmt: skip
        self.env = {"PYTHONUNBUFFERED": "1", **assignment.env}
        self._files: dict[int, list[str]] = {}
        self._extra_files: list[str] = []
        self._errors: list[str] = []
        self._current: int | None = None
        self._fraction = 0.0
        self._progress = 0.0
        self._make_staging_dir()

    # --- TaskRender ------------------------------------------------------------------------

    def interpret(self, line: str) -> LineReport:
        """Reads one line of Blender's output; a ``Saved:`` line moves its frame into place."""
        event = blender_log.parse_line(line)
        if event is None:
            return LineReport()
        if isinstance(event, blender_log.FrameSaved):
            frames = self._on_saved(event.path)
            return LineReport(progress=self._update_progress(), frames_done=frames)
        if isinstance(event, blender_log.FrameStarted):
            if event.frame != self._current:
                self._current, self._fraction = event.frame, 0.0
            return LineReport(progress=self._update_progress())
        if isinstance(event, blender_log.FrameProgress):
            if event.frame != self._current:
                self._current, self._fraction = event.frame, 0.0
            self._fraction = max(self._fraction, event.fraction)
            return LineReport(progress=self._update_progress())
        self._errors.append(event.message)
        return LineReport(error=event.message)

    def frames_done(self) -> list[int]:
        """Frames of this attempt whose file is in its final place, in order."""
        return [frame for frame in self.frames if frame in self._files]

    def progress(self) -> float:
        """Frames saved over frames in the task, plus the share of the frame in progress."""
        return self._progress

    def finish(self, exit_code: int | None) -> list[str]:
        """Checks every frame has its file and returns the final paths, frame by frame.

        Runs on the agent's main thread once Blender has ended on its own. Frames Blender wrote
        without a ``Saved:`` line are moved into place only after a clean exit.

        Raises:
            RenderError: Blender failed, or frames have no output file.
        """
        if exit_code == 0:
            self._sweep_staging()
        missing = [
            frame
            for frame in self.frames
            if not self._files.get(frame) or not all(map(os.path.isfile, self._files[frame]))
        ]
        last_error = f" Blender's last error: {self._errors[-1]}" if self._errors else ""
        if exit_code != 0:
            how = "could not start" if exit_code is None else f"exited with code {exit_code}"
            raise RenderError(
                f"Blender {how} after writing {len(self.frames) - len(missing)} of "
                f"{len(self.frames)} frame(s).{last_error}"
            )
        if missing:
            raise RenderError(
                f"Blender finished but wrote no file for frame(s) {format_frames(missing)} "
                f"({len(missing)} of {len(self.frames)}), expected at "
                f"{expand_output(self.final_pattern, missing[0], self.extensions)}.{last_error}"
            )
        outputs = [path for frame in self.frames for path in self._files[frame]]
        return outputs + self._extra_files

    def cleanup(self) -> None:
        """Removes the staging folder, and the shared staging parent when it is empty."""
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(self.staging_dir))

    # --- helpers ---------------------------------------------------------------------------

    def _key(self, file_name: str) -> str:
        """How a staged file is matched to its frame (by name; sans extension if unknown)."""
        name = os.path.basename(file_name)
        return name if self.extensions else strip_image_extension(name)

    def _make_staging_dir(self) -> None:
        shutil.rmtree(self.staging_dir, ignore_errors=True)  # left by a crashed agent
        task_id, attempt = self.assignment.task_id, self.assignment.attempt
        remove_earlier_attempts(os.path.dirname(self.staging_dir), task_id, attempt)
        error: OSError | None = None
        for _ in range(3):  # again if another render's cleanup removed the empty parent meanwhile
            try:
                os.makedirs(self.staging_dir, exist_ok=True)
                return
            except FileNotFoundError as exc:
                error = exc
            except OSError as exc:
                error = exc
                break
        assert error is not None
        raise RenderError(
            f"Cannot create the output folder {self.final_dir}: {error.strerror or error}. "
            "Check the job's output path and that this render node may write there."
        )

    def _in_staging(self, path: str) -> bool:
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.normpath(folder) == os.path.normpath(self.staging_dir):
            return True
        try:
            return os.path.samefile(folder, self.staging_dir)
        except OSError:
            return False

    def _on_saved(self, path: str) -> tuple[int, ...]:
        """Moves a file Blender has finished into its final place; returns its frame."""
        task_id = self.assignment.task_id
        if not self._in_staging(path):
            logger.debug("task %s: Blender saved %s outside the staging folder", task_id, path)
            return ()
        return self._move_into_place(os.path.join(self.staging_dir, os.path.basename(path)))

    def _move_into_place(self, staged: str) -> tuple[int, ...]:
        task_id = self.assignment.task_id
        name = os.path.basename(staged)
        final = os.path.join(self.final_dir, name)
        try:
            os.replace(staged, final)
        except OSError as exc:
            message = f"Cannot move {staged} to {final}: {exc.strerror or exc}"
            logger.error("task %s: %s", task_id, message)
            self._errors.append(message)
            return ()
        frame = self._expected.get(self._key(name))
        if frame is None:
            logger.info("task %s: Blender also wrote %s", task_id, final)
            if final not in self._extra_files:
                self._extra_files.append(final)
            return ()
        files = self._files.setdefault(frame, [])
        if final not in files:
            files.append(final)
        logger.debug("task %s: frame %s in place at %s", task_id, frame, final)
        return (frame,)

    def _sweep_staging(self) -> None:
        """After a clean exit, moves expected frames whose ``Saved:`` line was not seen."""
        try:
            names = sorted(os.listdir(self.staging_dir))
        except OSError:
            return
        for name in names:
            frame = self._expected.get(self._key(name))
            if frame is not None and frame not in self._files:
                self._move_into_place(os.path.join(self.staging_dir, name))

    def _update_progress(self) -> float:
        done = len(self._files)
        partial = 0.0
        if self._current is not None and self._current not in self._files:
            partial = self._fraction if self._current in self._expected.values() else 0.0
        value = min((done + partial) / len(self.frames), 1.0)
        if done < len(self.frames):
            value = min(value, 0.999)
        self._progress = max(self._progress, value)
        return self._progress
