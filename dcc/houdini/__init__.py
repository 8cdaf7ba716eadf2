"""Cloudburst's Houdini plug-in: a package (``cloudburst.json``) and a shelf tool
(``toolbar/cloudburst.shelf``) whose button opens the shared submit panel.

The package puts Cloudburst's folder first on ``PYTHONPATH`` and this folder on
``HOUDINI_PATH`` (where Houdini finds ``toolbar/``). Nothing here imports ``hou`` at import
time: ``scene.py`` is the only module that does.
"""

from __future__ import annotations


def open_panel() -> None:
    """The shelf tool's script: checks ``common`` is ours, then shows the panel.

    Runs on Houdini's main thread, where Houdini's own PySide6 is available.
    """
    from dcc import common_problem
    from dcc.houdini import scene

    problem = common_problem()
    if problem is not None:
        scene.show_error(problem)
        return
    from common.qt import open_submit_dialog
    from dcc.houdini.adapter import HoudiniAdapter

    open_submit_dialog(HoudiniAdapter())
