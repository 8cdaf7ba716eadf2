"""``cloudburst render``: one scene rendered on this machine, start to finish.

It starts a daemon and local agents as child processes (their logs go to files in the data
folder), makes a demo scene when no scene is given, submits the job, shows its progress,
cancels it on Ctrl-C and stops every child at the end, also on errors.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import re
import shutil
import socket
import sys
import time
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from common.cli.context import state_of
from common.cli.display import duration
from common.cli.local_admin import local_admin
from common.cli.progress import watch_job
from common.cli.submit import absolute_output, build_spec, check_scene, default_output
from common.cli.supervise import ChildExited, Supervisor
from common.client import DaemonClient
from common.config import Settings
from common.errors import (
    CloudburstError,
    DaemonUnreachable,
    InvalidInput,
    RenderError,
    ServiceUnavailable,
    UserFacingError,
)
from common.frames import chunk_frames, parse_frames
from common.models import Job, JobSpec, Placement, Task
from common.states import JobState

DEMO_RESOLUTION = "320x180"
DEMO_SAMPLES = 8
DAEMON_START_TIMEOUT_S = 60.0
DEMO_SCENE_TIMEOUT_S = 600.0
INSTALL_BLENDER = "pip install 'cloudburst[blender]'"
INSTALL_FARM = "pip install 'cloudburst[daemon,agent]'"

_RESOLUTION = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def parse_resolution(text: str) -> tuple[int, int]:
    """Reads ``WIDTHxHEIGHT`` (e.g. ``320x180``).

    Raises:
        InvalidInput: not two positive whole numbers joined by ``x``.
    """
    match = _RESOLUTION.match(text.strip().lower())
    if not match or 0 in (width := int(match.group(1)), height := int(match.group(2))):
        raise InvalidInput(f"--resolution {text!r} is not WIDTHxHEIGHT, such as 320x180.")
    return width, height


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bpy_installed() -> bool:
    """Whether Blender's Python module can be imported here (without importing it)."""
    return importlib.util.find_spec("bpy") is not None


def check_renderer(settings: Settings, demo: bool) -> None:
    """Fails early, with the fix, when nothing on this machine can render a Blender scene.

    Raises:
        UserFacingError: bpy is missing (and, for a given scene, no Blender executable either).
    """
    has_bpy = bpy_installed()
    if demo and not has_bpy:
        raise UserFacingError(
            "The demo scene is made with Blender's Python module (bpy), which is not installed. "
            f"Install it with: {INSTALL_BLENDER} (Python 3.11), or give a .blend SCENE."
        )
    if not (has_bpy or settings.blender or shutil.which("blender")):
        raise UserFacingError(
            "Nothing here can render Blender scenes: install bpy with "
            f"{INSTALL_BLENDER}, put blender on PATH, or set CLOUDBURST_BLENDER."
        )


def wait_for_daemon(client: DaemonClient, supervisor: Supervisor, timeout: float) -> None:
    """Waits until the daemon answers ``/health``.

    Raises:
        ChildExited: a child process stopped meanwhile.
        RenderError: no answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        supervisor.check()
        try:
            client.health()
            return
        except (DaemonUnreachable, ServiceUnavailable):
            if time.monotonic() > deadline:
                raise RenderError(
                    f"The daemon did not answer at {client.base_url} within {timeout:g} s. "
                    f"See its log in {supervisor.log_dir}."
                ) from None
        time.sleep(0.2)


def child_env(log_level: str | None) -> dict[str, str]:
    """The children's environment: ours, unbuffered, without settings their flags decide."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "CLOUDBURST_DAEMON_URL",
            "CLOUDBURST_BIND",
            "CLOUDBURST_DATA_DIR",
            "CLOUDBURST_TOKEN",
            "CLOUDBURST_ENROLLMENT_TOKEN",
        )
    }
    env["PYTHONUNBUFFERED"] = "1"
    if log_level:
        env["CLOUDBURST_LOG_LEVEL"] = log_level
    return env


