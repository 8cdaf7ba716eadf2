"""Maya plug-in ``cloudburst_plugin.py``: adds the Cloudburst menu when loaded.

Maya finds this file through the module ``cloudburst.mod`` (``MAYA_PLUG_IN_PATH``), which
also puts Cloudburst's folder on ``PYTHONPATH`` before Maya starts Python, so ``dcc`` and
``common`` import from there. Load it in the Plug-in Manager (tick "Auto load").
"""

from __future__ import annotations

from typing import Any

maya_useNewAPI = True  # noqa: N816 - the name Maya looks for


def initializePlugin(plugin: Any) -> None:  # noqa: N802 - Maya's entry point
    """Adds the menu (Maya's main thread)."""
    from dcc.maya import MENU_LABEL, open_panel, scene

    scene.add_menu(MENU_LABEL, open_panel)


def uninitializePlugin(plugin: Any) -> None:  # noqa: N802 - Maya's entry point
    """Removes the menu."""
    from dcc.maya import scene

    scene.remove_menu()
