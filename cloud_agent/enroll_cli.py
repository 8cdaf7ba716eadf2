"""``cloudburst agent enroll`` and ``cloudburst agent token``: one-time enrollment tokens.

A TD or an admin, signed in (``cloudburst login``), mints a token through
``POST /api/v1/agents/enrollment-tokens``; a new render node registers with it once, then keeps
its own credentials in its state folder. ``enroll`` prints the token with the command lines that
use it; ``token`` prints the bare token, for scripts.
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

import click

from common.accounts import EnrollmentToken
from common.cli.context import echo_json, state_of
from common.errors import CloudburstError

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _mint(ctx: click.Context) -> tuple[EnrollmentToken, str]:
    """A fresh token, and the daemon URL it was minted at.

    Raises:
        click.ClickException: the daemon refused or cannot be reached (its sentence verbatim).
    """
    state = state_of(ctx)
    try:
        client = state.get_client()
        return client.enrollment_token(), client.base_url
    except CloudburstError as exc:
        raise click.ClickException(exc.message) from None


@click.command("enroll")
@click.option("--json", "as_json", is_flag=True, help="Print the token as JSON.")
@click.pass_context
def enroll_command(ctx: click.Context, as_json: bool) -> None:
    """Mint a one-time enrollment token (TDs and admins) and print how a new node uses it.

    The token registers one agent once and expires unused; the agent then keeps its own
    credentials in its state folder.
    """
    token, url = _mint(ctx)
    if as_json:
        echo_json(token)
        return
    expires = token.expires_at.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    secret = shlex.quote(token.token)
    daemon = shlex.quote(url)
    click.echo(f"Enrollment token (one agent, once; expires {expires}):\n  {token.token}\n")
    click.echo("On the render node, run an agent with it:")
    click.echo(f"  cloudburst agent --daemon {daemon} --enrollment-token {secret}")
    click.echo("or install the agent as a service (as root):")
    click.echo(
        f"  cloudburst install-service agent --daemon-url {daemon} --enrollment-token {secret}"
    )
    if urlsplit(url).hostname in _LOOPBACK:
        click.echo(
            f"\nNote: {url} is this machine's own address. On another machine, give the "
            "daemon's address as that machine reaches it (--daemon http://HOST:PORT)."
        )


@click.command("token")
@click.option("--json", "as_json", is_flag=True, help="Print the token and its expiry as JSON.")
@click.pass_context
def token_command(ctx: click.Context, as_json: bool) -> None:
    """Mint a one-time enrollment token and print only the token (for scripts).

    For example: TOKEN=$(cloudburst agent token).
    """
    token, _ = _mint(ctx)
    if as_json:
        echo_json(token)
    else:
        click.echo(token.token)
