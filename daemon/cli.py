"""``cloudburst daemon``: run the scheduler daemon."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from common.config import load_settings
from common.errors import UserFacingError
from daemon.server import serve


@click.command("daemon")
@click.option("--bind", help="HOST:PORT to listen on (default 127.0.0.1:8642).")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the database (default: the user's data folder).",
)  # fmt: skip
@click.option("--lease-ttl", "lease_ttl_s", type=float, help="Seconds a lease lives unrenewed.")
@click.option("--reaper-interval", "reaper_interval_s", type=float, help="Seconds between reaps.")
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
def daemon_command(**options: object) -> None:
    """Run the Cloudburst scheduler daemon until stopped (SIGTERM or Ctrl-C)."""
    context = click.get_current_context()
    if options["log_level"] is None and context.parent is not None:
        options["log_level"] = context.find_root().params.get("log_level")  # cloudburst --log-level
    try:
        settings = load_settings(options)
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        serve(settings)
    except UserFacingError as exc:
        raise click.ClickException(exc.message) from None


def main() -> None:
    daemon_command()
