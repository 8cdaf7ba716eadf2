"""``cloudburst submit``: turns a scene and options into a ``JobSpec`` and sends it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from common.cli import preflight
from common.cli.context import echo_json, state_of
from common.cli.option_models import from_options
from common.cli.production import (
    PRODUCTION_OPTIONS,
    production_fields,
    production_options,
)
from common.client import new_idempotency_key
from common.errors import InvalidInput
from common.frames import chunk_frames, parse_frames
from common.models import JobSpec, Placement

_ENV_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def parse_env(pairs: Iterable[str]) -> dict[str, str]:
    """Turns ``KEY=VALUE`` strings into a dict; the value may hold ``=`` and be empty.

    Raises:
        InvalidInput: a pair has no ``=``, or its key is not a valid variable name.
    """
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--env {pair!r} has no '='. Write it as KEY=VALUE.")
        if not key or key[0].isdigit() or not set(key) <= _ENV_NAME_CHARS:
            raise InvalidInput(
                f"--env {pair!r}: {key!r} is not a variable name. Use letters, digits and _, "
                "not starting with a digit."
            )
        env[key] = value
    return env


def parse_due(text: str | None) -> datetime | None:
    """Reads an ISO 8601 date or date-time; one without a time zone is in local time.

    Raises:
        InvalidInput: the text is not an ISO 8601 date.
    """
    if text is None:
        return None
    try:
        due = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--due {text!r} is not a date. Write it as 2026-12-24 or 2026-12-24T18:00."
        ) from None
    return due.astimezone() if due.tzinfo is None else due


def default_output(scene: Path, cwd: Path | None = None) -> str:
    """The default output pattern: ``<cwd>/renders/<stem>/<stem>_####`` (absolute)."""
    base = (cwd or Path.cwd()).absolute()
    return str(base / "renders" / scene.stem / f"{scene.stem}_####")


def absolute_output(pattern: str) -> str:
    """Makes an output pattern absolute (agents do not share the submitter's cwd)."""
    return str(Path(pattern).expanduser().absolute())


#: The option that gives each ``JobSpec`` field, for errors that name what the user typed.
SPEC_OPTIONS: dict[str, str] = {
    "name": "--name", "owner": "--owner", "project": "--project", "dcc": "--dcc",
    "renderer": "--renderer", "scene": "SCENE", "frames": "--frames", "chunk_size": "--chunk",
    "output": "--output", "output_format": "--format", "env": "--env", "priority": "--priority",
    "max_retries": "--retries", "timeout_s": "--timeout", "due": "--due",
    "placement": "--placement", "description": "--description", "paused": "--paused",
    "shotgrid.project": "--sg-project", "shotgrid.shot": "--sg-shot",
    "shotgrid.task": "--sg-task", "shotgrid.shot_id": "--sg-shot-id",
    "shotgrid.task_id": "--sg-task-id", "shotgrid.asset": "--sg-asset",
    "shotgrid.asset_id": "--sg-asset-id", **PRODUCTION_OPTIONS,
}  # fmt: skip


def build_spec(fields: Mapping[str, Any], options: Mapping[str, str] = SPEC_OPTIONS) -> JobSpec:
    """Builds a ``JobSpec``, turning validation errors into one readable ``InvalidInput``.

    Raises:
        InvalidInput: a field is missing or holds a bad value; the message names the option
            that gave each one (``options``).
    """
    return from_options(JobSpec, fields, options, "The job cannot be submitted")


def shotgrid_link(
    project: str | None,
    shot: str | None,
    task: str | None,
    shot_id: int | None,
    task_id: int | None,
    asset: str | None = None,
    asset_id: int | None = None,
) -> dict[str, Any] | None:
    """The ``shotgrid`` field of the spec from the ``--sg-*`` options; None when none is given."""
    values = {
        "project": project, "shot": shot, "task": task, "shot_id": shot_id, "task_id": task_id,
        "asset": asset, "asset_id": asset_id,
    }  # fmt: skip
    given = {k: v for k, v in values.items() if v is not None}
    return given or None


def check_scene(scene: Path) -> Path:
    """The scene's absolute path.

    Raises:
        InvalidInput: the scene file does not exist.
    """
    path = scene.expanduser().absolute()
    if not path.is_file():
        raise InvalidInput(f"The scene {path} does not exist. Check the path and save the scene.")
    return path


