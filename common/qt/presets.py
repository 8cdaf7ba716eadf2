"""``PresetBar``: a show's saved presets, applied or saved with one click.

A preset keeps the choices that suit a kind of render rather than one scene (chunk size,
priority, placement, retries, timeout, submit paused, environment, node requirements, limits,
when to stop after failures: ``PRESET_FIELDS``), per show, in the panel's settings file. Runs
on the UI thread; the file is read when the show changes (``show_changed``, once the artist
has finished typing it), not on every keystroke.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from common.jobspec import PanelSettings
from common.qt.settings_store import SettingsStore

logger = logging.getLogger(__name__)


class PresetBar(QWidget):
    """The current show's presets in a menu, and Save preset.

    Signals:
        applied(object): the ``PanelSettings`` with the chosen preset laid over the form's.
    """

    applied = Signal(object)

    def __init__(
        self,
        store: SettingsStore,
        current: Callable[[], PanelSettings],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.current = current
        self.show_name = ""
        self.ask_name: Callable[[], str | None] = self._ask_name
        """Asks the artist for the new preset's name (None: cancelled); tests put their own."""
        self.menu = QComboBox()
        self.menu.setObjectName("preset")
        self.save_button = QPushButton("Save preset...")
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.menu, 1)
        layout.addWidget(self.save_button)
        self.menu.activated.connect(self._chosen)
        self.save_button.clicked.connect(self.save)

    def set_show(self, show: str) -> None:
        """Lists ``show``'s presets (the job's project)."""
        self.show_name = show or "default"
        self.label.setText(f"Presets of {self.show_name}")
        self.menu.blockSignals(True)
        self.menu.clear()
        names = self.store.preset_names(self.show_name)
        self.menu.addItem("Choose a preset..." if names else "No presets yet", "")
        for name in names:
            self.menu.addItem(name, name)
        self.menu.blockSignals(False)

    def show_changed(self, show: str) -> None:
        """Lists ``show``'s presets unless they are the ones listed already."""
        if (show or "default") != self.show_name:
            self.set_show(show)

    def save(self) -> None:
        """Saves the form's preset choices, under a name the artist gives, in the form's show."""
        name = (self.ask_name() or "").strip()
        if not name:
            return
        settings = self.current()
        self.show_name = settings.project or "default"
        try:
            self.store.save_preset(self.show_name, name, settings)
        except OSError as exc:
            logger.warning("cannot store the preset in %s: %s", self.store.path, exc)
            self.label.setText(f"The preset could not be saved in {self.store.path}: {exc}")
            return
        self.set_show(self.show_name)
        self.menu.setCurrentIndex(self.menu.findData(name))

    def _chosen(self, index: int) -> None:
        name = self.menu.itemData(index)
        if name:
            self.applied.emit(self.store.load_preset(self.show_name, name, self.current()))

    def _ask_name(self) -> str | None:
        name, ok = QInputDialog.getText(self, "Save preset", f"Preset name for {self.show_name}:")
        return name if ok else None
