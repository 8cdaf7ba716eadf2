"""From the scene's facts and the artist's choices in the panel to the job the daemon accepts.

Two pure functions serve every DCC alike: ``build_job_spec`` turns a ``SceneInfo`` and the
panel's ``PanelSettings`` into a ``JobSpec``, and ``preflight`` lists what is wrong with a
submission before it leaves the workstation, each ``Problem`` with the sentence that fixes it.
Neither does IO: the caller passes the scene's dependencies, whether the scene has unsaved
changes and whether the daemon answered.

The job holds a unit of the limits named after its DCC and renderer (``maya``, ``arnold``:
``panel_limits``) unless the artist names others, so the licence limits a TD sets apply to panel
submissions without the artist doing anything. The node requirements, the failure bound and
the job it waits for come from the panel's production fields (``production_fields``).

The wire ``JobSpec`` has no field yet for the render target (Maya render layer, Houdini ROP,
Nuke Write node, Blender view layer) or the camera, so a chosen one travels to the render node
in the job's environment as ``CLOUDBURST_RENDER_TARGET`` and ``CLOUDBURST_CAMERA``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from common.errors import FrameSpecError, InvalidInput
from common.frame_tokens import has_frame_token
from common.frames import parse_frames
from common.host import Asset, RenderTarget, SceneInfo
from common.models import JobSpec, Label, Placement

#: Environment variable that names the render target chosen in the panel ("" for all).
TARGET_ENV = "CLOUDBURST_RENDER_TARGET"
#: Environment variable that names the camera chosen in the panel ("" for the scene's own).
CAMERA_ENV = "CLOUDBURST_CAMERA"

#: Output formats (and file extensions) that write one movie file, which tasks cannot share.
MOVIE_FORMATS = frozenset({"FFMPEG", "AVI_JPEG", "AVI_RAW", "AVIJPEG", "AVIRAW", "H264", "XVID",
                           "THEORA", "MOV", "MP4", "QUICKTIME", "MKV", "WEBM"})  # fmt: skip
MOVIE_EXTENSIONS = (".mov", ".mp4", ".avi", ".mkv", ".webm", ".m4v", ".mxf")

#: Where each DCC lets the artist repair file paths, for the missing-files fix.
_RELINK_HINTS = {
    "blender": "Relink them (File > External Data > Find Missing Files) or remove what uses them",
    "maya": "Relink them in the File Path Editor (Windows > General Editors) or delete the nodes",
    "houdini": "Point the parameters listed under Dependencies at files that exist",
    "nuke": "Fix the file knobs of the Read nodes listed under Dependencies",
}


_LIMIT_NAME = TypeAdapter(Label)


def panel_limits(dcc: str, renderer: str) -> list[str]:
    """The limits a panel submission holds: its DCC's and its renderer's, lower-case, each
    once; a name no limit could have (``V-Ray 6``) is left out."""
    limits: list[str] = []
    for name in (dcc.strip().lower(), renderer.strip().lower()):
        try:
            label = _LIMIT_NAME.validate_python(name)
        except ValidationError:
            continue
        if label not in limits:
            limits.append(label)
    return limits


@dataclass(frozen=True)
class PanelSettings:
    """What the artist chose in the submit panel. Empty strings mean "the scene's own"."""

    name: str = ""
    """Job name; empty: the scene file's name without extension."""
    project: str = "default"
    """Project (show) the job is accounted to."""
    frames: str = ""
    """Frame spec (``1-100``, ``1-100x5``, ``1,5,10-20``); empty: the scene's frame range."""
    chunk_size: int = 1
    """Frames per task."""
    priority: int = 50
    """The artist's priority, 0 (lowest) to 100."""
    placement: Placement = Placement.AUTO
    target: str = ""
    """Name of the render target to render; empty: what the scene renders by default."""
    camera: str = ""
    """Camera to render through; empty: the scene's (or the target's) own."""
    output: str = ""
    """Output path pattern (``#`` for the frame); empty: the target's or the scene's."""
    output_format: str = ""
    """Image format; empty: the scene's."""
    max_retries: int = 3
    timeout_s: int | None = None
    """Per-task time limit in seconds; None for none."""
    due: str = ""
    """When the frames are due, ISO 8601 with its UTC offset; empty for no due date."""
    shotgrid_project: str = ""
    """The ShotGrid project's name; the three ShotGrid fields empty: no link."""
    shotgrid_shot: str = ""
    """The shot's code (``sh010``)."""
    shotgrid_asset: str = ""
    """The asset's code (``chair``), when the job renders an asset instead of a shot."""
    shotgrid_task: str = ""
    """The task's name within its shot or asset (``lighting``)."""
    description: str = ""
    paused: bool = False
    """Submit the job paused (it waits for a Resume)."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables of the render (TDs and admins only)."""
    pool: str = ""
    """Only nodes of this pool; empty: any."""
    os: str = ""
    """Only nodes with this OS (``linux``, ``windows``, ``macos``); empty: any."""
    min_memory_mb: int = 0
    gpus: int = 0
    min_gpu_memory_mb: int = 0
    dcc_version: str = ""
    """Only nodes with this version of the DCC (``2024`` takes ``2024.2``); empty: any."""
    tags: str = ""
    """Tags every node must have, separated by commas or spaces."""
    limits: str | None = None
    """The limits each task holds, separated by commas or spaces; None: the DCC's and the
    renderer's (``panel_limits``), "" none."""
    max_failed_tasks: str = ""
    """Stop the job once this many tasks failed for good (``5``, or ``10%``); empty: never."""
    after_job: int | None = None
    """The job this one waits for; None: none."""
    frame_by_frame: bool = False
    """Wait for ``after_job`` frame by frame (frame N starts once its frame N is done) instead
    of for the whole job."""


