"""The add-on's Blender side: the Submit operator, its Render menu entry, the Qt event pump.

Blender ships no Qt. The operator creates the ``QApplication`` (``common.qt``) on first use
and registers a ``bpy.app.timers`` function that runs pending Qt events every
``PUMP_INTERVAL_S`` while a Cloudburst window is open, so both Blender and the panel stay
responsive on Blender's main thread. PySide6 is imported only when the panel opens.
"""

from __future__ import annotations

import logging
from typing import Any

import bpy

from dcc import common_problem

logger = logging.getLogger(__name__)

#: Seconds between two runs of Qt's pending events while the panel is open.
PUMP_INTERVAL_S = 0.02


def pump_qt_events() -> float | None:
    """The Blender timer: runs Qt's pending events; stops when no panel is open."""
    from common.qt import process_events

    try:
        open_windows = process_events()
    except Exception:  # a timer that raises is dropped by Blender without a word
        logger.exception("Qt event processing failed; the Cloudburst panel stops updating")
        return None
    return PUMP_INTERVAL_S if open_windows else None


class CLOUDBURST_OT_submit(bpy.types.Operator):  # noqa: N801 (Blender's naming scheme)
    """Submit the open scene to the Cloudburst render farm"""

    bl_idname = "render.cloudburst_submit"
    bl_label = "Submit to Cloudburst..."
    bl_options = {"REGISTER"}

    def execute(self, context: Any) -> set[str]:
        """Opens the submit panel. Runs on Blender's main thread."""
        problem = common_problem()
        if problem is not None:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        try:
            from common.qt import open_submit_dialog
        except ImportError as exc:
            self.report(
                {"ERROR"},
                f"The Cloudburst panel needs PySide6 in Blender's Python ({exc}). Install it "
                "with: <blender python> -m pip install 'PySide6-Essentials>=6.6'.",
            )
            return {"CANCELLED"}
        from dcc.blender.adapter import BlenderAdapter

        open_submit_dialog(BlenderAdapter())
        if not bpy.app.timers.is_registered(pump_qt_events):
            bpy.app.timers.register(pump_qt_events, first_interval=0.0, persistent=True)
        return {"FINISHED"}


def menu_entry(menu: Any, context: Any) -> None:
    """Draws the entry at the end of the Render menu."""
    menu.layout.separator()
    menu.layout.operator(CLOUDBURST_OT_submit.bl_idname, icon="RENDER_ANIMATION")


def register() -> None:
    bpy.utils.register_class(CLOUDBURST_OT_submit)
    bpy.types.TOPBAR_MT_render.append(menu_entry)


def unregister() -> None:
    bpy.types.TOPBAR_MT_render.remove(menu_entry)
    if bpy.app.timers.is_registered(pump_qt_events):
        bpy.app.timers.unregister(pump_qt_events)
    bpy.utils.unregister_class(CLOUDBURST_OT_submit)
