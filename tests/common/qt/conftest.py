"""Qt tests run without a display: Qt's offscreen platform, set before any QApplication."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