class Severity(StrEnum):
    """How bad a pre-flight problem is."""

    ERROR = "error"
    """The job would fail or render the wrong thing: Submit stays disabled (missing files
    excepted: the panel names them and the artist may submit anyway)."""
    WARNING = "warning"
    """Worth a look; Submit stays possible."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission, and how to fix it."""

    code: str
    """Stable identifier (``unsaved_scene``, ``missing_files``...), for tests and logs."""
    severity: Severity
    message: str
    """What is wrong, in one sentence."""
    fix: str
    """What to do about it, in one sentence."""
    action: str = ""
    """A fix the panel can run with one click: ``save`` (save the scene) or ``check_daemon``."""


# --- defaults from the scene -----------------------------------------------------------------


def scene_frames(info: SceneInfo) -> str:
    """The scene's frame range as a frame spec (``1-250``, ``1-250x2``, ``7``)."""
    if info.frame_end == info.frame_start:
        return str(info.frame_start)
    step = f"x{info.frame_step}" if info.frame_step > 1 else ""
    return f"{info.frame_start}-{info.frame_end}{step}"


def target_frames(info: SceneInfo, target: str = "") -> str:
    """The frames a target renders by its own range (a Houdini ROP's, a Nuke Write's limit),
    else the scene's range. ``""`` is the scene's default target (``extra["default_target"]``).
    """
    name = target or (info.extra or {}).get("default_target", "")
    ranges = (info.extra or {}).get("target_frames") or {}
    return str(ranges.get(name) or scene_frames(info)) if name else scene_frames(info)


def scene_stem(info: SceneInfo) -> str:
    """The scene file's name without extension, or ``untitled`` for an unsaved scene."""
    name = os.path.basename(info.scene_path.replace("\\", "/"))
    return os.path.splitext(name)[0] or "untitled"


def resolve_output(pattern: str, scene_path: str) -> str:
    """Makes an output pattern absolute against the scene's folder, as the DCCs do.

    ``//`` (Blender's "next to the .blend") and plain relative paths start at the scene's
    folder, ``~`` is the home folder; absolute paths and paths starting with a variable
    (``$HIP/...``) are kept. A trailing slash (a folder of frames) is kept too.
    """
    pattern = pattern.strip()
    if not pattern or pattern.startswith(("$", "[")):
        return pattern
    folder = pattern.endswith(("/", "\\"))
    if pattern.startswith("//"):
        pattern = pattern[2:]
    pattern = os.path.expanduser(pattern)
    if not os.path.isabs(pattern):
        if not scene_path:
            return pattern
        pattern = os.path.join(os.path.dirname(scene_path), pattern)
    path = os.path.normpath(pattern)
    return path + os.sep if folder else path


def find_target(info: SceneInfo, name: str) -> RenderTarget | None:
    """The scene's render target called ``name``; None for ``""`` (the scene's default).

    Raises:
        InvalidInput: the scene has no target of that name.
    """
    if not name:
        return None
    for target in info.targets:
        if target.name == name:
            return target
    known = ", ".join(t.name for t in info.targets) or "none"
    raise InvalidInput(
        f"The scene has no render target {name!r} (it has: {known}). Pick one in the panel."
    )


