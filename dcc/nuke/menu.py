"""Nuke runs this file at start-up (with a UI) because its folder is on ``NUKE_PATH``.

``nuke.pluginAddPath`` is Nuke's own way to extend its paths: it puts Cloudburst's folder
(two levels up, holding ``common`` and ``dcc``) at the front of the plug-in path and of
``sys.path``, so ``import common`` finds Cloudburst's before any other package of that name.
"""

import os

import nuke


def _cloudburst_root():
    here = globals().get("__file__")
    if here:
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(here))))
    for folder in nuke.pluginPath():  # older Nukes run menu.py without __file__
        folder = os.path.normpath(folder)
        if os.path.isfile(os.path.join(folder, "adapter.py")) and folder.endswith("nuke"):
            return os.path.dirname(os.path.dirname(folder))
    return ""


_root = _cloudburst_root()
if _root:
    nuke.pluginAddPath(_root)

    from dcc.nuke import install_menu

    install_menu()
else:
    nuke.tprint("Cloudburst: cannot find its folder; the submit menu is not installed.")
