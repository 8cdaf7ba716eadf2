"""``cloudburst job resubmit|archive|unarchive|delete ID`` and ``cloudburst job task ACTION
ID TASK``: a job's life after it ends, and what people do to one of its tasks."""

from __future__ import annotations

import click

from common.cli.context import echo_json, job_id_argument, json_option, state_of
from common.client import DaemonClient
from common.errors import NotFound
from common.models import Job, Task, TaskAction


@click.command("resubmit")
@job_id_argument
@click.option(
    "--frames", "-f", metavar="SPEC",
    help="Render other frames (1-100, 12,40-45); the same frames if left out.",
)  # fmt: skip
@click.option("--name", help="The new job's name; the old one's if left out.")
@json_option
@click.pass_context
def resubmit_command(
    ctx: click.Context, job_id: int, frames: str | None, name: str | None, as_json: bool
) -> None:
    """Submit a job again (any state) as a new job of yours, with the same settings."""
    job = state_of(ctx).get_client().resubmit(job_id, frames=frames, name=name)
    if as_json:
        echo_json(job)
    else:
        click.echo(f"Job {job_id} resubmitted as job {job.id} ({job.frame_count} frames).")


def _record_command(name: str, help_text: str) -> click.Command:
    """``job archive|unarchive|delete ID``: one call, and a sentence saying what it did."""

    @click.pass_context
    def run(ctx: click.Context, job_id: int, as_json: bool) -> None:
        client = state_of(ctx).get_client()
        job: Job
        if name == "delete":
            job = client.delete_job(job_id)
            said = f"Job {job.id} ({job.spec.name}) deleted; its frames stay on disk."
        else:
            job = client.archive(job_id, archived=name == "archive")
            said = f"Job {job.id} {name}d."
        if as_json:
            echo_json(job)
        else:
            click.echo(said)

    command = click.Command(name, callback=run, help=help_text)
    job_id_argument(command)
    json_option(command)
    return command


RECORD_COMMANDS = [
    resubmit_command,
    _record_command(
        "archive", "Archive a finished job: `cloudburst jobs` lists it only with --archived."
    ),
    _record_command("unarchive", "Put an archived job back in the list of jobs."),
    _record_command(
        "delete",
        "Delete a finished job with its tasks and logs (its frames on disk stay).",
    ),
]
"""The commands of this module that join ``cloudburst job``."""


@click.group("task")
def task_group() -> None:
    """Act on one task of a job: TASK is its number, as `cloudburst job show` lists it."""


def find_task(client: DaemonClient, job_id: int, number: int) -> Task:
    """The job's task ``number`` (1 is the first, as every listing names it).

    Raises:
        NotFound: the job has fewer tasks.
    """
    page = client.task_page(job_id, number - 1, 1)
    if not page.items or page.items[0].number != number:
        raise NotFound(
            f"Job {job_id} has no task {number}; its tasks are numbered 1 to {page.total}. "
            f"List them with `cloudburst job show {job_id}`."
        )
    return page.items[0]


def _task_command(action: TaskAction, help_text: str) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, job_id: int, number: int, as_json: bool) -> None:
        client = state_of(ctx).get_client()
        task = client.task_action(job_id, find_task(client, job_id, number).id, action)
        if as_json:
            echo_json(task)
        else:
            click.echo(f"Job {job_id}: {task.label} is now {task.state.value}.")

    command = click.Command(action.value, callback=run, help=help_text)
    job_id_argument(command)  # appended in order: ID, then TASK
    click.argument("number", metavar="TASK", type=click.IntRange(min=1))(command)
    json_option(command)
    return command


for _action, _help in (
    (TaskAction.RETRY, "Render a failed task again, with a fresh retry budget."),
    (TaskAction.REQUEUE, "Take a task back from its agent and queue it (no retry spent)."),
    (TaskAction.SUSPEND, "Hold a queued task back: no agent gets it until it is resumed."),
    (TaskAction.RESUME, "Put a suspended task back in the queue."),
):
    task_group.add_command(_task_command(_action, _help))
