"""``cloudburst backup`` and ``cloudburst restore``: the daemon's state, saved and rebuilt.

Both run where the daemon's data folder is; ``backup`` works while the daemon runs (SQLite's
online backup API), ``restore`` builds a new folder a daemon then serves. ``python -m
daemon.backup_cli backup ...`` runs them without the ``cloudburst`` command.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from common.config import config_file, load_settings
from common.errors import CloudburstError
from common.models import BackupInfo, BackupKind
from daemon.services.backup import BackupService


def _service(data_dir: Path | None) -> BackupService:
    settings = load_settings({"data_dir": data_dir})
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(message)s")
    return BackupService(settings, config=config_file(os.environ))


def _line(info: BackupInfo) -> str:
    base = f" on {info.base}" if info.base else ""
    return (
        f"{info.id}  {info.kind.value}{base}  {info.created_at:%Y-%m-%d %H:%M} UTC  "
        f"{info.files} files, {info.size:,} bytes ({info.stored:,} stored), verified"
    )


@click.command("backup")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path),
    help="The daemon's data folder (default: the data_dir setting).",
)  # fmt: skip
@click.option(
    "--to", "destination",
    help="A folder, s3://bucket/prefix or oci://bucket/prefix (default: [backup] destination).",
)  # fmt: skip
@click.option("--full", "kind", flag_value=BackupKind.FULL.value, help="Take a full backup.")
@click.option(
    "--incremental", "kind", flag_value=BackupKind.INCREMENTAL.value,
    help="Store only what the newest full backup lacks (default: what the schedule would take).",
)  # fmt: skip
@click.option("--list", "list_only", is_flag=True, help="List the backups; take none.")
@click.option(
    "--verify",
    "verify_id",
    metavar="ID",
    is_flag=False,
    flag_value="newest",
    help="Read a backup back as a restore would (the newest without ID); take none.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Then delete the backups retention ([backup] keep_daily, keep_weekly) drops.",
)
def backup_command(
    data_dir: Path | None, destination: str | None, kind: str | None, list_only: bool,
    verify_id: str | None, prune: bool,
) -> None:  # fmt: skip
    """Take a consistent, verified backup of a daemon's state, running or not: database, keys,
    configuration, stored files, task logs and thumbnails."""
    try:
        service = _service(data_dir)
        if list_only:
            backups = service.list_backups(destination)
            for info in backups:
                click.echo(_line(info))
            click.echo(f"{len(backups)} backup(s).")
            return
        if verify_id is not None:
            info = service.verify(None if verify_id == "newest" else verify_id, destination)
            click.echo(f"Backup {info.id} is sound: {info.files} files, every hash and database "
                       "checked.")  # fmt: skip
            return
        info = service.take(BackupKind(kind) if kind else None, destination)
        click.echo(f"Backed up: {_line(info)}")
        if prune:
            for backup_id in service.prune(destination):
                click.echo(f"Pruned {backup_id}.")
    except CloudburstError as exc:
        raise click.ClickException(exc.message) from None
    except OSError as exc:  # the local disk: full, read-only, not ours
        raise click.ClickException(f"The backup stopped: {exc}.") from None


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    help="Where the backups are: a folder, s3://bucket/prefix or oci://bucket/prefix.",
)
@click.option("--id", "backup_id", help="The backup to restore (default: the newest).")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="The new data folder to build; it must not exist, or be empty.",
)  # fmt: skip
def restore_command(source: str, backup_id: str | None, data_dir: Path) -> None:
    """Rebuild a daemon's data folder from a backup, checking every byte; then start a daemon
    with --data-dir on it. Old passwords, tokens, API keys and agents stay valid."""
    try:
        info = _service(data_dir).restore(data_dir, backup_id, source)
    except CloudburstError as exc:
        raise click.ClickException(exc.message) from None
    except OSError as exc:  # the new folder's disk: full, read-only, not ours
        raise click.ClickException(f"The restore stopped and left nothing behind: {exc}.") from None
    click.echo(f"Restored backup {info.id} ({info.created_at:%Y-%m-%d %H:%M} UTC) into {data_dir}.")
    config = data_dir / "config.toml"
    if config.exists():
        click.echo(
            f"The configuration file the daemon ran with is restored as {config}: put it where "
            "the daemon reads it (or set CLOUDBURST_CONFIG to it), with data_dir naming the new "
            "folder."
        )
    click.echo(f"Start the daemon with: cloudburst daemon --data-dir {data_dir}")


@click.group()
def main() -> None:
    """Backup and restore without the cloudburst command (python -m daemon.backup_cli)."""


main.add_command(backup_command)
main.add_command(restore_command)

if __name__ == "__main__":
    main()
