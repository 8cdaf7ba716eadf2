"""The panel's production fields: which nodes may take the job (pool, OS, memory, GPUs, DCC
version, tags), the limits each task holds, when to stop after failures, and the job it waits
for.

The limits start as the DCC's and the renderer's (``panel_limits``) and follow the render
target until the artist types others. "After job" offers the previous jobs of the ShotGrid
shot chosen, else of the show, from the daemon's listing (``set_jobs``); the daemon checks
again that the job exists and may be waited for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from common.jobspec import PanelSettings
from common.models import JobSummary
from common.qt.workers import Call, start_call

logger = logging.getLogger(__name__)

#: The OS menu: what it shows, and the value a requirement takes ("" for any).
OS_CHOICES = {"": "Any OS", "linux": "Linux", "windows": "Windows", "macos": "macOS"}
MB_PER_GB = 1024


class ProductionFields(QWidget):
    """Requirements, limits, failures and the job waited for. ``changed`` fires on every edit;
    UI thread only."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.default_limits = ""
        """The limits the job holds unless the artist types others, as the field shows them."""
        self.pool = self._line("pool", "any pool")
        self.os = QComboBox()
        self.os.setObjectName("os")
        for value, label in OS_CHOICES.items():
            self.os.addItem(label, value)
        self.min_memory = self._gigabytes("minMemory", 4096)
        self.gpus = QSpinBox()
        self.gpus.setObjectName("gpus")
        self.gpus.setRange(0, 64)
        self.gpus.setSpecialValueText("No GPU needed")
        self.min_gpu_memory = self._gigabytes("minGpuMemory", 512)
        self.dcc_version = self._line("dccVersion", "any version (2024 takes 2024.2)")
        self.tags = self._line("tags", "tags every node must have, e.g. ssd, fast")
        self.limits = self._line("limits", "none")
        self.limits.setToolTip("Licences and resources each task holds while it renders.")
        self.max_failed = self._line("maxFailed", "never stop early (5, or 10%)")
        self.after = QComboBox()
        self.after.setObjectName("afterJob")
        self.frame_by_frame = QCheckBox("Frame by frame")
        self.frame_by_frame.setObjectName("frameByFrame")
        self.frame_by_frame.setToolTip("Frame N starts once frame N of that job is done.")
        self._call: Call | None = None
        self.set_jobs([])

        memory_box = QHBoxLayout()
        memory_box.addWidget(self.min_memory)
        memory_box.addWidget(QLabel("GPUs"))
        memory_box.addWidget(self.gpus)
        memory_box.addWidget(QLabel("GPU memory"))
        memory_box.addWidget(self.min_gpu_memory)
        node_box = QHBoxLayout()
        node_box.addWidget(self.pool, 1)
        node_box.addWidget(self.os)
        node_box.addWidget(QLabel("DCC version"))
        node_box.addWidget(self.dcc_version)
        after_box = QHBoxLayout()
        after_box.addWidget(self.after, 1)
        after_box.addWidget(self.frame_by_frame)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Pool", node_box)
        form.addRow("Min memory", memory_box)
        form.addRow("Tags", self.tags)
        form.addRow("Limits", self.limits)
        form.addRow("Stop after", self.max_failed)
        form.addRow("After job", after_box)

        for signal in (self.os.currentIndexChanged, self.min_memory.valueChanged,
                       self.gpus.valueChanged, self.min_gpu_memory.valueChanged,
                       self.after.currentIndexChanged, self.frame_by_frame.toggled):  # fmt: skip
            signal.connect(self.changed)
        self.after.currentIndexChanged.connect(self._after_changed)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        """A text field named ``name`` whose edits are changes of the form."""
        edit = QLineEdit(placeholderText=placeholder)
        edit.setObjectName(name)
        edit.textChanged.connect(self.changed)
        return edit

    def _gigabytes(self, name: str, most: int) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(name)
        box.setRange(0, most)
        box.setSuffix(" GB")
        box.setSpecialValueText("Any")
        return box

    def set_default_limits(self, names: list[str]) -> None:
        """The limits the job holds unless the artist typed others (the target changed)."""
        text = ", ".join(names)
        if self.limits.text().strip() == self.default_limits:
            self.limits.setText(text)
        self.default_limits = text

    def list_jobs(
        self, pool: QThreadPool, fetch: Callable[[], Sequence[JobSummary]], scope: str = ""
    ) -> None:
        """Fetches the jobs "After job" offers on a ``pool`` thread (a fetch in flight is
        dropped); they are shown on the UI thread. A failed fetch leaves the list as it was.

        Args:
            scope: whose jobs they are (``shot sh010``, ``show tlk``), for the box's tooltip.
        """
        self.stop()
        self.after.setToolTip(f"Wait for a previous job of the {scope}." if scope else "")
        self._call = start_call(pool, fetch, self.set_jobs, self._not_listed, "previous jobs")

    def stop(self) -> None:
        """Drops the fetch in flight (the panel closes)."""
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def _not_listed(self, exc: BaseException) -> None:
        logger.info("cannot list the previous jobs: %s", exc)

    def set_jobs(self, jobs: Sequence[JobSummary]) -> None:
        """Offers ``jobs`` (the shot's or the show's previous ones, newest first) under "After
        job"; the chosen one stays chosen while it is listed."""
        chosen = self.after.currentData()
        self.after.blockSignals(True)
        self.after.clear()
        self.after.addItem("Nothing: start at once", None)
        for job in jobs:
            self.after.addItem(f"{job.id}  {job.name}  ({job.owner}, {job.state.value})", job.id)
        self.after.setCurrentIndex(max(0, self.after.findData(chosen)))
        self.after.blockSignals(False)
        self._after_changed()
        if self.after.currentData() != chosen:
            self.changed.emit()

    def load(self, settings: PanelSettings) -> None:
        """Shows ``settings``' production fields (the limits: the default ones when None)."""
        self.blockSignals(True)
        try:
            self.pool.setText(settings.pool)
            self.os.setCurrentIndex(max(0, self.os.findData(settings.os)))
            self.min_memory.setValue(-(-settings.min_memory_mb // MB_PER_GB))
            self.gpus.setValue(settings.gpus)
            self.min_gpu_memory.setValue(-(-settings.min_gpu_memory_mb // MB_PER_GB))
            self.dcc_version.setText(settings.dcc_version)
            self.tags.setText(settings.tags)
            limits = settings.limits
            self.limits.setText(self.default_limits if limits is None else limits)
            self.max_failed.setText(settings.max_failed_tasks)
            self.after.setCurrentIndex(max(0, self.after.findData(settings.after_job)))
            self.frame_by_frame.setChecked(settings.frame_by_frame)
            self._after_changed()
        finally:
            self.blockSignals(False)

    def apply(self, settings: PanelSettings) -> PanelSettings:
        """``settings`` with the production fields as the form shows them now."""
        limits = self.limits.text().strip()
        after = self.after.currentData()
        return replace(
            settings,
            pool=self.pool.text().strip(),
            os=self.os.currentData() or "",
            min_memory_mb=self.min_memory.value() * MB_PER_GB,
            gpus=self.gpus.value(),
            min_gpu_memory_mb=self.min_gpu_memory.value() * MB_PER_GB,
            dcc_version=self.dcc_version.text().strip(),
            tags=self.tags.text().strip(),
            limits=None if limits == self.default_limits else limits,
            max_failed_tasks=self.max_failed.text().strip(),
            after_job=int(after) if after is not None else None,
            frame_by_frame=after is not None and self.frame_by_frame.isChecked(),
        )

    def _after_changed(self) -> None:
        self.frame_by_frame.setEnabled(self.after.currentData() is not None)
