"""Cloudburst's Nuke plug-in: ``menu.py`` (on ``NUKE_PATH``) adds Render > Submit to
Cloudburst..., which opens the shared submit panel.

Nothing here imports ``nuke`` at import time: ``scene.py`` is the only module that does.
"""

from __future__ import annotations


def open_panel() -> None:
    """The menu command: checks ``common`` is ours, then shows the panel (Nuke's main
    thread; Nuke ships PySide6)."""
    from dcc import common_problem
    from dcc.nuke import scene

    problem = common_problem()
    if problem is not None:
        scene.show_error(problem)
        return
    from common.qt import open_submit_dialog
    from dcc.nuke.adapter import NukeAdapter

    open_submit_dialog(NukeAdapter())


def install_menu() -> None:
    """Adds the menu entry; called by ``menu.py`` when Nuke starts with a UI."""
    from dcc.nuke import scene

    scene.add_menu_command(open_panel)
