"""What the ``cloudburst`` command's tests share: no user's settings, and a run of the command
against a served daemon.

Import ``no_user_config`` into a test module (``from tests.cli_isolation import
no_user_config``): it is an autouse fixture, so every test of that module runs with an empty
config file and no ``CLOUDBURST_*`` variable of the machine's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from common.cli.context import CliState
from common.cli.main import cli
from common.client import DaemonClient
from common.credentials import StaticToken


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-config.toml"
    empty.write_text("", encoding="utf-8")
    for key in [k for k in os.environ if k.startswith("CLOUDBURST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CLOUDBURST_CONFIG", str(empty))


def invoke_served(args: list[str], url: str, token: str, columns: int = 200) -> Result:
    """``cloudburst ARGS`` against the daemon at ``url``, signed in with ``token``."""
    state = CliState(client=DaemonClient(url, auth=StaticToken(token)), poll_interval_s=0)
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, args, obj=state)
