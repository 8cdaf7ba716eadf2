"""Running the actions with ``bpy``: scene set-up, the render loop, Blender-style progress.

``bpy`` is imported inside the functions that need it, so this module imports on machines
without it. ``main`` is the entry point of ``cloudburst-blender``.
"""

from __future__ import annotations

import builtins
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloud_agent.blender_compat.actions import (
    Action,
    LoadScene,
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
from cloud_agent.blender_compat.command_line import PROG
from cloud_agent.blender_compat.formats import MOVIE_FORMATS
from cloud_agent.blender_compat.output_path import expand_output_path, format_timecode
from common.errors import UserFacingError

logger = logging.getLogger(__name__)

_ENGINE_ALIASES = {"BLENDER_EEVEE_NEXT": "BLENDER_EEVEE"}


class RenderFailed(UserFacingError):
    """Loading, setting up or rendering the scene failed; the command exits with code 1."""

    code = "render_failed"


def emit(text: str = "") -> None:
    """Prints a line to stdout and flushes it, so that progress is seen as it happens."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _ScriptExit(Exception):
    """A script called ``sys.exit``: Blender ends there, with its code, running nothing more."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Session:
    """What carries from one action to the next, as Blender's global state does."""

    bpy: Any
    script_argv: list[str]
    threads: int | None = None
    autoexec: bool | None = None
    python_exit_code: int = 0
    frame: int = 0


def run_actions(actions: Sequence[Action], script_argv: Sequence[str]) -> int:
    """Runs the actions with ``bpy``, in order, printing Blender-style progress.

    Args:
        actions: what ``parse_args`` returned.
        script_argv: the ``sys.argv`` Python scripts see (the whole command line).

    Returns:
        The exit code: 0, or the ``--python-exit-code`` of a failed script.

    Raises:
        RenderFailed: a scene cannot be loaded, set up or rendered.
    """
    import bpy  # Imported here so that the module imports on machines without bpy.

    session = _Session(bpy=bpy, script_argv=list(script_argv))

    @bpy.app.handlers.persistent  # Survives opening another .blend file.
    def on_stats(message: object, *_: object) -> None:
        text = str(message)
        if not text.startswith("Time:"):  # The frame's timing line is printed after saving.
            emit(f"Fra: {session.frame} | {text}")

    bpy.app.handlers.render_stats.append(on_stats)
    try:
        for action in actions:
            code = _run_action(session, action)
            if code:
                return code
    except _ScriptExit as exc:
        return exc.code
    finally:
        if on_stats in bpy.app.handlers.render_stats:
            bpy.app.handlers.render_stats.remove(on_stats)
    return 0


def _run_action(session: _Session, action: Action) -> int:
    bpy = session.bpy
    scene = bpy.context.scene
    match action:
        case LoadScene(path):
            _load_scene(session, path)
        case SelectScene(name):
            _select_scene(bpy, name)
        case SetOutput(path):
            scene.render.filepath = path
        case SetFormat(file_format):
            _set_format(scene, file_format)
        case SetEngine(engine):
            _set_engine(scene, engine)
        case SetFrameStart(frame):
            scene.frame_start = frame.resolve(scene.frame_start, scene.frame_start - 1)
        case SetFrameEnd(frame):
            scene.frame_end = frame.resolve(scene.frame_end, scene.frame_end - 1)
        case SetFrameStep(step):
            scene.frame_step = step
        case SetThreads(threads):
            session.threads = threads
        case SetUseExtension(enabled):
            scene.render.use_file_extension = enabled
        case SetAutoexec(enabled):
            session.autoexec = enabled
        case SetPythonExitCode(code):
            session.python_exit_code = code
        case RenderFrames(ranges):
            frames = resolve_frames(ranges, scene.frame_start, scene.frame_end)
            if not frames:
                print("Warning: -f names no frame (negative range ignored).", file=sys.stderr)
            _render(session, frames)
        case RenderAnimation():
            _render(session, list(range(scene.frame_start, scene.frame_end + 1, scene.frame_step)))
        case RunPythonExpr(code):
            return _run_python(session, code, "<string>")
        case RunPythonFile(path):
            try:
                with open(path, encoding="utf-8") as handle:
                    source = handle.read()
            except OSError as exc:
                raise RenderFailed(f"Cannot read Python file {path!r}: {exc.strerror}.") from None
            return _run_python(session, source, os.path.abspath(path))
    return 0


def _load_scene(session: _Session, path: str) -> None:
    absolute = os.path.abspath(path)
    if not os.path.isfile(absolute):
        raise RenderFailed(f'Cannot read file "{absolute}": No such file or directory')
    options: dict[str, Any] = {"filepath": absolute, "load_ui": False}
    if session.autoexec is not None:
        options["use_scripts"] = session.autoexec
    try:
        session.bpy.ops.wm.open_mainfile(**options)
    except RuntimeError as exc:
        raise RenderFailed(_bpy_message(exc)) from None


def _select_scene(bpy: Any, name: str) -> None:
    scene = bpy.data.scenes.get(name)
    if scene is None:
        known = ", ".join(s.name for s in bpy.data.scenes)
        raise RenderFailed(f"No scene named {name!r} in the file (it has: {known}).")
    window = bpy.context.window or next(iter(bpy.context.window_manager.windows), None)
    if window is None:
        raise RenderFailed(f"Cannot make {name!r} the active scene: the file has no window.")
    window.scene = scene


def _set_format(scene: Any, file_format: str) -> None:
    settings = scene.render.image_settings
    if hasattr(settings, "media_type"):  # Blender 5: the media type gates the formats.
        if file_format in MOVIE_FORMATS:
            settings.media_type = "VIDEO"
        elif file_format == "OPEN_EXR_MULTILAYER":
            settings.media_type = "MULTI_LAYER_IMAGE"
        else:
            settings.media_type = "IMAGE"
    try:
        settings.file_format = file_format
    except TypeError:
        raise RenderFailed(f"Format {file_format} is not available in this Blender.") from None


def _set_engine(scene: Any, engine: str) -> None:
    for candidate in dict.fromkeys((engine, engine.upper(), _ENGINE_ALIASES.get(engine.upper()))):
        if candidate is None:
            continue
        try:
            scene.render.engine = candidate
        except TypeError:
            continue
        return
    raise RenderFailed(
        f"engine not found '{engine}' (try CYCLES, BLENDER_EEVEE or BLENDER_WORKBENCH)"
    )


def _render(session: _Session, frames: list[int]) -> None:
    bpy = session.bpy
    scene = bpy.context.scene
    render = scene.render
    file_format = render.image_settings.file_format
    if file_format in MOVIE_FORMATS:
        raise RenderFailed(
            f"The scene writes a movie ({file_format}); {PROG} writes image sequences only. "
            "Add -F PNG (or another image format) after the scene."
        )
    if session.threads is not None:
        render.threads_mode = "FIXED" if session.threads else "AUTO"
        if session.threads:
            render.threads = session.threads
    for number, frame in enumerate(frames, start=1):
        path = expand_output_path(
            render.filepath,
            frame,
            file_format=file_format,
            use_extension=render.use_file_extension,
            blend_path=bpy.data.filepath or None,
        )
        if not render.use_overwrite and os.path.exists(path):
            emit(f'skipping existing frame "{path}"')
            continue
        logger.debug("frame %s (%s of %s) -> %s", frame, number, len(frames), path)
        _render_frame(session, scene, frame, path)


def _render_frame(session: _Session, scene: Any, frame: int, path: str) -> None:
    bpy = session.bpy
    session.frame = frame
    emit(f"Rendering frame {frame}")
    scene.frame_set(frame)
    started = time.monotonic()
    try:
        bpy.ops.render.render(write_still=False)
    except RuntimeError as exc:
        raise RenderFailed(f"Frame {frame}: {_bpy_message(exc)}") from None
    rendered = time.monotonic()
    result = next((image for image in bpy.data.images if image.type == "RENDER_RESULT"), None)
    if result is None:
        raise RenderFailed(f"Frame {frame}: Blender produced no render result.")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        result.save_render(filepath=path, scene=scene)
    except OSError as exc:
        raise RenderFailed(f"Frame {frame}: cannot write '{path}': {exc.strerror}") from None
    except RuntimeError as exc:
        raise RenderFailed(f"Frame {frame}: cannot write '{path}': {_bpy_message(exc)}") from None
    saved = time.monotonic()
    logger.debug(
        "frame %s rendered in %.2fs, saved in %.2fs", frame, rendered - started, saved - rendered
    )
    emit(f"Saved: '{path}'")
    emit(f" Time: {format_timecode(saved - started)} (Saving: {format_timecode(saved - rendered)})")
    emit()


def _run_python(session: _Session, source: str, filename: str) -> int:
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    if filename != "<string>":
        namespace["__file__"] = filename
    saved_argv = sys.argv
    sys.argv = list(session.script_argv)
    try:
        exec(compile(source, filename, "exec"), namespace)
    except SystemExit as exc:
        raise _ScriptExit(_exit_code(exc)) from None
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        if session.python_exit_code:
            print(f"Error: script failed, {filename}, exiting.", file=sys.stderr, flush=True)
            return session.python_exit_code
    finally:
        sys.argv = saved_argv
    return 0


def _exit_code(exc: SystemExit) -> int:
    """The process exit code of ``sys.exit(code)``, as Python gives it."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr, flush=True)
    return 1


def _bpy_message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[len("Error:") :].strip() if text.startswith("Error:") else text