def find_camera(info: SceneInfo, name: str) -> None:
    """Checks the camera called ``name`` is one the scene offers (``""``: the scene's own).

    The scene's cameras and those of its targets count (a Houdini ROP may name a camera that
    is not an object).

    Raises:
        InvalidInput: the scene offers no camera of that name (a Nuke script offers none).
    """
    known = list(dict.fromkeys([*info.cameras, *(c for t in info.targets for c in t.cameras)]))
    if not name or name in known:
        return
    raise InvalidInput(
        f"The scene has no camera {name!r} (it has: {', '.join(known) or 'none'}). Pick one in "
        "the panel, or Scene camera."
    )


def default_output(info: SceneInfo, target: str = "") -> str:
    """The output pattern a job gets when the artist leaves the field alone.

    The chosen target's output, else the scene's, else ``<scene folder>/renders/<scene>/
    <scene>_####``; made absolute with ``resolve_output``.
    """
    found = next((t for t in info.targets if t.name == target), None) if target else None
    pattern = (found.output if found else "") or info.output
    if not pattern:
        stem = scene_stem(info)
        pattern = os.path.join("renders", stem, f"{stem}_####")
    return resolve_output(pattern, info.scene_path)


def default_limits(info: SceneInfo, target: str = "") -> list[str]:
    """The limits a job holds unless the artist names others: its DCC's and the renderer of
    the chosen target (else the scene's)."""
    found = next((t for t in info.targets if t.name == target), None) if target else None
    return panel_limits(info.dcc, (found.renderer if found else "") or info.renderer)


def defaults_for(info: SceneInfo) -> PanelSettings:
    """The panel's starting values for a scene: its name, the default target's frame range,
    output and format."""
    return PanelSettings(
        name=scene_stem(info),
        frames=target_frames(info),
        output=default_output(info),
        output_format=info.output_format,
    )


# --- the job spec ----------------------------------------------------------------------------


def build_job_spec(
    info: SceneInfo,
    settings: PanelSettings,
    *,
    owner: str | None = None,
    assets: Sequence[Asset] = (),
) -> JobSpec:
    """Builds the job the daemon accepts from the scene's facts and the panel's settings.

    Pure: the same arguments always give the same spec, on any machine.

    Args:
        info: the open scene's facts.
        settings: the artist's choices; empty fields take the scene's values.
        owner: the user the job belongs to; None (the panel) lets the daemon make it the
            signed-in caller.
        assets: the scene's dependencies. The wire ``JobSpec`` has no dependency manifest yet,
            so they are not sent; the parameter is here so callers need not change when it
            comes. ``preflight`` is where missing files stop a submission.

    Returns:
        The validated job spec.

    Raises:
        InvalidInput: a value breaks a rule of the job spec, or the target or the camera does
            not exist; the message names the field and says what to write instead.
    """
    del assets  # not part of the wire model yet (see Args)
    target = find_target(info, settings.target)
    find_camera(info, settings.camera)
    output = settings.output.strip() or default_output(info, settings.target)
    renderer = (target.renderer if target is not None else "") or info.renderer
    env = dict(settings.env)
    if settings.target:
        env[TARGET_ENV] = settings.target
    if settings.camera:
        env[CAMERA_ENV] = settings.camera
    fields = {
        "name": settings.name.strip() or scene_stem(info),
        "owner": owner,
        "project": settings.project.strip() or "default",
        "dcc": info.dcc,
        "renderer": renderer,
        "scene": info.scene_path,
        "frames": settings.frames.strip() or target_frames(info, settings.target),
        "chunk_size": settings.chunk_size,
        "output": resolve_output(output, info.scene_path),
        "output_format": settings.output_format.strip() or info.output_format,
        "env": env,
        "priority": settings.priority,
        "max_retries": settings.max_retries,
        "timeout_s": settings.timeout_s,
        "placement": settings.placement,
        "due": _due(settings.due),
        "shotgrid": _shotgrid(settings),
        "description": settings.description.strip(),
        "paused": settings.paused,
        **production_fields(settings, panel_limits(info.dcc, renderer)),
    }
    try:
        return JobSpec.model_validate(fields, strict=False)
    except ValidationError as exc:
        problems = "; ".join(dict.fromkeys(_describe(error) for error in exc.errors()))
        raise InvalidInput(f"The job cannot be submitted: {problems}") from None


