"""``cloudburst install-dcc``: installs a DCC plug-in the host's own way (``dcc.install``).

``dcc`` ships in the same distribution as ``common``; it is imported here only when the
command runs, so ``common`` keeps importing nothing of ours at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dcc.install import install

HOSTS = ("maya", "houdini", "nuke", "blender")


def _show(result: Any, dry_run: bool) -> None:
    for planned in result.planned:
        if dry_run:
            click.secho(f"# {planned.path}", bold=True)
            if isinstance(planned.content, bytes):
                click.echo(f"({len(planned.content)} bytes: the add-on zip)")
            else:
                click.echo(planned.content.rstrip("\n"))
    for path in result.backups:
        click.echo(f"Backed up the previous file to {path}")
    for path in result.written:
        click.echo(f"Wrote {path}")
    for path in result.unchanged:
        click.echo(f"Already installed: {path}")
    for note in result.notes:
        click.echo(note)


@click.command("install-dcc")
@click.argument("host", type=click.Choice(HOSTS))
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write into this folder instead of the host's user folder (Blender: where the "
    "add-on zip goes).",
)
@click.option(
    "--print",
    "dry_run",
    is_flag=True,
    help="Show what would be written, and where; change nothing.",
)
def install_dcc_command(host: str, dest: Path | None, dry_run: bool) -> None:
    """Install the Cloudburst submitter into HOST (maya, houdini, nuke or blender).

    Writes the host's own start-up files so this installation's folder comes first on the
    host's Python path: Maya a cloudburst.mod in maya/modules, Houdini a package JSON in each
    houdiniX.Y/packages, Nuke a nuke.pluginAddPath line in ~/.nuke/init.py (added once, the
    old file backed up), Blender an add-on zip, installed and enabled through bpy when this
    Python has it. Running it again changes nothing.
    """
    result = install(host, dest.expanduser() if dest else None, dry_run=dry_run)
    _show(result, dry_run)
