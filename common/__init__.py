"""Code shared by the daemon, the render-node agent, the CLI and the DCC panels.

Nothing in here imports ``daemon``, ``cloud_agent`` or ``dcc``.
"""

from __future__ import annotations

#: Marker that DCC plug-ins check to be sure ``common`` on ``sys.path`` is Cloudburst's.
CLOUDBURST_COMMON = True

__version__ = "0.1.0"