def _due(text: str) -> datetime | None:
    """The due date the panel keeps as text; one without its UTC offset is refused."""
    if not text.strip():
        return None
    try:
        due = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"Due: {text!r} is not a date; write it as 2026-03-01T18:00+00:00."
        ) from None
    if due.tzinfo is None:
        raise InvalidInput(f"Due: {text!r} has no UTC offset; add one, e.g. +00:00.")
    return due


def production_fields(settings: PanelSettings, default_limits: list[str]) -> dict[str, object]:
    """The spec's node requirements, limits, failure bound and dependency from the panel's
    values (``default_limits`` when the artist left the limits alone); checked by the spec."""
    limits = default_limits if settings.limits is None else _names(settings.limits)
    after: list[object] = []
    if settings.after_job is not None:
        frames = "same" if settings.frame_by_frame else "all"
        after.append({"job": settings.after_job, "frames": frames})
    failed = settings.max_failed_tasks.strip().replace(" ", "")
    return {
        "requirements": {
            "pool": settings.pool.strip() or None,
            "os": settings.os or None,
            "min_memory_mb": settings.min_memory_mb,
            "gpus": settings.gpus,
            "min_gpu_memory_mb": settings.min_gpu_memory_mb,
            "dcc_version": settings.dcc_version.strip() or None,
            "tags": _names(settings.tags),
        },
        "limits": limits,
        "depends_on": after,
        "max_failed_tasks": int(failed) if failed.isdigit() else (failed or None),
    }


def _names(text: str) -> list[str]:
    """Names separated by commas or spaces, each once, in order."""
    return list(dict.fromkeys(text.replace(",", " ").split()))


def _shotgrid(settings: PanelSettings) -> dict[str, str] | None:
    """The ShotGrid link by codes, which the daemon resolves to ids; None when none is named."""
    codes = {
        "project": settings.shotgrid_project.strip(),
        "shot": settings.shotgrid_shot.strip(),
        "asset": settings.shotgrid_asset.strip(),
        "task": settings.shotgrid_task.strip(),
    }
    named = {key: value for key, value in codes.items() if value}
    return named or None


_FIELD_LABELS = {
    "name": "Job name",
    "project": "Project",
    "scene": "Scene",
    "frames": "Frames",
    "chunk_size": "Chunk size",
    "output": "Output",
    "priority": "Priority",
    "max_retries": "Retries",
    "timeout_s": "Timeout",
    "due": "Due",
    "shotgrid": "ShotGrid",
    "description": "Description",
    "env": "Environment",
    "requirements.pool": "Pool",
    "requirements.os": "OS",
    "requirements.min_memory_mb": "Min memory",
    "requirements.gpus": "GPUs",
    "requirements.min_gpu_memory_mb": "Min GPU memory",
    "requirements.dcc_version": "DCC version",
    "requirements.tags": "Tags",
    "limits": "Limits",
    "depends_on": "After job",
    "max_failed_tasks": "Stop after",
}

#: What each field given as text should hold, said in place of pydantic's own words.
_NAME_RULE = "use letters, digits and _ . + -, starting with a letter or a digit"
_FIELD_FORMS = {
    "Pool": ("a pool name", _NAME_RULE),
    "Tags": ("a tag name", _NAME_RULE),
    "Limits": ("a limit name (maya, arnold)", _NAME_RULE),
    "DCC version": ("a version", "write one such as 2024 or 4.2.3"),
    "Stop after": (
        "a count of failed tasks",
        "write a number of tasks (5) or a percentage from 1% to 100% (10%), or nothing to "
        "let every task run",
    ),
}
"""What a field given as text holds, and how to write it, in place of pydantic's words."""


def _describe(error: ErrorDetails) -> str:
    """One pydantic error in the panel's words: ``Frames: <message>``."""
    loc = [str(part) for part in error["loc"]]
    label = ""
    for end in range(len(loc), 0, -1):  # the longest path that has a label
        label = _FIELD_LABELS.get(".".join(loc[:end]), "")
        if label:
            break
    label = label or (loc[0] if loc else "")
    message = error["msg"].removeprefix("Value error, ")
    if label in _FIELD_FORMS:
        what, how = _FIELD_FORMS[label]
        message = f"{str(error['input'])!r} is not {what}; {how}"
    return f"{label}: {message}" if label else message


# --- pre-flight ------------------------------------------------------------------------------


