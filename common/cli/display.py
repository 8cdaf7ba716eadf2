"""How jobs and tasks look in a terminal: rich tables and short human formats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.console import Group
from rich.table import Table
from rich.text import Text

from common.frames import format_frames
from common.models import (
    TASK_PAGE_MAX,
    Job,
    JobPage,
    JobSpec,
    JobSummary,
    ShotGridLink,
    Task,
    TaskPage,
)
from common.states import JobState, TaskState

STATE_STYLES = {
    JobState.QUEUED: "cyan",
    JobState.WAITING: "magenta",
    JobState.RUNNING: "bold blue",
    JobState.PAUSED: "yellow",
    JobState.SUCCEEDED: "green",
    JobState.FAILED: "bold red",
    JobState.CANCELLED: "dim",
    TaskState.LEASED: "blue",
    TaskState.DONE: "green",
    TaskState.SUSPENDED: "yellow",
}


def state_text(state: JobState | TaskState) -> Text:
    """The state's name in its colour."""
    return Text(state.value, style=STATE_STYLES.get(state, ""))


def when(moment: datetime | None) -> str:
    """A timestamp in local time, or a dash."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """How long from ``start`` to ``end`` (or to ``now`` while running), as ``1h 02m 03s``."""
    if start is None:
        return "-"
    stop = end or now or datetime.now(start.tzinfo)
    seconds = max(0, int((stop - start) / timedelta(seconds=1)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def percent(fraction: float) -> str:
    """A fraction 0..1 as a whole percentage."""
    return f"{fraction * 100:.0f}%"


def task_summary(job: Job | JobSummary) -> str:
    """Tasks done out of all, e.g. ``3/8``."""
    return f"{job.task_counts.get(TaskState.DONE, 0)}/{sum(job.task_counts.values())}"


def jobs_table(page: JobPage) -> Table:
    """One page of jobs as a table, its caption saying which part of the list it is."""
    table = Table(title=None, expand=False)
    for column, justify in (
        ("ID", "right"), ("Name", "left"), ("Owner", "left"), ("Project", "left"),
        ("State", "left"), ("Pri", "right"), ("Progress", "right"), ("Frames", "right"),
        ("Tasks", "right"), ("Submitted", "left"),
    ):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for job in page.items:
        table.add_row(
            str(job.id),
            job.name,
            job.owner,
            job.project,
            state_text(job.state),
            str(job.priority),
            percent(job.progress),
            str(job.frame_count),
            task_summary(job),
            when(job.submitted_at),
        )
    if page.items:
        first, last = page.offset + 1, page.offset + len(page.items)
        table.caption = f"jobs {first}-{last} of {page.total}"
    else:
        table.caption = f"no jobs here ({page.total} in all)"
    return table


def job_details(job: Job) -> Table:
    """A job's facts as a two-column grid: state, progress, task counts, timings, errors."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    spec = job.spec
    counts = ", ".join(
        f"{state.value} {job.task_counts[state]}"
        for state in TaskState
        if job.task_counts.get(state)
    )
    rows: list[tuple[str, str | Text]] = [
        ("Job", f"{job.id}  {spec.name}"),
        ("State", state_text(job.state)),
        ("Progress", f"{percent(job.progress)} of {job.frame_count} frames"),
        ("Tasks", counts or "none"),
        ("Owner / project", f"{spec.owner} / {spec.project}"),
        ("Priority", str(spec.priority)),
        ("Scene", spec.scene),
        ("Frames", f"{spec.frames} (chunks of {spec.chunk_size})"),
        ("Output", spec.output),
        ("Submitted", when(job.submitted_at)),
        ("Started", when(job.started_at)),
        ("Finished", when(job.finished_at)),
        ("Run time", duration(job.started_at, job.finished_at)),
    ]
    if job.submitted_by and job.submitted_by != spec.owner:
        rows.insert(5, ("Submitted by", job.submitted_by))
    if spec.due:
        rows.append(("Due", when(spec.due)))
    if spec.shotgrid:
        rows.append(("ShotGrid", shotgrid_link(spec.shotgrid)))
    rows += production_rows(job)
    if job.state is JobState.WAITING:
        rows.append(("Waiting", job.rank_reason or "for the jobs it depends on"))
    elif not job.state.finished:
        if job.state is not JobState.PAUSED:  # a paused job renders nothing more: no finish
            rows.append(("Estimated finish", when(job.estimated_finish)))
        rows.append(("Rank", job.rank_reason or "-"))
    if job.message:
        rows.append(("Message", job.message))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def production_rows(job: Job) -> list[tuple[str, str | Text]]:
    """What the job waits for, needs and holds, and which of its frames failed for good."""
    spec = job.spec
    rows: list[tuple[str, str | Text]] = []
    if spec.depends_on:
        rows.append(("After", ", ".join(
            f"job {dep.job}" + (" (frame by frame)" if dep.frames == "same" else "")
            for dep in spec.dependencies
        )))  # fmt: skip
    if not spec.requirements.empty:
        rows.append(("Needs", requirements_text(spec)))
    if spec.limits:
        rows.append(("Limits", ", ".join(spec.limits)))
    if job.failed_frames:
        rows.append((
            "Failed frames",
            Text(f"{format_frames(job.failed_frames)} (cloudburst job retry {job.id} renders "
                 "them again)", style="red"),
        ))  # fmt: skip
    if job.error_classes:
        kinds = sorted(job.error_classes.items(), key=lambda item: (-item[1], item[0]))
        rows.append(("Failures", ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in kinds)))
    return rows


