"""What every command shares: the global options, the settings and the daemon client."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click
from pydantic import BaseModel
from rich.console import Console
from rich.logging import RichHandler

from common.client import DaemonClient
from common.config import Settings, load_settings
from common.credentials import default_credentials

#: The CLI's own log level when neither ``--log-level`` nor the configuration names one.
CLI_LOG_LEVEL = "WARNING"

job_id_argument = click.argument("job_id", metavar="ID", type=click.IntRange(min=1))
"""A job's id, the first argument of every ``job`` command."""
json_option = click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
"""``--json``: print the answer as JSON instead of in words."""


@dataclass
class CliState:
    """The root group's state, kept in ``click.Context.obj``.

    Tests pass their own (``CliRunner().invoke(cli, args, obj=CliState(client=fake))``) to run
    commands against a fake client without a daemon.
    """

    daemon_url: str | None = None
    """``--daemon-url``; None: the configuration's ``daemon_url``."""
    log_level: str | None = None
    """``--log-level``; None when not given."""
    client: Any = None
    """The daemon client; made from the settings on first use when None."""
    token_store: Any = None
    """Where ``login`` keeps tokens; None: the keyring, else a 0600 file (tests pass one)."""
    poll_interval_s: float = 1.0
    """How often ``--follow`` and ``render`` ask the daemon for news."""
    _settings: Settings | None = field(default=None, init=False, repr=False)

    def settings(self, **overrides: Any) -> Settings:
        """The layered settings, the command line's values applied last.

        Raises:
            ConfigError: a layer holds an unknown key or a bad value.
        """
        if overrides:
            return load_settings({"daemon_url": self.daemon_url, **overrides})
        if self._settings is None:
            self._settings = load_settings({"daemon_url": self.daemon_url})
        return self._settings

    def get_client(self) -> DaemonClient:
        """The daemon client, made from the settings on first use."""
        if self.client is None:
            settings = self.settings()
            self.client = DaemonClient(
                settings.daemon_url,
                timeout=settings.request_timeout_s,
                auth=default_credentials(settings, self.token_store),
            )
        client: DaemonClient = self.client
        return client


def state_of(ctx: click.Context) -> CliState:
    """The ``CliState`` of the root group of ``ctx``."""
    return ctx.find_root().ensure_object(CliState)


def configure_logging(level: str | None) -> None:
    """Sends log records to stderr through rich, at ``level`` (else ``CLI_LOG_LEVEL``).

    Only the CLI's own commands call this; ``daemon`` and ``agent`` configure their own.
    """
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(
        level=(level or CLI_LOG_LEVEL).upper(), format="%(message)s", handlers=[handler]
    )


def echo_json(model: BaseModel | Sequence[BaseModel]) -> None:
    """Prints a model (or a list of models) as ``model_dump(mode="json")``, indented."""
    if isinstance(model, BaseModel):
        data: Any = model.model_dump(mode="json")
    else:
        data = [item.model_dump(mode="json") for item in model]
    click.echo(json.dumps(data, indent=2))