def preflight(
    info: SceneInfo,
    settings: PanelSettings,
    assets: Sequence[Asset],
    *,
    project_root: str | None,
    daemon_ok: bool | None,
    dirty: bool = False,
    daemon_url: str = "",
) -> list[Problem]:
    """Everything wrong with submitting this scene with these settings, errors first.

    Pure and cheap: the panel runs it on every edit.

    Args:
        info: the open scene's facts (``scene_path`` empty for a scene never saved).
        settings: the artist's choices.
        assets: the scene's dependencies, as the host found them.
        project_root: the show's folder that outputs belong under; None to skip that check.
        daemon_ok: whether the daemon answered its health check; None while unknown.
        dirty: whether the scene has unsaved changes.
        daemon_url: the daemon's address, for the message when it does not answer.

    Returns:
        The problems, errors before warnings; empty when the job may go.
    """
    problems: list[Problem] = []
    problems += _scene_problems(info, dirty)
    frame_problems = _frame_problems(info, settings)
    problems += frame_problems
    problems += _asset_problems(info, assets)
    problems += _output_problems(info, settings, project_root)
    if not any(p.severity is Severity.ERROR for p in frame_problems):
        problems += _frame_token_problems(info, settings)
    problems += _target_problems(info, settings)
    if daemon_ok is False:
        where = f" at {daemon_url}" if daemon_url else ""
        problems.append(
            Problem(
                "daemon_unreachable",
                Severity.ERROR,
                f"The Cloudburst daemon{where} does not answer.",
                "Start it (cloudburst daemon) or set daemon_url in the Cloudburst config file "
                "(or CLOUDBURST_DAEMON_URL), then press Check again.",
                action="check_daemon",
            )
        )
    if not any(p.severity is Severity.ERROR for p in frame_problems):
        problems += _spec_problems(info, settings)
    return sorted(problems, key=lambda p: p.severity is not Severity.ERROR)


def _scene_problems(info: SceneInfo, dirty: bool) -> list[Problem]:
    if not info.scene_path:
        return [
            Problem(
                "unsaved_scene",
                Severity.ERROR,
                "The scene has never been saved, so the farm has no file to render.",
                "Save the scene in the project's folder (where the farm can read it), then "
                "press Refresh.",
            )
        ]
    if dirty:
        return [
            Problem(
                "unsaved_changes",
                Severity.ERROR,
                "The scene has unsaved changes; the farm renders the file on disk, not what "
                "you see.",
                "Save the scene, then submit.",
                action="save",
            )
        ]
    return []


def _frame_problems(info: SceneInfo, settings: PanelSettings) -> list[Problem]:
    spec = settings.frames.strip() or target_frames(info, settings.target)
    if not settings.frames.strip() and info.frame_end < info.frame_start:
        return [
            Problem(
                "empty_frames",
                Severity.ERROR,
                f"The scene's frame range {info.frame_start} to {info.frame_end} is empty.",
                "Type the frames to render, such as 1-100, or fix the scene's range.",
            )
        ]
    try:
        frames = parse_frames(spec)
    except FrameSpecError as exc:
        empty = not spec.strip()
        return [
            Problem(
                "empty_frames" if empty else "invalid_frames",
                Severity.ERROR,
                exc.message,
                "Write frames such as 1-100, 1-100x5 (every fifth) or 1,5,10-20.",
            )
        ]
    outside = [f for f in frames if not info.frame_start <= f <= info.frame_end]
    own = spec.replace(" ", "") == target_frames(info, settings.target)  # the target's own range
    if outside and info.frame_end >= info.frame_start and not own:
        return [
            Problem(
                "frames_outside_scene",
                Severity.WARNING,
                f"{len(outside)} of the frames ({outside[0]}...) lie outside the scene's range "
                f"{info.frame_start}-{info.frame_end}.",
                "Check the frame range; frames outside the animation render as still frames.",
            )
        ]
    return []


