"""``cloudburst user``: accounts managed on the daemon's own database (the first admin too)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from common.accounts import Role, UserCreate, UserUpdate
from common.config import load_settings
from common.errors import UserFacingError
from daemon.auth.token_cache import credential_cache
from daemon.context import Context
from daemon.services.users import UserService
from daemon.storage import open_database


def _service(data_dir: Path | None) -> UserService:
    settings = load_settings({"data_dir": data_dir})
    database = open_database(settings.data_dir / "cloudburst.sqlite3")
    context = Context(database=database, settings=settings)
    # Marks each revocation in the data folder: the running daemon's processes drop the
    # user's tokens before their next answer.
    return UserService(context, credential_cache(settings.auth, settings.data_dir, context.clock))


def _password(from_stdin: bool, name: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    text: str = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    return text


DATA_DIR = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path),
    help="The daemon's data folder (default: the data_dir setting).",
)  # fmt: skip


@click.group("user")
def user_group() -> None:
    """Manage accounts directly in the daemon's database (run where the daemon runs)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ARTIST.value)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@DATA_DIR
def add_command(name: str, role: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Create user NAME (``--role admin`` makes the first admin)."""
    try:
        request = UserCreate(name=name, role=Role(role), password=_password(password_stdin, name))
        user = _service(data_dir).create(request)
    except UserFacingError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:  # pydantic: a bad name or a short password
        raise click.ClickException(f"Cannot create {name!r}: {exc}") from None
    click.echo(f"Created user {user.name} (id {user.id}, {user.role}).")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@DATA_DIR
def passwd_command(name: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Set user NAME's password (their sessions end)."""
    service = _service(data_dir)
    match = [u for u in service.list_users(include_deleted=True) if u.name == name]
    if not match:
        raise click.ClickException(f"There is no user {name!r}.")
    try:
        service.update(match[0].id, UserUpdate(password=_password(password_stdin, name)))
    except (UserFacingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password of {name} changed.")
