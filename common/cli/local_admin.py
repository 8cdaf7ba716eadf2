"""The local admin credential a daemon writes in its data folder on first start.

``cloudburst render`` (and tests' farms) read it to submit and to enroll their own agents.
"""

from __future__ import annotations

import json
from pathlib import Path

from common.credentials import StaticToken
from common.errors import ConfigError

LOCAL_ADMIN_FILE = "local-admin.json"


def local_admin(data_dir: Path) -> StaticToken:
    """The admin token in ``data_dir/local-admin.json``.

    Raises:
        ConfigError: the file is missing or unreadable (the daemon has not started there, or
            ``auth.local_admin_file`` is off).
    """
    path = data_dir / LOCAL_ADMIN_FILE
    try:
        token = json.loads(path.read_text(encoding="utf-8"))["token"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"Cannot read the local admin credential {path}. Start the daemon with this data "
            "folder once (with auth.local_admin_file on), or sign in with `cloudburst login`."
        ) from None
    return StaticToken(str(token))