def _asset_problems(info: SceneInfo, assets: Sequence[Asset]) -> list[Problem]:
    missing = [a for a in assets if not a.exists and a.evaluated]
    if not missing:
        return []
    gaps = sum(len(a.missing_files) for a in missing)
    names = ", ".join(os.path.basename(a.path.rstrip("/\\")) or a.path for a in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    frames = f" ({gaps} {'file' if gaps == 1 else 'files'} missing from sequences)" if gaps else ""
    noun = "file the scene needs is" if len(missing) == 1 else "files the scene needs are"
    hint = _RELINK_HINTS.get(info.dcc, "Point what uses them at files that exist")
    return [
        Problem(
            "missing_files",
            Severity.ERROR,
            f"{len(missing)} {noun} missing: {names}{more}{frames}. Frames rendered without "
            f"{'it' if len(missing) == 1 else 'them'} would be wrong.",
            f"{hint}, save, and check again, or Submit anyway if the frames do not read "
            "them (the panel names them first). The missing files are red under Dependencies.",
        )
    ]


def _job_output(info: SceneInfo, settings: PanelSettings) -> str:
    """The output the job gets: the typed one, else the target's or the scene's, absolute."""
    return resolve_output(
        settings.output.strip() or default_output(info, settings.target), info.scene_path
    )


def _is_movie(info: SceneInfo, settings: PanelSettings, output: str) -> bool:
    fmt = (settings.output_format.strip() or info.output_format).upper()
    return fmt in MOVIE_FORMATS or output.lower().endswith(MOVIE_EXTENSIONS)


def _output_problems(
    info: SceneInfo, settings: PanelSettings, project_root: str | None
) -> list[Problem]:
    output = _job_output(info, settings)
    problems = []
    if _is_movie(info, settings, output):
        problems.append(
            Problem(
                "movie_output",
                Severity.ERROR,
                "The output is a movie file, which frames rendered on many machines cannot share.",
                "Render an image sequence (PNG, OpenEXR...) and make the movie from it after.",
            )
        )
    if project_root and os.path.isabs(output) and not _inside(output, project_root):
        stem = scene_stem(info)
        suggestion = os.path.join(project_root, "renders", stem, f"{stem}_####")
        problems.append(
            Problem(
                "output_outside_project",
                Severity.WARNING,
                f"The output {output} is outside the project folder {project_root}.",
                f"Write the frames under the project, e.g. {suggestion}, so render nodes and "
                "your team can reach them.",
            )
        )
    return problems


def _target_problems(info: SceneInfo, settings: PanelSettings) -> list[Problem]:
    """No target chosen, and the host found none to render by default (a Houdini scene whose
    only ROPs write caches or USD: ``extra["default_target"]`` empty)."""
    extra = info.extra or {}
    if settings.target or "default_target" not in extra or extra["default_target"]:
        return []
    known = ", ".join(t.name for t in info.targets[:5]) or "none"
    return [
        Problem(
            "no_default_target",
            Severity.ERROR,
            f"Nothing in the scene renders pictures by default (its render nodes: {known}).",
            "Choose what to render under Render target, or add a render node (Mantra, Karma, "
            "Redshift...) that writes files.",
        )
    ]


#: The token each DCC's fix suggests (the tokens each DCC reads: ``common.frame_tokens``).
_SUGGESTED_TOKENS = {"houdini": "$F4", "nuke": "####", "maya": "####"}


def _frame_token_problems(info: SceneInfo, settings: PanelSettings) -> list[Problem]:
    """A job of several frames whose output has no frame number: each frame would overwrite
    the same file, and the job would "succeed" with only the last one."""
    output = _job_output(info, settings)
    if not output or _is_movie(info, settings, output):
        return []  # a movie is refused on its own (movie_output)
    count = len(parse_frames(settings.frames.strip() or target_frames(info, settings.target)))
    if count < 2 or has_frame_token(output, info.dcc):
        return []
    stem, extension = os.path.splitext(output)
    token = _SUGGESTED_TOKENS.get(info.dcc, "####")
    return [
        Problem(
            "output_without_frame",
            Severity.ERROR,
            f"The output {output} has no frame number, so each of the {count} frames would "
            "overwrite the same file.",
            f"Put the frame number in the file name, as in {stem}.{token}{extension}, or "
            "render a single frame.",
        )
    ]


def _inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies under it (by name; nothing is read)."""
    path, root = os.path.normcase(os.path.normpath(path)), os.path.normcase(os.path.normpath(root))
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def _spec_problems(info: SceneInfo, settings: PanelSettings) -> list[Problem]:
    """What the daemon's own validation would refuse, found here first."""
    probe = info if info.scene_path else replace(info, scene_path="untitled")
    try:
        build_job_spec(probe, settings, owner="preflight")
    except InvalidInput as exc:
        return [
            Problem(
                "invalid_job",
                Severity.ERROR,
                exc.message,
                "Correct the field named in the message.",
            )
        ]
    return []
