"""``cloudburst jobs`` and ``cloudburst job show|log|why|pin|cancel|pause|resume|retry|...``."""

from __future__ import annotations

import time

import click
from rich.console import Console

from common.cli.context import echo_json, job_id_argument, json_option, state_of
from common.cli.display import job_view, jobs_table, rank_view
from common.cli.job_records import RECORD_COMMANDS, task_group
from common.cli.option_models import from_options
from common.client import DaemonClient
from common.errors import NotFound
from common.models import TASK_PAGE_MAX, Job, PinChange, Task
from common.states import JobState

JOB_SORTS = ["rank", "name", "owner", "show", "state", "priority", "submitted", "progress"]
"""The columns ``GET /api/v1/jobs`` sorts by (the daemon checks its ``sort`` again)."""


@click.command("jobs")
@click.option("--state", type=click.Choice([s.value for s in JobState]), help="Only this state.")
@click.option("--project", help="Only this project.")
@click.option("--owner", help="Only this owner.")
@click.option("--priority-min", type=click.IntRange(0, 100), help="Priority at least.")
@click.option("--priority-max", type=click.IntRange(0, 100), help="Priority at most.")
@click.option("--archived", is_flag=True, help="List the archived jobs (only them).")
@click.option("--name", "name_contains", help="Only jobs whose name holds this (any case).")
@click.option(
    "--shot",
    type=click.IntRange(min=1),
    help="Only jobs linked to this ShotGrid shot (its id).",
)
@click.option(
    "--asset",
    type=click.IntRange(min=1),
    help="Only jobs linked to this ShotGrid asset (its id).",
)
@click.option(
    "--sort",
    type=click.Choice(JOB_SORTS),
    help="Sort by this column (rank: the queue's order); default: newest first.",
)
@click.option("--order", type=click.Choice(["asc", "desc"]), help="The sort's direction.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the page of jobs as JSON.")
@click.pass_context
def jobs_command(
    ctx: click.Context,
    state: str | None,
    project: str | None,
    owner: str | None,
    priority_min: int | None,
    priority_max: int | None,
    archived: bool,
    name_contains: str | None,
    shot: int | None,
    asset: int | None,
    sort: str | None,
    order: str | None,
    offset: int,
    limit: int,
    as_json: bool,
) -> None:
    """List jobs, newest first or as sorted (`cloudburst job show ID` for one job's details)."""
    page = (
        state_of(ctx)
        .get_client()
        .jobs(
            state=state,
            project=project,
            owner=owner,
            priority_min=priority_min,
            priority_max=priority_max,
            archived=archived or None,
            name_contains=name_contains,
            shot=shot,
            asset=asset,
            sort=sort,
            order=order,
            offset=offset,
            limit=limit,
        )
    )
    if as_json:
        echo_json(page)
    else:
        Console().print(jobs_table(page))


@click.group("job")
def job_group() -> None:
    """Look at one job or act on it."""


@job_group.command("show")
@job_id_argument
@click.option(
    "--tasks-from", "tasks_from", type=click.IntRange(min=1), default=1, show_default=True,
    help="Number of the first task listed (tasks are listed a page at a time).",
)  # fmt: skip
@click.option(
    "--tasks", "tasks_limit", type=click.IntRange(0, TASK_PAGE_MAX), default=50,
    show_default=True, help="How many tasks to list (0: none).",
)  # fmt: skip
@json_option
@click.pass_context
def show_command(
    ctx: click.Context, job_id: int, tasks_from: int, tasks_limit: int, as_json: bool
) -> None:
    """Show a job: state, progress, task counts, timings, errors and a page of its tasks."""
    client = state_of(ctx).get_client()
    job = client.job(job_id)
    if as_json:
        echo_json(job)
        return
    page = client.task_page(job_id, tasks_from - 1, tasks_limit) if tasks_limit else None
    Console().print(job_view(job, page))


@job_group.command("why")
@job_id_argument
@json_option
@click.pass_context
def why_command(ctx: click.Context, job_id: int, as_json: bool) -> None:
    """Say where a job is in the queue and why: its rank, in a sentence and in parts."""
    job = state_of(ctx).get_client().job(job_id)
    if as_json:
        echo_json(job)
        return
    Console().print(rank_view(job))


