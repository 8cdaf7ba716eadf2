"""``cloudburst webhooks list|add|remove``: be told when jobs end or need someone."""

from __future__ import annotations

import click
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from common.cli.context import echo_json, state_of
from common.models import Webhook, WebhookCreate, WebhookEvent, WebhookFormat, WebhookScope

#: What a webhook hears when ``--event`` is not given.
JOB_EVENTS = (WebhookEvent.JOB_SUCCEEDED, WebhookEvent.JOB_FAILED, WebhookEvent.JOB_NEEDS_ATTENTION)


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhooks the daemon calls when your jobs (or a show's) end or need attention."""


@webhooks_group.command("list")
@click.option("--all", "everyone", is_flag=True, help="Everyone's webhooks (admins).")
@click.option("--json", "as_json", is_flag=True, help="Print the webhooks as JSON.")
@click.pass_context
def list_command(ctx: click.Context, everyone: bool, as_json: bool) -> None:
    """List your webhooks and how their latest deliveries went."""
    hooks = state_of(ctx).get_client().webhooks(everyone=everyone)
    if as_json:
        echo_json(list[BaseModel](hooks))
        return
    Console().print(webhooks_table(hooks))


@webhooks_group.command("add")
@click.argument("url")
@click.option(
    "--event", "events", multiple=True, type=click.Choice([e.value for e in WebhookEvent]),
    help="An event to hear of (repeat for several). Default: your jobs succeeded, failed and "
    "needing attention; and a show's budget reached with --show.",
)  # fmt: skip
@click.option(
    "--format", "form", type=click.Choice([f.value for f in WebhookFormat]), default="json",
    show_default=True, help="json: the event for programs; slack: {\"text\": ...} for chat.",
)  # fmt: skip
@click.option("--show", "project", help="Hear of this show's jobs, not only yours (TDs, "
              "producers and admins).")  # fmt: skip
@click.option("--description", default="", help="A note to tell your webhooks apart.")
@click.option("--json", "as_json", is_flag=True, help="Print the webhook (and secret) as JSON.")
@click.pass_context
def add_command(
    ctx: click.Context,
    url: str,
    events: tuple[str, ...],
    form: str,
    project: str | None,
    description: str,
    as_json: bool,
) -> None:
    """Add a webhook the daemon POSTs to (URL: https://...), signed with a secret shown once."""
    chosen = [WebhookEvent(e) for e in events] or list(JOB_EVENTS)
    if project and not events:
        chosen.append(WebhookEvent.BUDGET_REACHED)
    body = WebhookCreate(
        url=url, events=list(dict.fromkeys(chosen)), format=WebhookFormat(form),
        scope=WebhookScope.SHOW if project else WebhookScope.USER, project=project,
        description=description,
    )  # fmt: skip
    created = state_of(ctx).get_client().add_webhook(body)
    if as_json:
        echo_json(created)
        return
    click.echo(f"Webhook {created.id} added: {', '.join(e.value for e in created.events)} "
               f"of {created.project or 'your jobs'} to {created.url}")  # fmt: skip
    click.echo(f"Signing secret (shown only now; keep it with the receiver): {created.secret}")
    click.echo("Each POST carries X-Cloudburst-Signature: t=<unix time>,v1=<HMAC-SHA256 of "
               "'<t>.<body>' under the secret, in hex>.")  # fmt: skip


@webhooks_group.command("remove")
@click.argument("webhook_id", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
def remove_command(ctx: click.Context, webhook_id: int) -> None:
    """Remove one of your webhooks (its id from 'webhooks list')."""
    removed = state_of(ctx).get_client().remove_webhook(webhook_id)
    click.echo(f"Webhook {removed.id} removed ({removed.url}).")


def webhooks_table(hooks: list[Webhook]) -> Table | str:
    if not hooks:
        return "No webhooks. Add one: cloudburst webhooks add https://... "
    table = Table("ID", "Owner", "Of", "Events", "Format", "URL", "Last delivery")
    for hook in hooks:
        last = hook.deliveries[0] if hook.deliveries else None
        said = "-"
        if last is not None:
            said = f"{last.event.value}: {last.state.value}"
            if last.last_status is not None:
                said += f" ({last.last_status})"
            elif last.last_error:
                said += f" ({last.last_error[:60]})"
        table.add_row(
            str(hook.id), hook.owner, hook.project or "own jobs",
            ", ".join(e.value for e in hook.events), hook.format.value, hook.url, said,
        )  # fmt: skip
    return table