def requirements_text(spec: JobSpec) -> str:
    """A job's node requirements in words: ``pool gpu, linux, 16384 MB memory, 2 GPUs``."""
    need = spec.requirements
    parts = [f"pool {need.pool}"] if need.pool else []
    parts += [need.os] if need.os else []
    parts += [f"{need.min_memory_mb} MB memory"] if need.min_memory_mb else []
    parts += [f"{need.gpus} GPU{'s' if need.gpus > 1 else ''}"] if need.gpus else []
    parts += [f"{need.min_gpu_memory_mb} MB on a GPU"] if need.min_gpu_memory_mb else []
    parts += [f"{spec.dcc} {need.dcc_version}"] if need.dcc_version else []
    parts += [f"tags {', '.join(need.tags)}"] if need.tags else []
    return ", ".join(parts)


def shotgrid_link(link: ShotGridLink) -> str:
    """``project alpha (12) / shot sh010 (34) / task lighting (56)``: what is known of it."""
    parts = []
    for kind, code, entity_id in (
        ("project", link.project, link.project_id),
        ("shot", link.shot, link.shot_id),
        ("asset", link.asset, link.asset_id),
        ("task", link.task, link.task_id),
    ):
        if code is not None or entity_id is not None:
            ident = f" ({entity_id})" if entity_id is not None and code is not None else ""
            parts.append(f"{kind} {code if code is not None else entity_id}{ident}")
    return " / ".join(parts)


def rank_view(job: Job) -> Group:
    """What ``job why`` prints: the sentence, then each part's value, weight and points."""
    head = Text(f"Job {job.id}  {job.spec.name}\n", style="bold")
    head.append(job.rank_reason or "No rank.", style="" if job.rank else "yellow")
    parts: list[Table | Text] = [head]
    if job.rank_parts:
        table = Table(title=None, expand=False)
        for column, justify in (
            ("Part", "left"), ("Value", "right"), ("Weight", "right"), ("Points", "right"),
            ("Why", "left"),
        ):  # fmt: skip
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for part in job.rank_parts:
            table.add_row(
                part.name.value.replace("_", " "), f"{part.value:.2f}", f"{part.weight:g}",
                f"{part.points:+.2f}", part.detail,
            )  # fmt: skip
        if job.rank_score is not None:
            table.caption = (
                f"score {job.rank_score:.3f}. Pinned jobs go first, then shows under their share "
                "(the furthest under first), then the rest; higher scores first within each."
            )
        parts.append(table)
    return Group(*parts)


def job_errors(job: Job) -> Text:
    """The job's errors, newest first, one per line."""
    text = Text()
    for error in job.errors:
        text.append(f"- {error.strip()}\n", style="red")
    return text


def tasks_table(tasks: Sequence[Task]) -> Table:
    """A job's tasks: number, frames, state, progress, attempts, agent (by name: the one a
    failed task ran on too), timings and last error."""
    table = Table()
    for column in ("Task", "Frames", "State", "Progress", "Tries", "Agent", "Started", "Time"):
        table.add_column(column, justify="right" if column in ("Task", "Tries") else "left")
    table.add_column("Error", overflow="fold")
    for task in tasks:
        table.add_row(
            str(task.number),
            format_frames(task.frames),
            state_text(task.state),
            percent(task.progress),
            str(task.attempts),
            agent_name(task),
            when(task.started_at),
            duration(task.started_at, task.finished_at),
            task_error(task),
        )
    return table


def agent_name(task: Task) -> str:
    """The name of the agent that holds the task or last held it; its id if the agent is
    gone; a dash if no agent ever took it."""
    return task.agent_name or task.agent_id or task.last_agent_id or "-"


def task_error(task: Task) -> Text:
    """The last line of a task's error, behind its class: ``[stalled] No progress...``."""
    last = task.error.strip().splitlines()[-1] if task.error.strip() else ""
    if task.error_class is None or not last:
        return Text(last)
    return Text(f"[{task.error_class.value.replace('_', ' ')}] {last}")


def job_view(job: Job, tasks: TaskPage | None) -> Group:
    """Everything ``job show`` prints: details, errors, a page of tasks and where it is."""
    parts: list[Table | Text] = [job_details(job)]
    if job.errors:
        parts.append(Text("\nErrors", style="bold red"))
        parts.append(job_errors(job))
    if tasks is not None and tasks.items:
        parts.append(tasks_table(tasks.items))
        if len(tasks.items) < tasks.total:
            first, last = tasks.offset + 1, tasks.offset + len(tasks.items)
            parts.append(
                Text(
                    f"Tasks {first}-{last} of {tasks.total}. Others: --tasks-from N "
                    f"(and --tasks up to {TASK_PAGE_MAX}).",
                    style="dim",
                )
            )
    return Group(*parts)
