"""``SubmitDialog``: the panel in a window of its own, and the one call hosts make to show it."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from common.host import HostAdapter
from common.qt.app import ensure_application
from common.qt.panel import SubmitPanel

logger = logging.getLogger(__name__)

#: Dialogs that are open: hosts without Qt (Blender) keep no Python reference to them.
_OPEN: list[SubmitDialog] = []


class SubmitDialog(QDialog):
    """A non-modal window holding a ``SubmitPanel``; the host stays usable beside it.

    Runs on the UI thread. Keyword arguments go to ``SubmitPanel``.
    """

    def __init__(self, adapter: HostAdapter, parent: QWidget | None = None, **panel: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cloudburst \N{EM DASH} Submit render")
        self.setModal(False)
        if parent is None:  # no host window to stay above (Blender): keep the panel in sight
            self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.panel = SubmitPanel(adapter, parent=self, **panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.panel)
        self.resize(780, 1040)
        self.finished.connect(self._closed)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self._closed(0)
        super().closeEvent(event)

    def _closed(self, _result: int) -> None:
        """The window closes: stop the panel's work and forget the window."""
        self.panel.shutdown()
        if self in _OPEN:
            _OPEN.remove(self)


def open_submit_dialog(adapter: HostAdapter, **panel: Any) -> SubmitDialog:
    """Shows the submit dialog for the host's open scene, creating a QApplication if needed.

    Runs on the host's UI thread. The dialog is parented to the host's main window when it
    has one; it is kept alive until closed. A dialog already open is brought to the front and
    reads the scene again (keeping the artist's edits when the scene is the same one).
    """
    ensure_application()
    for dialog in _OPEN:
        if dialog.isVisible():
            shown = dialog.panel
            scene = adapter.scene_info().scene_path
            same = shown.info is not None and shown.info.scene_path == scene
            if not same:
                shown.remember_settings()  # the choices made for the scene left behind
            shown.adapter = adapter
            shown.refresh_scene(keep_form=same)
            dialog.raise_()
            dialog.activateWindow()
            return dialog
    dialog = SubmitDialog(adapter, adapter.main_window(), **panel)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    _OPEN.append(dialog)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    logger.info("submit panel opened for %s", adapter.dcc)
    return dialog
