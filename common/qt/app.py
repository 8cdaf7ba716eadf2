"""The Qt application the panel lives in: the host's, or one made for hosts without Qt.

Maya, Houdini and Nuke run a ``QApplication`` of their own; Blender has none, so the add-on
asks ``ensure_application()`` for one and pumps its events from a Blender timer with
``process_events()``. Everything here runs on the host's main (UI) thread.
"""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

logger = logging.getLogger(__name__)


def ensure_application() -> QApplication:
    """The running ``QApplication``; creates one (Fusion style, dark) when there is none."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1] or ["cloudburst"])
    app.setApplicationName("Cloudburst")
    app.setQuitOnLastWindowClosed(False)  # the host, not the panel, ends the process
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(dark_palette())
    logger.info("created a QApplication (%s)", os.environ.get("QT_QPA_PLATFORM", "default"))
    return app


def dark_palette() -> QPalette:
    """A dark palette close to the DCCs' own, for hosts whose Qt we create."""
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#dcdcdc",
        QPalette.ColorRole.Base: "#1f1f1f",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#eeeeee",
        QPalette.ColorRole.Text: "#dcdcdc",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#dcdcdc",
        QPalette.ColorRole.BrightText: "#ff5555",
        QPalette.ColorRole.Highlight: "#3d7fcf",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#808080",
        QPalette.ColorRole.Link: "#6aa8f0",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):  # fmt: skip
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6e6e6e"))
    return palette


def process_events() -> bool:
    """Runs pending Qt events once; whether a Cloudburst window is still open.

    The Blender add-on calls this from a ``bpy.app.timers`` callback on Blender's main thread,
    so the panel stays live while Blender stays responsive; the timer stops when it returns
    False.
    """
    app = QApplication.instance()
    if app is None:
        return False
    app.processEvents()
    return any(w.isVisible() for w in QApplication.topLevelWidgets())


def marker_problem() -> str | None:
    """Why the loaded ``common`` is not Cloudburst's, or None when it is.

    ``common`` is a generic name; the DCC shims check it before importing the panel
    (``dcc.common_problem``), and the panel checks again at start.
    """
    module = sys.modules.get("common")
    if module is not None and getattr(module, "CLOUDBURST_COMMON", False) is True:
        return None
    where = getattr(module, "__file__", None) or "unknown location"
    return (
        f"The Python package 'common' loaded here ({where}) is not Cloudburst's: another "
        "package of that name shadows it. Put Cloudburst's folder first on the host's Python "
        "path (reinstall with 'cloudburst install-dcc') and restart."
    )
