"""``python -m cloud_agent.blender_compat``: the same as ``cloudburst-blender``."""

from __future__ import annotations

import sys

from cloud_agent.blender_compat.cli import main

if __name__ == "__main__":
    sys.exit(main())
