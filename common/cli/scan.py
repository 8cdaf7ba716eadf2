"""``cloudburst scan``: a scene's facts and every file it needs, read without its DCC.

The same readers as the submit panel: ``common.scene_readers`` for ``.ma``, ``.nk`` and
``.hip*`` files, and for ``.blend`` files the Blender plug-in's reader (Blender Asset Tracer,
no ``bpy``), found through the ``cloudburst.scene_readers`` entry points like any other plug-in
reader. Reports are kept in a scan cache (``common.scene_readers.scan_cache``), so a second
scan of an unchanged scene only checks file times.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

import click
import platformdirs
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from common.errors import InvalidInput
from common.host import Asset
from common.scene_readers import SceneReport, supported_extensions
from common.scene_readers.plugins import plugin_readers, reader_for
from common.scene_readers.scan_cache import ScanCache

logger = logging.getLogger(__name__)

#: Exit code when the scan worked and something the scene needs is missing.
EXIT_MISSING = 3
#: Missing files listed per dependency before the rest are counted.
MISSING_SHOWN = 10


def default_cache_path() -> Path:
    """``scan-cache.sqlite3`` in the user's cache folder (``~/.cache/cloudburst`` on Linux)."""
    return platformdirs.user_cache_path("cloudburst") / "scan-cache.sqlite3"


def open_cache(path: Path) -> ScanCache | None:
    """The scan cache at ``path``; None (scan without it, with a warning) when it cannot open."""
    try:
        return ScanCache(path)
    except (OSError, sqlite3.Error) as exc:
        logger.warning("Scanning without the scan cache: cannot open %s (%s).", path, exc)
        return None


def known_kinds() -> list[str]:
    """The extensions of the scenes some reader knows (plug-in readers included), sorted."""
    return sorted({*supported_extensions(), *plugin_readers()})


def scan(scene: Path, cache: ScanCache | None) -> SceneReport:
    """Reads ``scene`` through its reader, from ``cache`` when nothing it uses changed.

    Raises:
        InvalidInput: unknown kind, missing or unreadable file, or not what its name says.
    """
    path = scene.expanduser().absolute()
    known = known_kinds()
    if path.suffix.lower() not in known and path.suffix.lower() != ".mb":
        raise InvalidInput(
            f"Cannot scan {path}: scenes of kind {path.suffix or '(no extension)'} are not "
            f"known. Known kinds: {', '.join(known)}."
        )
    if not path.is_file():
        raise InvalidInput(f"The scene {path} does not exist. Check the path.")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"Cannot read {path}: permission denied. Check the file's access.")
    reader = reader_for(path)
    try:
        return cache.read(str(path), reader) if cache else reader(str(path), None)
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(f"Cannot read {path}: {exc}.") from exc


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def facts_table(report: SceneReport) -> Table:
    """The scene facts as a two-column table."""
    info = report.info
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    step = f" step {info.frame_step}" if info.frame_step != 1 else ""
    rows = [
        ("DCC", info.dcc),
        ("Frames", f"{info.frame_start}-{info.frame_end}{step}"),
        ("FPS", f"{info.fps:g}"),
        ("Renderer", info.renderer or "-"),
        ("Resolution", "x".join(map(str, info.resolution)) if any(info.resolution) else "-"),
        ("Cameras", ", ".join(info.cameras) or "-"),
        ("Output", info.output or "-"),
        ("Format", info.output_format or "-"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for target in info.targets:
        state = "" if target.enabled else " (off)"
        detail = ", ".join(filter(None, [target.renderer, *target.cameras, target.output]))
        table.add_row(f"{target.kind}", f"{target.name}{state}: {detail or '-'}")
    return table


def assets_table(title: str, assets: tuple[Asset, ...], *, outputs: bool = False) -> Table:
    """Dependencies (or outputs): found or missing, kind, path, files, size, where used."""
    table = Table(title=title, title_justify="left")
    for column in ("", "kind", "path", "files", "size", "used by"):
        table.add_column(column, overflow="fold")
    for asset in assets:
        if outputs:
            status = Text(
                "on disk" if asset.exists else "-", style="yellow" if asset.exists else ""
            )
        else:
            status = (
                Text("ok", style="green")
                if asset.exists
                else Text("MISSING", style="red")
                if asset.evaluated
                else Text("not evaluated", style="yellow")
            )
        count = len(asset.files) + len(asset.missing_files)
        files = f"{len(asset.files)}/{count}" if count else ""
        path = Text(asset.path)
        if asset.found_by:  # not where the scene says: the DCC's search finds it here
            path.append(f"\n  found by: {asset.found_by}", style="cyan")
        shown = asset.missing_files[:MISSING_SHOWN]
        for missing in shown:
            path.append(f"\n  missing {missing}", style="red")
        if len(asset.missing_files) > len(shown):
            rest = len(asset.missing_files) - len(shown)
            path.append(f"\n  and {rest} more missing", style="red")
        table.add_row(status, asset.kind.value, path, files, _size(asset.size), asset.source)
    return table


def report_view(report: SceneReport) -> Group:
    """Facts, dependencies, outputs, warnings and the verdict, for people."""
    parts: list[Table | Text] = [
        Text(f"{report.info.dcc} scene {report.info.scene_path}", style="bold"),
        facts_table(report),
    ]
    parts.append(assets_table(f"Dependencies ({len(report.dependencies)})", report.dependencies))
    if report.outputs:
        parts.append(assets_table("Outputs", report.outputs, outputs=True))
    for warning in report.warnings:
        parts.append(Text(f"! {warning}", style="yellow"))
    missing = len(report.missing)
    verdict = (
        Text(f"{missing} of {len(report.dependencies)} dependencies missing.", style="bold red")
        if missing
        else Text(f"All {len(report.dependencies)} dependencies found.", style="bold green")
    )
    parts.append(verdict)
    return Group(*parts)


@click.command("scan")
@click.argument("scene", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The scan cache file (default: scan-cache.sqlite3 in the user's cache folder).",
)
@click.option("--no-cache", is_flag=True, help="Read the scene even if it is unchanged.")
@click.pass_context
def scan_command(
    ctx: click.Context, scene: Path, as_json: bool, cache_path: Path | None, no_cache: bool
) -> None:
    """Check SCENE (.blend, .ma, .nk, .hip, .hipnc, .hiplc) without its DCC.

    Prints the scene facts and every file the scene needs, found and missing, sequences
    expanded to the frames on disk. Exit code 0 when nothing is missing, 3 when something is
    missing, 1 when the scene cannot be scanned (unknown kind, unreadable file).
    """
    cache = None if no_cache else open_cache(cache_path or default_cache_path())
    try:
        report = scan(scene, cache)
    finally:
        if cache is not None:
            cache.close()
    if as_json:
        data = {**report.to_dict(), "missing": [asset.path for asset in report.missing]}
        click.echo(json.dumps(data, indent=2))
    else:
        Console().print(report_view(report))
    if report.missing:
        ctx.exit(EXIT_MISSING)
