"""The Qt submit panel shared by every DCC; the only package of ours that imports PySide6.

``open_submit_dialog(adapter)`` is what a DCC shim calls. ``SubmitPanel`` is the widget (for
hosts that dock it), ``SubmitDialog`` the window around it.
"""

from __future__ import annotations

from common.qt.app import ensure_application, marker_problem, process_events
from common.qt.dialog import SubmitDialog, open_submit_dialog
from common.qt.panel import SubmitPanel

__all__ = [
    "SubmitDialog",
    "SubmitPanel",
    "ensure_application",
    "marker_problem",
    "open_submit_dialog",
    "process_events",
]
