"""Nuke: one ``nuke.pluginAddPath`` line in the user's ``~/.nuke/init.py``.

Nuke runs ``~/.nuke/init.py`` at start-up; ``nuke.pluginAddPath`` puts this installation's
``dcc/nuke`` folder on the plug-in path, so Nuke runs its ``menu.py``, which puts Cloudburst's
folder first on ``sys.path`` and adds the menu. The user's file is kept: our line is added once
(marked with a comment), a line of an older installation is replaced, the file is backed up
before it changes, and nothing is written when the line is already there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dcc.install.files import InstallResult, Planned, write_planned

MARKER = "# Cloudburst submit menu (cloudburst install-dcc nuke)"


def nuke_folder(env: Mapping[str, str], home: Path | None = None) -> Path:
    """The user's ``.nuke`` folder."""
    return (home or Path.home()) / ".nuke"


def plugin_line(root: Path) -> str:
    """The line that adds our ``dcc/nuke`` folder to Nuke's plug-in path."""
    return f"nuke.pluginAddPath({(root / 'dcc' / 'nuke').as_posix()!r})"


def with_our_line(text: str, root: Path) -> str:
    """``text`` (an ``init.py``) with our line in it exactly once; unchanged when it is there.

    A line after our marker (an older installation's) is replaced; otherwise the marker, an
    ``import nuke`` when the file has none, and our line are appended.
    """
    line = plugin_line(root)
    lines = text.splitlines()
    if line in (stripped.strip() for stripped in lines):
        return text
    for index, current in enumerate(lines[:-1]):
        if current.strip() == MARKER and lines[index + 1].strip().startswith("nuke.pluginAddPath("):
            lines[index + 1] = line
            return "\n".join(lines) + "\n"
    block = [MARKER]
    if not any(current.strip() == "import nuke" for current in lines):
        block.append("import nuke")
    block.append(line)
    prefix = text if not text or text.endswith("\n") else text + "\n"
    separator = "\n" if prefix.strip() else ""
    return prefix + separator + "\n".join(block) + "\n"


def install(dest: Path | None, dry_run: bool, env: Mapping[str, str], root: Path) -> InstallResult:
    """Adds our line to ``init.py`` in ``dest`` (else ``~/.nuke``)."""
    result = InstallResult("nuke")
    init = (dest or nuke_folder(env)) / "init.py"
    current = init.read_text(encoding="utf-8") if init.is_file() else ""
    planned = Planned(init, with_our_line(current, root), user_file=True)
    write_planned(result, planned, dry_run=dry_run)
    result.notes.append(
        "Restart Nuke: Render > Submit to Cloudburst... Instead of init.py: add "
        f"{(root / 'dcc' / 'nuke').as_posix()} to NUKE_PATH."
    )
    return result
