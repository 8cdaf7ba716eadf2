"""The scene's dependencies: every file with its size, missing ones in red and listed first."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from common.host import Asset

MISSING_COLOR = QColor("#ff6b6b")


def human_size(size: int) -> str:
    """``1.2 GB``-style size (powers of 1024, one decimal past KB)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class DependencyList(QWidget):
    """A table of assets (file, kind, size, used by) and a one-line summary.

    Runs on the UI thread.
    """

    COLUMNS = ("File", "Kind", "Size", "Used by")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setObjectName("dependencySummary")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(self.COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(3, 190)
        header.setStretchLastSection(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        self.set_assets([])

    def set_assets(self, assets: Sequence[Asset]) -> None:
        """Shows ``assets``: missing first, then by path."""
        self.tree.clear()
        ordered = sorted(assets, key=lambda a: (a.exists, a.path))
        for asset in ordered:
            self.tree.addTopLevelItem(self._item(asset))
        missing = sum(not a.exists for a in assets)
        total = sum(a.size for a in assets)
        if not assets:
            self.summary.setText("No external files: everything the scene needs is inside it.")
            return
        text = f"{len(assets)} dependencies · {human_size(total)}"
        if missing:
            text += f' · <span style="color:{MISSING_COLOR.name()}"><b>{missing} missing</b></span>'
        self.summary.setText(text)

    def missing_rows(self) -> list[str]:
        """Paths of the rows shown as missing (for tests and the pre-flight)."""
        rows = []
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == "missing":
                rows.append(item.text(0))
        return rows

    def _item(self, asset: Asset) -> QTreeWidgetItem:
        notes = [f"{len(asset.files)} files"] if len(asset.files) > 1 else []
        if asset.missing_files:
            notes.append(f"{len(asset.missing_files)} missing")
        if not asset.exists and not asset.files and not asset.size:
            size = "missing"
        else:
            size = human_size(asset.size) + (f" ({', '.join(notes)})" if notes else "")
        item = QTreeWidgetItem([asset.path, asset.kind.value, size, asset.source])
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = [asset.path]
        if asset.missing_files:
            shown = "\n".join(os.path.basename(f) for f in asset.missing_files[:12])
            more = len(asset.missing_files) - 12
            tip.append(f"Missing ({len(asset.missing_files)}):\n{shown}")
            if more > 0:
                tip.append(f"... and {more} more")
        if asset.source:
            tip.append(f"Used by: {asset.source}")
        item.setToolTip(0, "\n".join(tip))
        if not asset.exists:
            item.setData(0, Qt.ItemDataRole.UserRole, "missing")
            brush = QBrush(MISSING_COLOR)
            for column in range(len(self.COLUMNS)):
                item.setForeground(column, brush)
        return item
