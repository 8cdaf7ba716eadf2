"""The ``cloudburst`` command line (``common.cli.main:main`` is the console script).

Commands of other packages (``daemon``, ``agent``) are found through the ``cloudburst.commands``
entry-point group and imported only when used, so this package never imports ``daemon`` or
``cloud_agent``.
"""

from __future__ import annotations
