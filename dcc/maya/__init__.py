"""Cloudburst's Maya plug-in: a Maya module (``cloudburst.mod``) and a plug-in that adds a
Cloudburst menu to Maya's main window; its item opens the shared submit panel.

Nothing here imports ``maya`` at import time: ``scene.py`` is the only module that does.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

MENU_LABEL = "Submit to Cloudburst..."


def open_panel(*_args: object) -> None:
    """The menu item's command: checks ``common`` is ours, then shows the panel.

    Runs on Maya's main thread; PySide6 is imported only now (Maya ships it).
    """
    from dcc import common_problem
    from dcc.maya import scene

    problem = common_problem()
    if problem is not None:
        scene.show_error(problem)
        return
    try:
        from common.qt import open_submit_dialog
    except ImportError as exc:
        scene.show_error(f"The Cloudburst panel needs PySide6, which this Maya lacks ({exc}).")
        return
    from dcc.maya.adapter import MayaAdapter

    open_submit_dialog(MayaAdapter())
