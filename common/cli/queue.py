"""``cloudburst queue``: the jobs waiting for agents, in the order they get tasks, and why."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from common.cli.context import echo_json, state_of
from common.cli.display import state_text, when
from common.models import QueuePage


def queue_table(page: QueuePage) -> Table:
    """One page of the queue: position, job, who, state, score and the rank's sentence."""
    table = Table(title=None, expand=False)
    for column, justify in (
        ("#", "right"), ("Job", "right"), ("Name", "left"), ("Owner", "left"),
        ("Project", "left"), ("State", "left"), ("Score", "right"), ("Why", "left"),
    ):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for entry in page.items:
        pinned = f" (pinned by {entry.pinned_by})" if entry.pinned_by else ""
        table.add_row(
            str(entry.position), str(entry.job_id), entry.name, entry.owner, entry.project,
            state_text(entry.state), f"{entry.score:.3f}", entry.reason + pinned,
        )  # fmt: skip
    if page.items:
        first, last = page.offset + 1, page.offset + len(page.items)
        caption = f"queue positions {first}-{last} of {page.total}"
        if page.ranked_at is not None:
            caption += f"; ranked {when(page.ranked_at)}"
    else:
        caption = f"nothing here ({page.total} jobs in the queue)"
    if page.shotgrid_stale:
        caption += "; ShotGrid values are the last known ones (its sync is behind)"
    table.caption = caption
    return table


@click.command("queue")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="How many queue positions to skip.")  # fmt: skip
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True,
              help="How many positions to list.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the page of the queue as JSON.")
@click.pass_context
def queue_command(ctx: click.Context, offset: int, limit: int, as_json: bool) -> None:
    """List the jobs waiting for agents in the order they get tasks, with each rank's reason.

    Pinned jobs come first, then shows under their share of the farm, then the rest
    (`cloudburst job why ID` for one job's rank in parts).
    """
    page = state_of(ctx).get_client().queue(offset=offset, limit=limit)
    if as_json:
        echo_json(page)
    else:
        Console().print(queue_table(page))
