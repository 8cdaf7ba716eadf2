"""The job fields of the submit panel, with the frame range validated as the artist types."""

from __future__ import annotations

import os
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from common.errors import FrameSpecError
from common.frames import chunk_frames, parse_frames
from common.host import SceneInfo
from common.jobspec import PanelSettings, default_limits, default_output, target_frames
from common.models import Placement
from common.qt.job_extras import JobExtras
from common.qt.production_fields import ProductionFields

#: What the placement menu says for each placement.
PLACEMENT_LABELS = {
    Placement.AUTO: "Auto: local farm first, cloud only to meet the due date",
    Placement.LOCAL: "Local only",
    Placement.CLOUD: "Cloud allowed",
    Placement.NEVER_CLOUD: "Never cloud (confidential)",
}
ERROR_STYLE = "color: #ff6b6b;"
HINT_STYLE = "color: palette(placeholder-text);"


W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    """Gives a widget an object name (tests and style sheets find it by that)."""
    widget.setObjectName(name)
    return widget


class JobForm(QWidget):
    """Job name, project, frames, chunk size, priority, placement, target, camera, output.

    The Camera row shows only when the scene offers cameras to choose (``SceneInfo.cameras``):
    a host whose renders take no camera (Nuke) offers none, so no box pretends to choose one.
    ``changed`` fires on every edit. Runs on the UI thread.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info: SceneInfo | None = None
        self._settings = PanelSettings()
        self.frames_valid = True

        self.name = _named(QLineEdit(), "jobName")
        self.project = _named(QLineEdit(), "project")
        self.frames = _named(QLineEdit(), "frames")
        self.frames.setPlaceholderText("1-100, 1-100x5 or 1,5,10-20")
        self.frames_hint = _named(QLabel(), "framesHint")
        self.frames_hint.setWordWrap(True)
        self.chunk = _named(QSpinBox(), "chunkSize")
        self.chunk.setRange(1, 100_000)
        self.chunk.setSuffix(" frame per task")
        self.priority = _named(QSpinBox(), "priority")
        self.priority.setRange(0, 100)
        self.priority_slider = QSlider(Qt.Orientation.Horizontal)
        self.priority_slider.setRange(0, 100)
        self.placement = _named(QComboBox(), "placement")
        for placement, label in PLACEMENT_LABELS.items():
            self.placement.addItem(label, placement.value)
        self.target = _named(QComboBox(), "target")
        self.camera = _named(QComboBox(), "camera")
        self.output = _named(QLineEdit(), "output")
        self.output.setPlaceholderText("/show/renders/shot/shot_####  (# for the frame number)")
        self.browse = QPushButton("Browse...")
        self.extras = JobExtras()
        """Due date, ShotGrid, retries, timeout, description, paused, environment: the panel
        shows them in a box of their own."""
        self.production = ProductionFields()
        """Requirements, limits, failures and the job waited for: a box of their own too."""

        frames_box = QVBoxLayout()
        frames_box.setSpacing(2)
        frames_box.addWidget(self.frames)
        frames_box.addWidget(self.frames_hint)
        priority_box = QHBoxLayout()
        priority_box.addWidget(self.priority_slider, 1)
        priority_box.addWidget(self.priority)
        output_box = QHBoxLayout()
        output_box.addWidget(self.output, 1)
        output_box.addWidget(self.browse)

        form = self._layout = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Job name", self.name)
        form.addRow("Project", self.project)
        form.addRow("Frames", frames_box)
        form.addRow("Chunk size", self.chunk)
        form.addRow("Priority", priority_box)
        form.addRow("Placement", self.placement)
        form.addRow("Render target", self.target)
        form.addRow("Camera", self.camera)
        form.addRow("Output", output_box)

        for edit in (self.name, self.project, self.output):
            edit.textChanged.connect(self.changed)
        self.frames.textChanged.connect(self._validate_frames)
        self.chunk.valueChanged.connect(self._validate_frames)
        self.chunk.valueChanged.connect(
            lambda n: self.chunk.setSuffix(" frame per task" if n == 1 else " frames per task")
        )
        self.priority.valueChanged.connect(self.priority_slider.setValue)
        self.priority_slider.valueChanged.connect(self.priority.setValue)
        self.priority.valueChanged.connect(self.changed)
        self.placement.currentIndexChanged.connect(self.changed)
        self.camera.currentIndexChanged.connect(self.changed)
        self.target.currentIndexChanged.connect(self._target_changed)
        self.browse.clicked.connect(self._browse)
        self.extras.changed.connect(self.changed)
        self.production.changed.connect(self.changed)

    # --- filling in ----------------------------------------------------------------------

    def load(self, info: SceneInfo, settings: PanelSettings) -> None:
        """Shows the scene's targets and cameras and the given settings."""
        self._info, self._settings = info, settings
        widgets = (self.name, self.project, self.frames, self.chunk, self.priority,
                   self.placement, self.target, self.camera, self.output)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.name.setText(settings.name)
            self.project.setText(settings.project)
            self.frames.setText(settings.frames)
            self.chunk.setValue(settings.chunk_size)
            self.priority.setValue(settings.priority)
            self.priority_slider.setValue(settings.priority)
            self.placement.setCurrentIndex(
                max(0, self.placement.findData(settings.placement.value))
            )
            self.target.clear()
            self.target.addItem("Scene default (everything the scene renders)", "")
            for target in info.targets:
                details = ", ".join(
                    x for x in (target.kind.replace("_", " "), target.renderer) if x
                )
                off = "" if target.enabled else " (disabled in the scene)"
                self.target.addItem(f"{target.name}  ({details}){off}", target.name)
            self.target.setCurrentIndex(max(0, self.target.findData(settings.target)))
            self.camera.clear()
            self.camera.addItem("Scene camera", "")
            for camera in info.cameras:
                self.camera.addItem(camera, camera)
            self.camera.setCurrentIndex(max(0, self.camera.findData(settings.camera)))
            self._layout.setRowVisible(self.camera, bool(info.cameras))
            self.output.setText(settings.output)
            self.extras.load(settings)
            self.production.set_default_limits(default_limits(info, settings.target))
            self.production.load(settings)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._validate_frames()

    def settings(self) -> PanelSettings:
        """The settings as the form shows them now."""
        chosen = PanelSettings(
            name=self.name.text().strip(),
            project=self.project.text().strip(),
            frames=self.frames.text().strip(),
            chunk_size=self.chunk.value(),
            priority=self.priority.value(),
            placement=Placement(self.placement.currentData()),
            target=self.target.currentData() or "",
            camera=self.camera.currentData() or "",
            output=self.output.text().strip(),
            output_format=self._settings.output_format,
        )
        return self.production.apply(self.extras.apply(chosen))

    # --- reacting --------------------------------------------------------------------------

    def _validate_frames(self) -> None:
        """Parses the frame range with the daemon's own parser and says what it found."""
        text = self.frames.text()
        try:
            frames = parse_frames(text)
        except FrameSpecError as exc:
            self.frames_valid = False
            self.frames_hint.setText(exc.message)
            self.frames_hint.setStyleSheet(ERROR_STYLE)
            self.frames.setProperty("invalid", True)
        else:
            self.frames_valid = True
            tasks = len(chunk_frames(frames, self.chunk.value()))
            self.frames_hint.setText(
                f"{len(frames):,} frame{'s' if len(frames) != 1 else ''} in "
                f"{tasks:,} task{'s' if tasks != 1 else ''}"
            )
            self.frames_hint.setStyleSheet(HINT_STYLE)
            self.frames.setProperty("invalid", False)
        self.frames.style().unpolish(self.frames)
        self.frames.style().polish(self.frames)
        self.changed.emit()

    def _target_changed(self) -> None:
        """Follows the new target's output and frame range unless the artist typed their own."""
        if self._info is not None:
            chosen = self.target.currentData() or ""
            previous = {default_output(self._info, t.name) for t in self._info.targets}
            previous.add(default_output(self._info))
            if self.output.text().strip() in previous or not self.output.text().strip():
                self.output.setText(default_output(self._info, chosen))
            ranges = {target_frames(self._info, t.name) for t in self._info.targets}
            ranges.add(target_frames(self._info))
            if self.frames.text().strip() in ranges or not self.frames.text().strip():
                self.frames.setText(target_frames(self._info, chosen))
            self.production.set_default_limits(default_limits(self._info, chosen))
        self.changed.emit()

    def _browse(self) -> None:
        start = self.output.text() or os.path.expanduser("~")
        path, _ = QFileDialog.getSaveFileName(self, "Where the frames go", start)
        if path:
            self.output.setText(path)
