"""The ``cloudburst`` root group: global options, error display, lazily loaded commands.

Commands of other packages are listed in the ``cloudburst.commands`` entry-point group and
imported only when run (or when ``--help`` lists them). When one cannot be imported because
its extra is not installed, running it says which extra to install.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points
from typing import IO, Any, NoReturn

import click

from common import __version__
from common.cli.agents import agents_group
from common.cli.auth import login_command, logout_command
from common.cli.context import CLI_LOG_LEVEL, CliState, configure_logging
from common.cli.install_service import install_service_command
from common.cli.jobs import job_group, jobs_command
from common.cli.queue import queue_command
from common.cli.render import render_command
from common.cli.scan import scan_command
from common.cli.submit import submit_command
from common.cli.webhooks import webhooks_group
from common.errors import CloudburstError

logger = logging.getLogger(__name__)

COMMAND_GROUP = "cloudburst.commands"

#: The extra that brings what each of our packages needs, by top-level package name.
EXTRAS = {"daemon": "daemon", "cloud_agent": "agent"}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class CommandError(click.ClickException):
    """A Cloudburst error shown to the user: the message verbatim on stderr, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.secho(self.message, err=True, fg="red", file=file)


def plugin_entry_points() -> dict[str, EntryPoint]:
    """The commands other packages register, by name."""
    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


class CloudburstGroup(click.Group):
    """A group that loads plugin commands on demand and shows Cloudburst errors plainly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(plugin_entry_points()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        if cmd_name not in self._loaded:
            entry_point = plugin_entry_points().get(cmd_name)
            if entry_point is None:
                return None
            self._loaded[cmd_name] = _load(entry_point)
        return self._loaded[cmd_name]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CloudburstError as exc:
            logger.debug("command failed", exc_info=True)
            raise CommandError(exc.message) from exc


def _load(entry_point: EntryPoint) -> click.Command:
    """Imports a plugin command, or makes a stand-in that says which extra to install."""
    try:
        command = entry_point.load()
    except ImportError as exc:
        return _unavailable(entry_point, exc)
    if not isinstance(command, click.Command):
        raise TypeError(
            f"Entry point {entry_point.name} = {entry_point.value} is not a click command."
        )
    return command


def _unavailable(entry_point: EntryPoint, exc: ImportError) -> click.Command:
    """A command that explains why the real one cannot be loaded and how to fix it."""
    extra = EXTRAS.get(entry_point.module.split(".")[0])
    fix = (
        f"pip install 'cloudburst[{extra}]'"
        if extra
        else "reinstall Cloudburst with the extra that provides it"
    )
    message = f"The '{entry_point.name}' command cannot be loaded ({exc}). To install it: {fix}"

    def fail(**_: Any) -> NoReturn:
        raise CommandError(message)

    return click.Command(
        entry_point.name,
        callback=fail,
        help=message,
        short_help=f"(not installed: {fix})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(
    cls=CloudburstGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--daemon-url",
    metavar="URL",
    help="The daemon to talk to (else CLOUDBURST_DAEMON_URL, else the config file's daemon_url).",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    help=f"How much to log on stderr (default {CLI_LOG_LEVEL}).",
)
@click.version_option(__version__, prog_name="cloudburst")
@click.pass_context
def cli(ctx: click.Context, daemon_url: str | None, log_level: str | None) -> None:
    """Cloudburst: a render farm. Submit jobs, watch them, or render a scene on this machine."""
    state = ctx.ensure_object(CliState)
    if daemon_url:
        state.daemon_url = daemon_url
    if log_level:
        state.log_level = log_level.upper()
    if ctx.invoked_subcommand in BUILTIN_COMMANDS:
        configure_logging(state.log_level)


for _command in (submit_command, jobs_command, job_group, render_command, login_command,
                 logout_command):  # fmt: skip
    cli.add_command(_command)
for _command in (
    scan_command,
    queue_command,
    install_service_command,
    agents_group,
    webhooks_group,
):
    cli.add_command(_command)
BUILTIN_COMMANDS = frozenset(cli.commands)


def main() -> None:
    """The console script: runs the root group; bugs end with a traceback, exit code 1."""
    cli(prog_name="cloudburst")