@click.command("submit")
@click.argument("scene", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--frames", "-f", required=True, help="Frames to render: 1-100, 1-100x5, 1,5,10-20.")
@click.option("--chunk", type=int, default=1, show_default=True, help="Frames per task.")
@click.option("--name", help="Job name (default: the scene's file name without extension).")
@click.option("--project", default="default", show_default=True, help="Project (show).")
@click.option(
    "--owner",
    metavar="USER",
    help="Whose job it is (default: the account you signed in as; only TDs and admins may "
    "name someone else).",
)
@click.option("--priority", type=int, default=50, show_default=True, help="0 (lowest) to 100.")
@click.option(
    "--output",
    "-o",
    metavar="PATTERN",
    help="Output path; #### stands for the frame number (default: ./renders/SCENE/SCENE_####).",
)
@click.option("--format", "output_format", default="", help="Image format, e.g. PNG, OPEN_EXR.")
@click.option(
    "--dcc",
    help="Which application renders (default: the scene's, as its reader finds it; else blender).",
)
@click.option("--renderer", default="", help="Renderer (default: the scene's own).")
@click.option("--timeout", type=int, metavar="SECONDS", help="Kill a task running longer.")
@click.option("--retries", type=int, default=3, show_default=True, help="Retries per task.")
@click.option("--due", metavar="DATE", help="Due date, ISO 8601 (2026-12-24T18:00).")
@click.option(
    "--placement",
    type=click.Choice([p.value for p in Placement]),
    default=Placement.AUTO.value,
    show_default=True,
    help="Which pools may render it.",
)
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--description", default="", help="What the job is for (up to 2,000 characters).")
@click.option(
    "--paused", is_flag=True, help="Store the job paused; `cloudburst job resume` starts it."
)
@click.option("--sg-project", metavar="NAME", help="ShotGrid project (default: --project).")
@click.option("--sg-shot", metavar="CODE", help="ShotGrid shot the job renders, e.g. sh010.")
@click.option("--sg-asset", metavar="CODE", help="ShotGrid asset the job renders, e.g. chair.")
@click.option(
    "--sg-task", metavar="NAME", help="ShotGrid task of that shot or asset, e.g. lighting."
)
@click.option("--sg-shot-id", type=click.IntRange(min=1), help="ShotGrid shot, by id.")
@click.option("--sg-asset-id", type=click.IntRange(min=1), help="ShotGrid asset, by id.")
@click.option("--sg-task-id", type=click.IntRange(min=1), help="ShotGrid task, by id.")
@click.option(
    "--no-preflight", is_flag=True, help="Submit without reading the scene and checking the job."
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Submit even if files the scene needs are missing (they are named as a warning).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@production_options
@click.pass_context
def submit_command(
    ctx: click.Context,
    scene: Path,
    frames: str,
    chunk: int,
    name: str | None,
    project: str,
    owner: str | None,
    priority: int,
    output: str | None,
    output_format: str,
    dcc: str | None,
    renderer: str,
    timeout: int | None,
    retries: int,
    due: str | None,
    placement: str,
    env_pairs: tuple[str, ...],
    description: str,
    paused: bool,
    sg_project: str | None,
    sg_shot: str | None,
    sg_asset: str | None,
    sg_task: str | None,
    sg_shot_id: int | None,
    sg_asset_id: int | None,
    sg_task_id: int | None,
    no_preflight: bool,
    allow_missing: bool,
    as_json: bool,
    **production: Any,
) -> None:
    """Submit SCENE to the daemon as a job of the signed-in account (cloudburst login).

    First the pre-flight reads SCENE without its DCC (as cloudburst scan does) and runs the
    submit panel's checks: errors stop the submission (exit code 1), warnings are printed and
    the job goes. Missing files are errors unless --allow-missing. Scenes of a kind no reader
    knows (.mb) are submitted unchecked, with a note.

    A job may wait for others (--after, --after-frames), ask for nodes with what it needs
    (--pool, --os, --min-memory, --gpus, --min-gpu-memory, --dcc-version, --tag), hold licence
    limits while it renders (--limit) and stop early when too many tasks fail (--max-failed).
    """
    frame_list = parse_frames(frames)
    scene_path = check_scene(scene)
    fields = {
        "name": name or scene_path.stem,
        "owner": owner,
        "project": project,
        "dcc": dcc or "blender",
        "renderer": renderer,
        "scene": str(scene_path),
        "frames": frames,
        "chunk_size": chunk,
        "output": absolute_output(output) if output else default_output(scene_path),
        "output_format": output_format,
        "env": parse_env(env_pairs),
        "priority": priority,
        "max_retries": retries,
        "timeout_s": timeout,
        "due": parse_due(due),
        "placement": placement,
        "description": description,
        "paused": paused,
        "shotgrid": shotgrid_link(
            sg_project, sg_shot, sg_task, sg_shot_id, sg_task_id, sg_asset, sg_asset_id
        ),
        **production_fields(production),
    }
    spec = build_spec(fields)  # every option checked before the scene is read
    if not no_preflight:
        spec = _preflight(scene_path, spec, fields, dcc, allow_missing)
    # One key per command: the client's retries resend it, so the job is stored once.
    job = state_of(ctx).get_client().submit(spec, new_idempotency_key())
    if as_json:
        echo_json(job)
        return
    tasks = len(chunk_frames(frame_list, spec.chunk_size))
    click.echo(
        f"Submitted job {job.id} {spec.name!r}: {len(frame_list)} frames in {tasks} tasks, "
        f"{job.state.value}.\nWatch it with: cloudburst job show {job.id}"
    )


def _preflight(
    scene: Path, spec: JobSpec, fields: dict[str, Any], dcc: str | None, allow_missing: bool
) -> JobSpec:
    """Reads the scene, takes its DCC and renderer where the options name none, checks the job
    with the panel's pre-flight and prints what it found.

    Raises:
        PreflightFailed: the scene cannot be read, or the job has errors.
    """
    report = preflight.read_report(scene)
    if report is None:
        click.secho(
            f"Note: the pre-flight was skipped: no reader knows {scene.suffix or 'this'} scenes "
            "without their application. Check the scene in its DCC's submit panel.",
            err=True,
            fg="yellow",
        )
        return spec
    if dcc is None or not spec.renderer:
        fields = {**fields, "dcc": dcc or report.info.dcc,
                  "renderer": spec.renderer or report.info.renderer}  # fmt: skip
        spec = build_spec(fields)
    preflight.show(preflight.check(report, spec, allow_missing=allow_missing))
    return spec
