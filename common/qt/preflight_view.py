"""The pre-flight check as the artist sees it: each problem, its fix, and a button for it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from common.jobspec import Problem, Severity

#: The label of the button for each one-click fix.
ACTION_LABELS = {"save": "Save scene", "check_daemon": "Check again"}
COLORS = {Severity.ERROR: "#ff6b6b", Severity.WARNING: "#f0b44c"}


class PreflightView(QWidget):
    """Shows ``Problem``s (errors first) or a ready line; emits ``action_requested(action)``.

    Runs on the UI thread.
    """

    action_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._shown: tuple[Problem, ...] | None = None
        self._ready = ""
        self.problems: tuple[Problem, ...] = ()

    def set_problems(self, problems: Sequence[Problem], ready: str = "Ready to submit.") -> None:
        """Shows ``problems``, or ``ready`` when there are none. Unchanged input is a no-op."""
        problems = tuple(problems)
        if problems == self._shown and ready == self._ready:
            return
        self._shown, self._ready, self.problems = problems, ready, problems
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if not problems:
            label = QLabel(f'<span style="color:#6fcf7f">&#10003;</span> {escape(ready)}')
            label.setObjectName("preflightReady")
            self._layout.addWidget(label)
            return
        for problem in problems:
            self._layout.addWidget(self._row(problem))

    def texts(self) -> list[str]:
        """Each problem as ``message Fix: fix``, as shown (for tests)."""
        return [f"{p.message} Fix: {p.fix}" for p in self.problems]

    def _row(self, problem: Problem) -> QWidget:
        row = QWidget()
        row.setObjectName(f"problem_{problem.code}")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        icon = QLabel()
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if problem.severity is Severity.ERROR
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(18, 18))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(icon)
        color = COLORS[problem.severity]
        text = QLabel(
            f'<span style="color:{color}"><b>{escape(problem.message)}</b></span><br>'
            f'<span style="color:palette(text)">Fix: {escape(problem.fix)}</span>'
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(text, 1)
        if problem.action in ACTION_LABELS:
            button = QPushButton(ACTION_LABELS[problem.action])
            button.setObjectName(f"fix_{problem.action}")
            button.clicked.connect(lambda: self.action_requested.emit(problem.action))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        return row
