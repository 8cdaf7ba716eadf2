"""The artist's recent jobs with live progress, polled from the daemon off the UI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.errors import CloudburstError
from common.models import JobSummary
from common.qt.workers import Call, start_call
from common.states import JobState

logger = logging.getLogger(__name__)

STATE_COLORS = {
    JobState.SUCCEEDED: "#6fcf7f",
    JobState.FAILED: "#ff6b6b",
    JobState.CANCELLED: "#9a9a9a",
    JobState.PAUSED: "#f0b44c",
    JobState.RUNNING: "#6aa8f0",
}


class RecentJobs(QWidget):
    """A table of jobs (id, name, state, progress, frames) refreshed every ``interval_ms``.

    ``fetch`` runs on a pool thread; the table is updated on the UI thread. At most one fetch
    is in flight; a tick while one runs is skipped.
    """

    COLUMNS = ("Job", "Name", "State", "Progress", "Frames")

    def __init__(
        self,
        fetch: Callable[[], Sequence[JobSummary]],
        pool: QThreadPool,
        interval_ms: int = 2000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._pool = pool
        self._call: Call | None = None
        self.jobs: list[JobSummary] = []
        self.status = QLabel("Your recent jobs appear here.")
        self.status.setObjectName("recentStatus")
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(3, 160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)

    def start(self) -> None:
        """Fetches now and then on every tick. Runs on the UI thread."""
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        """Stops polling and drops a fetch in flight. Runs on the UI thread."""
        self.timer.stop()
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def refresh(self) -> None:
        """Starts a fetch unless one is in flight. Runs on the UI thread."""
        if self._call is not None and not self._call.done.is_set():
            return
        self._call = start_call(self._pool, self._fetch, self._show, self._failed, "recent jobs")

    def progress_bar(self, row: int) -> QProgressBar | None:
        """The progress bar shown for the job in ``row``."""
        bar = self.table.cellWidget(row, 3)
        return bar if isinstance(bar, QProgressBar) else None

    def _failed(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, CloudburstError) else f"Unexpected error: {exc}"
        self.status.setText(f"Cannot load your recent jobs: {message}")

    def _show(self, jobs: Sequence[JobSummary]) -> None:
        self.jobs = list(jobs)
        self.status.setText(
            f"Your {len(self.jobs)} most recent jobs, refreshed every "
            f"{self.timer.interval() / 1000:g} s."
            if self.jobs
            else "You have no jobs on the farm yet."
        )
        self.table.setRowCount(len(self.jobs))
        for row, job in enumerate(self.jobs):
            self._set(row, 0, str(job.id), Qt.AlignmentFlag.AlignRight)
            self._set(row, 1, job.name)
            state = self._set(row, 2, job.state.value)
            color = STATE_COLORS.get(job.state)
            state.setData(Qt.ItemDataRole.ForegroundRole, QBrush(QColor(color)) if color else None)
            bar = self.table.cellWidget(row, 3)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setTextVisible(True)
                self.table.setCellWidget(row, 3, bar)
            bar.setValue(round(job.progress * 1000))
            bar.setFormat(f"{job.progress:.0%}")
            self._set(row, 4, str(job.frame_count), Qt.AlignmentFlag.AlignRight)
            state.setToolTip(job.message)  # why it is in its state (a failure's first error)

    def _set(
        self, row: int, column: int, text: str, align: Qt.AlignmentFlag | None = None
    ) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, column, item)
        item.setText(text)
        if align is not None:
            item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
        return item