#: The option that gives each ``JobSpec`` field ``render`` fills from its options.
RENDER_OPTIONS = {
    "scene": "SCENE", "frames": "--frames", "chunk_size": "--chunk", "output": "--output",
}  # fmt: skip


@click.command("render")
@click.argument("scene", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--frames", "-f", default="1-24", show_default=True, help="Frames to render.")
@click.option("--chunk", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames per task.")  # fmt: skip
@click.option("--agents", type=click.IntRange(1, 64), default=2, show_default=True,
              help="How many local agents render in parallel.")  # fmt: skip
@click.option("--output", "-o", metavar="PATTERN",
              help="Where frames go; #### is the frame number "
                   "(default: ./renders/SCENE/SCENE_####).")  # fmt: skip
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Database, logs and agent state (default: the data_dir setting).")  # fmt: skip
@click.option("--resolution", metavar="WxH",
              help=f"Demo scene only: image size (default {DEMO_RESOLUTION}).")  # fmt: skip
@click.option("--samples", type=click.IntRange(min=1),
              help=f"Demo scene only: render samples (default {DEMO_SAMPLES}).")  # fmt: skip
@click.pass_context
def render_command(
    ctx: click.Context,
    scene: Path | None,
    frames: str,
    chunk: int,
    agents: int,
    output: str | None,
    data_dir: Path | None,
    resolution: str | None,
    samples: int | None,
) -> None:
    """Render SCENE (or a small demo scene) here: a daemon and local agents, frames on disk.

    Exits 0 only when every frame rendered. Ctrl-C cancels the job.
    """
    frame_list = parse_frames(frames)
    if scene is not None and (resolution or samples):
        raise InvalidInput(
            "--resolution and --samples set up the demo scene; set them in SCENE itself."
        )
    size = parse_resolution(resolution or DEMO_RESOLUTION)
    scene_path = check_scene(scene) if scene is not None else None
    state = state_of(ctx)
    settings = state.settings(data_dir=data_dir) if data_dir else state.settings()
    check_renderer(settings, demo=scene_path is None)
    base = settings.data_dir.expanduser().absolute()
    run_dir = base / "render-runs" / f"{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
    console = Console()
    env = child_env(state.log_level)

    with Supervisor(run_dir) as supervisor:
        if scene_path is None:
            scene_path = run_dir / "demo.blend"
            span = f"{frame_list[0]}-{frame_list[-1]}"
            console.print(f"Making the demo scene ({size[0]}x{size[1]}, frames {span})...")
            _demo_scene(supervisor, scene_path, span, size, samples or DEMO_SAMPLES, env)
        spec = build_spec(
            {
                "name": scene_path.stem,
                "owner": getpass.getuser(),
                "scene": str(scene_path),
                "frames": frames,
                "chunk_size": chunk,
                "output": absolute_output(output) if output else default_output(scene_path),
                "output_format": "PNG" if scene is None else "",
                "placement": Placement.LOCAL,
            },
            RENDER_OPTIONS,
        )
        Path(spec.output).parent.mkdir(parents=True, exist_ok=True)
        client = _start_farm(supervisor, base, agents, env, console)
        job = client.submit(spec)
        tasks_count = len(chunk_frames(frame_list, spec.chunk_size))
        console.print(
            f"Job {job.id}: {len(frame_list)} frames in {tasks_count} tasks on {agents} agents. "
            "Ctrl-C cancels it."
        )
        try:
            job, tasks = watch_job(
                client, job.id, console, poll_interval_s=0.5, check=supervisor.check
            )
        except KeyboardInterrupt:
            _cancel(client, job.id, console)
            console.print("Stopping the agents and the daemon...")
            supervisor.stop()
            ctx.exit(130)
        except BaseException:
            _cancel(client, job.id, console)  # so that the next render does not inherit it
            raise
        if job.state is not JobState.SUCCEEDED:
            _save_failed_logs(client, job, tasks, run_dir)
        console.print("Stopping the agents and the daemon...")
    _report(job, tasks, spec, run_dir, console)


def _demo_scene(
    supervisor: Supervisor,
    path: Path,
    frames: str,
    size: tuple[int, int],
    samples: int,
    env: dict[str, str],
) -> None:
    argv = [
        sys.executable, "-m", "cloud_agent.demo_scene", str(path),
        "--frames", frames, "--resolution", f"{size[0]}x{size[1]}", "--samples", str(samples),
    ]  # fmt: skip
    try:
        supervisor.run("demo-scene", argv, timeout=DEMO_SCENE_TIMEOUT_S, env=env)
    except ChildExited as exc:
        raise RenderError(f"Cannot make the demo scene. {exc.message}") from None


def _start_farm(
    supervisor: Supervisor, base: Path, agents: int, env: dict[str, str], console: Console
) -> DaemonClient:
    """Starts the daemon on a free port, waits for it, then starts the agents."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    console.print(
        f"Starting the daemon at {url} and {agents} agents (logs: {supervisor.log_dir})",
        soft_wrap=True,
        markup=False,
    )
    daemon_argv = [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}"]
    supervisor.start("daemon", [*daemon_argv, "--data-dir", str(base)], env=env, stage=0)
    client = DaemonClient(url, timeout=10.0)
    try:
        wait_for_daemon(client, supervisor, DAEMON_START_TIMEOUT_S)
    except ChildExited as exc:
        hint = f"\nInstall what it needs with: {INSTALL_FARM}" if "No module" in exc.message else ""
        raise RenderError(f"The daemon did not start. {exc.message}{hint}") from None
    client.auth = local_admin(base)  # the daemon wrote it on its first start
    for i in range(1, agents + 1):
        name = f"render-{i}"
        argv = [sys.executable, "-m", "cloud_agent", "--daemon", url, "--name", name]
        state_dir = base / "agents" / name
        enroll = {**env, "CLOUDBURST_ENROLLMENT_TOKEN": client.enrollment_token().token}
        supervisor.start(name, [*argv, "--state-dir", str(state_dir)], env=enroll, stage=1)
    return client


def _cancel(client: DaemonClient, job_id: int, console: Console) -> None:
    try:
        job = client.cancel(job_id)
    except CloudburstError as exc:
        console.print(f"Could not cancel job {job_id}: {exc.message}", style="red", markup=False)
    else:
        console.print(f"Cancelled job {job.id}; it is {job.state.value}.")


def _save_failed_logs(client: DaemonClient, job: Job, tasks: list[Task], run_dir: Path) -> None:
    """Copies the logs of failed tasks next to the children's logs, before the daemon stops."""
    for task in tasks:
        if not task.error:
            continue
        parts, offset = [], 0
        try:
            while True:
                piece = client.task_log(job.id, task.id, offset)
                if not piece.text or piece.next_offset <= offset:
                    break
                parts.append(piece.text)
                offset = piece.next_offset
        except CloudburstError:
            continue
        (run_dir / f"task-{task.id}.log").write_text("".join(parts), encoding="utf-8")


def _report(job: Job, tasks: list[Task], spec: JobSpec, run_dir: Path, console: Console) -> None:
    """Says where the frames are; raises with the job's errors unless it succeeded."""
    outputs = sorted({out for task in tasks for out in task.outputs})
    if job.state is JobState.SUCCEEDED:
        folders = sorted({str(Path(out).parent) for out in outputs}) or [
            str(Path(spec.output).parent)
        ]
        took = duration(job.started_at, job.finished_at)
        console.print(f"[green]Rendered {job.frame_count} frames in {took}.[/]")
        for folder in folders:
            click.echo(f"Frames: {folder}")
        if outputs:
            click.echo(f"First frame: {outputs[0]}")
        return
    lines = [f"Job {job.id} {job.state.value}" + (f": {job.message}" if job.message else ".")]
    lines += [f"- {error.strip()}" for error in job.errors]
    lines.append(f"Logs: {run_dir}")
    raise RenderError("\n".join(lines))
