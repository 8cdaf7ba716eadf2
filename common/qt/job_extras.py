"""The panel's second set of job fields: due date, ShotGrid link, retries, timeout, description,
submit paused, and the environment table that only TDs and admins see.

The ShotGrid link is kept as codes (project name, shot or asset code, task name), which the
daemon resolves to ids at submission, refusing unknown ones with a sentence the panel shows;
a menu says whether the job renders a shot or an asset (a character, a prop);
``shotgrid_picker.py`` turns the three boxes into pick-lists filled from the daemon.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.accounts import Role
from common.jobspec import PanelSettings
from common.models import LinkedEntity

#: The roles that may set the render's environment (the daemon checks it again).
ENV_ROLES = frozenset({Role.TD, Role.ADMIN})

#: What the ShotGrid code box asks for, by what the job renders.
CODE_HINTS: dict[LinkedEntity, str] = {
    "Shot": "shot code, e.g. sh010",
    "Asset": "asset code, e.g. chair",
}


class JobExtras(QWidget):
    """The fields beyond the render itself. ``changed`` fires on every edit; UI thread only."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.has_due = QCheckBox("Due")
        self.has_due.setObjectName("hasDue")
        self.due = QDateTimeEdit()
        self.due.setObjectName("due")
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.due.setTimeZone(QTimeZone.systemTimeZone())
        self.due.setToolTip("Without a due date an Auto job almost never goes to the cloud.")
        self.sg_project = self._line("shotgridProject", "ShotGrid project name")
        self.sg_kind = QComboBox()
        self.sg_kind.setObjectName("shotgridKind")
        for kind in CODE_HINTS:
            self.sg_kind.addItem(kind, kind)
        self.sg_kind.setToolTip("Whether the job renders a shot or an asset (a character, a prop).")
        self.sg_shot = self._line("shotgridShot", CODE_HINTS["Shot"])
        """The code of the shot or, when ``sg_kind`` says so, of the asset."""
        self.sg_task = self._line("shotgridTask", "task name, e.g. lighting")
        self.retries = QSpinBox()
        self.retries.setObjectName("retries")
        self.retries.setRange(0, 100)
        self.timeout = QSpinBox()
        self.timeout.setObjectName("timeout")
        self.timeout.setRange(0, 7 * 24 * 60)
        self.timeout.setSuffix(" min per task")
        self.timeout.setSpecialValueText("No time limit")
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setPlaceholderText("What changed, what to check (optional)")
        self.description.setMaximumHeight(48)
        self.paused = QCheckBox("Submit paused (it waits for Resume)")
        self.paused.setObjectName("submitPaused")
        self.env = QTableWidget(0, 2)
        self.env.setObjectName("environment")
        self.env.setHorizontalHeaderLabels(["Variable", "Value"])
        self.env.horizontalHeader().setStretchLastSection(True)
        self.env.setMaximumHeight(90)
        self.add_env = QPushButton("Add variable")
        self.env_box = QWidget()
        env_layout = QVBoxLayout(self.env_box)
        env_layout.setContentsMargins(0, 0, 0, 0)
        env_layout.addWidget(self.env)
        env_layout.addWidget(self.add_env, 0, Qt.AlignmentFlag.AlignLeft)

        due_box = QHBoxLayout()
        due_box.addWidget(self.has_due)
        due_box.addWidget(self.due, 1)
        sg_box = QHBoxLayout()
        for box in (self.sg_project, self.sg_kind, self.sg_shot, self.sg_task):
            sg_box.addWidget(box)
        form = self._layout = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Due date", due_box)
        form.addRow("ShotGrid", sg_box)
        limits_box = QHBoxLayout()
        limits_box.addWidget(self.retries)
        limits_box.addWidget(QLabel("Timeout"))
        limits_box.addWidget(self.timeout, 1)
        form.addRow("Retries", limits_box)
        form.addRow("Description", self.description)
        form.addRow("", self.paused)
        form.addRow("Environment", self.env_box)
        self.show_env(None)

        self.has_due.toggled.connect(self.due.setEnabled)
        self.sg_kind.currentIndexChanged.connect(
            lambda: self.sg_shot.setPlaceholderText(CODE_HINTS[self.entity_kind])
        )
        self.add_env.clicked.connect(lambda: self.env.insertRow(self.env.rowCount()))
        for signal in (self.has_due.toggled, self.due.dateTimeChanged, self.retries.valueChanged,
                       self.timeout.valueChanged, self.description.textChanged,
                       self.paused.toggled, self.env.itemChanged,
                       self.sg_kind.currentIndexChanged):  # fmt: skip
            signal.connect(self.changed)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self.changed)
        return edit

    @property
    def entity_kind(self) -> LinkedEntity:
        """What the ShotGrid code box names: a shot or an asset."""
        return "Asset" if self.sg_kind.currentData() == "Asset" else "Shot"

    def show_env(self, role: Role | None) -> None:
        """Shows the environment table only to the roles that may set it."""
        self._layout.setRowVisible(self.env_box, role in ENV_ROLES)
        self._env_allowed = role in ENV_ROLES

    def load(self, settings: PanelSettings) -> None:
        """Shows ``settings``' extra fields."""
        self.blockSignals(True)
        try:
            due = _parse_due(settings.due)
            self.has_due.setChecked(due is not None)
            self.due.setEnabled(due is not None)
            shown = due or datetime.now(UTC).replace(second=0, microsecond=0)
            self.due.setDateTime(QDateTime.fromSecsSinceEpoch(int(shown.timestamp())))
            self.sg_project.setText(settings.shotgrid_project)
            asset = bool(settings.shotgrid_asset) and not settings.shotgrid_shot
            self.sg_kind.setCurrentIndex(self.sg_kind.findData("Asset" if asset else "Shot"))
            self.sg_shot.setText(settings.shotgrid_asset if asset else settings.shotgrid_shot)
            self.sg_task.setText(settings.shotgrid_task)
            self.retries.setValue(settings.max_retries)
            self.timeout.setValue((settings.timeout_s or 0) // 60)
            self.description.setPlainText(settings.description)
            self.paused.setChecked(settings.paused)
            self.env.setRowCount(0)
            for name, value in settings.env.items():
                row = self.env.rowCount()
                self.env.insertRow(row)
                self.env.setItem(row, 0, QTableWidgetItem(name))
                self.env.setItem(row, 1, QTableWidgetItem(value))
        finally:
            self.blockSignals(False)

    def apply(self, settings: PanelSettings) -> PanelSettings:
        """``settings`` with the extra fields as the form shows them now."""
        due = ""
        if self.has_due.isChecked():
            seconds = self.due.dateTime().toSecsSinceEpoch()
            due = datetime.fromtimestamp(seconds, UTC).isoformat()
        code = self.sg_shot.text().strip()
        return replace(
            settings,
            due=due,
            shotgrid_project=self.sg_project.text().strip(),
            shotgrid_shot=code if self.entity_kind == "Shot" else "",
            shotgrid_asset=code if self.entity_kind == "Asset" else "",
            shotgrid_task=self.sg_task.text().strip(),
            max_retries=self.retries.value(),
            timeout_s=self.timeout.value() * 60 or None,
            description=self.description.toPlainText().strip(),
            paused=self.paused.isChecked(),
            env=self._env() if self._env_allowed else {},
        )

    def _env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for row in range(self.env.rowCount()):
            name, value = self.env.item(row, 0), self.env.item(row, 1)
            if name is not None and name.text().strip():
                env[name.text().strip()] = value.text() if value is not None else ""
        return env


def _parse_due(text: str) -> datetime | None:
    try:
        due = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return due if due is None or due.tzinfo is not None else None