@job_group.command("log")
@job_id_argument
@click.option(
    "--task", "number", type=click.IntRange(min=1),
    help="Only this task (its number, as 'job show' lists it).",
)  # fmt: skip
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the job ends.")
@click.pass_context
def log_command(ctx: click.Context, job_id: int, number: int | None, follow: bool) -> None:
    """Print the render logs of a job's tasks (all tasks that started, or one)."""
    state = state_of(ctx)
    client = state.get_client()
    job = client.job(job_id)
    tasks = _pick_tasks(client.tasks(job_id), job_id, number)
    printer = _LogPrinter(client, job_id, several=number is None)
    while True:
        printer.print_new(tasks)
        if not follow or job.state.finished or all(t.state.finished for t in tasks):
            # One last pass: text may have arrived between the reads and the state.
            printer.print_new(tasks)
            return
        time.sleep(state.poll_interval_s)
        job = client.job(job_id)
        tasks = _pick_tasks(client.tasks(job_id), job_id, number)


def _pick_tasks(tasks: list[Task], job_id: int, number: int | None) -> list[Task]:
    """All the tasks, or the one numbered ``number`` (as every listing numbers them)."""
    if number is None:
        return tasks
    picked = [t for t in tasks if t.number == number]
    if not picked:
        raise NotFound(
            f"Job {job_id} has no task {number}; its tasks are numbered 1 to {len(tasks)}."
        )
    return picked


class _LogPrinter:
    """Prints what is new in each task's log, a header before each task's text."""

    def __init__(self, client: DaemonClient, job_id: int, *, several: bool) -> None:
        self._client = client
        self._job_id = job_id
        self._several = several
        self._offsets: dict[int, int] = {}
        self._last_task: int | None = None

    def print_new(self, tasks: list[Task]) -> None:
        for task in tasks:
            if task.attempts == 0 and task.id not in self._offsets and self._several:
                continue  # never started: no log yet
            while True:
                offset = self._offsets.get(task.id, 0)
                piece = self._client.task_log(self._job_id, task.id, offset)
                self._offsets[task.id] = piece.next_offset
                if not piece.text:
                    break
                if self._several and self._last_task != task.id:
                    header = f"==> {task.label} <=="
                    click.secho(header, bold=True)
                self._last_task = task.id
                click.echo(piece.text, nl=False)
                if piece.next_offset <= offset:
                    break


def _action(name: str, verb: str, help_text: str) -> click.Command:
    """A ``job <name> ID`` command that calls the client's method ``name`` and says the result."""

    @click.pass_context
    def run(ctx: click.Context, job_id: int, as_json: bool) -> None:
        client = state_of(ctx).get_client()
        job: Job = getattr(client, name)(job_id)
        if as_json:
            echo_json(job)
        else:
            click.echo(f"Job {job.id} {verb}; it is now {job.state.value}.")

    command = click.Command(name, callback=run, help=help_text)
    job_id_argument(command)
    json_option(command)
    return command


for _command in (*RECORD_COMMANDS, task_group):
    job_group.add_command(_command)

for _name, _verb, _help in (
    ("cancel", "cancelled", "Cancel a job; its running tasks are killed on their agents."),
    ("pause", "paused", "Pause a job: no new task starts, running tasks finish."),
    ("resume", "resumed", "Resume a paused job."),
    ("retry", "requeued its failed tasks", "Requeue a failed job's failed tasks."),
):
    job_group.add_command(_action(_name, _verb, _help))


@job_group.command("priority")
@job_id_argument
@click.argument("priority", type=click.IntRange(0, 100))
@json_option
@click.pass_context
def priority_command(ctx: click.Context, job_id: int, priority: int, as_json: bool) -> None:
    """Set a job's priority (0 lowest, 100 highest)."""
    job = state_of(ctx).get_client().set_priority(job_id, priority)
    if as_json:
        echo_json(job)
    else:
        click.echo(f"Job {job.id} now has priority {job.spec.priority}.")


@job_group.command("pin")
@job_id_argument
@click.option("--unpin", is_flag=True, help="Put the job back among the others.")
@click.option("--note", default="", help="Why, recorded with the pin.")
@json_option
@click.pass_context
def pin_command(ctx: click.Context, job_id: int, unpin: bool, note: str, as_json: bool) -> None:
    """Pin a job above every unpinned one (production's override), or unpin it.

    The pin is recorded under the user you are signed in as.
    """
    change = from_options(
        PinChange, {"pinned": not unpin, "note": note}, {"note": "--note"},
        f"Job {job_id} cannot be {'unpinned' if unpin else 'pinned'}",
    )  # fmt: skip
    job = state_of(ctx).get_client().pin(job_id, pinned=change.pinned, note=change.note)
    if as_json:
        echo_json(job)
    else:
        click.echo(f"Job {job.id} {'unpinned' if unpin else 'pinned'}. {job.rank_reason}")
