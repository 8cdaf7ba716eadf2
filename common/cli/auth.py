"""``cloudburst login`` and ``cloudburst logout``: sign in once, keep the tokens safe."""

from __future__ import annotations

import getpass
import logging
import sys

import click

from common.accounts import LoginRequest
from common.cli.context import state_of
from common.cli.option_models import from_options
from common.client import DaemonClient
from common.credentials import SignedIn
from common.token_store import TokenStore, default_store

logger = logging.getLogger(__name__)


def _store(ctx: click.Context) -> TokenStore:
    store: TokenStore | None = getattr(state_of(ctx), "token_store", None)
    return store or default_store()


@click.command("login")
@click.option("--user", "username", help="User name (default: your login name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_context
def login_command(ctx: click.Context, username: str | None, password_stdin: bool) -> None:
    """Sign in to the daemon; later commands use the kept tokens (keyring or a 0600 file)."""
    state = state_of(ctx)
    settings = state.settings()
    username = username or getpass.getuser()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(f"Password for {username}", hide_input=True)
    request = from_options(
        LoginRequest, {"username": username, "password": password}, {"username": "--user"},
        "Cannot sign in",
    )  # fmt: skip
    client = DaemonClient(settings.daemon_url, timeout=settings.request_timeout_s)
    pair = client.login(request.username, request.password)
    store = _store(ctx)
    SignedIn(store, settings.daemon_url).save(pair.model_dump(mode="json"))
    click.echo(f"Signed in to {settings.daemon_url} as {pair.user.name} ({pair.user.role}).")


@click.command("logout")
@click.pass_context
def logout_command(ctx: click.Context) -> None:
    """Sign out: the daemon revokes the session and the kept tokens are forgotten."""
    state = state_of(ctx)
    settings = state.settings()
    store = _store(ctx)
    tokens = store.load(settings.daemon_url)
    if tokens is None:
        click.echo(f"Not signed in to {settings.daemon_url}.")
        return
    client = DaemonClient(
        settings.daemon_url, timeout=settings.request_timeout_s,
        auth=SignedIn(store, settings.daemon_url), retries=0,
    )  # fmt: skip
    try:
        client.logout(str(tokens.get("refresh_token") or "") or None)
    finally:
        store.delete(settings.daemon_url)
    click.echo(f"Signed out of {settings.daemon_url}.")
