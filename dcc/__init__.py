"""The DCC plug-ins: one folder per host (``blender``, ``maya``, ``houdini``, ``nuke``).

Each holds a host-native shim, ``adapter.py`` (implements ``common.host.HostAdapter``) and
``scene.py``, the only module that imports the host's API. Every shim calls
``common_problem()`` before it imports anything else of ours: ``common`` is a generic name, and
a host may carry another package called that (a studio pipeline, another vendor's tools).
"""

from __future__ import annotations

import importlib
import os
import sys

#: The folder that holds ``dcc`` and, beside it, Cloudburst's ``common``.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def common_problem() -> str | None:
    """Why ``import common`` does not give Cloudburst's package, or None when it does.

    Runs on the host's UI thread, before the panel is imported.

    Returns:
        A sentence for the artist naming the package that shadows ours and how to fix it.
    """
    try:
        module = importlib.import_module("common")
    except ImportError as exc:
        return (
            f"Cloudburst's 'common' package cannot be imported ({exc}). Reinstall the plug-in "
            f"with 'cloudburst install-dcc' so {ROOT} is on the host's Python path."
        )
    if getattr(module, "CLOUDBURST_COMMON", False) is True:
        return None
    where = getattr(module, "__file__", None) or ", ".join(getattr(module, "__path__", []))
    return (
        f"Another Python package named 'common' ({where or 'built in'}) hides Cloudburst's. "
        f"Put Cloudburst's folder {ROOT} before it on the host's Python path (reinstall with "
        "'cloudburst install-dcc'), or rename the other package. Python path starts with: "
        f"{', '.join(sys.path[:3])}."
    )
