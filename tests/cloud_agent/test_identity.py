"""An agent enrolls once with a one-time token, keeps its own token (0600, in a 0700 state
folder), and comes back as itself after a restart."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cloud_agent.cli import lock_state_dir
from cloud_agent.identity import TOKEN_FILE, AgentIdentity
from common.client import DaemonClient
from common.credentials import StaticToken
from common.models import AgentRegistration

NODE = AgentRegistration(name="node01", hostname="node01")


def test_enroll_keep_the_token_and_register_again(
    live_url: str, admin_token: str, tmp_path: Path
) -> None:
    enrollment = DaemonClient(live_url, auth=StaticToken(admin_token)).enrollment_token().token
    identity = AgentIdentity(tmp_path, enrollment)
    client = DaemonClient(live_url, auth=identity.credentials)
    info = client.register(identity.registration(NODE))
    identity.accept(info)
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600
    assert client.lease(info.id) is None  # the agent protocol answers with its token

    restarted = AgentIdentity(tmp_path, "")
    assert restarted.registration(NODE).enrollment_token is None
    again = DaemonClient(live_url, auth=restarted.credentials).register(NODE)
    assert again.id == info.id and again.token is None


def test_a_forgotten_token_falls_back_to_a_new_enrollment(tmp_path: Path) -> None:
    (tmp_path / TOKEN_FILE).write_text("cba_stale\n")
    identity = AgentIdentity(tmp_path, "cbe_fresh")
    assert identity.registration(NODE).enrollment_token is None
    assert identity.forget() is True
    assert not (tmp_path / TOKEN_FILE).exists()
    assert identity.registration(NODE).enrollment_token == "cbe_fresh"
    assert AgentIdentity(tmp_path, "").forget() is False


def test_the_state_folder_and_a_token_kept_by_an_older_version_are_narrowed(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    (state / TOKEN_FILE).write_text("cba_kept\n")
    os.chmod(state / TOKEN_FILE, 0o644)
    lock_state_dir(state).close()
    identity = AgentIdentity(state, "")
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / TOKEN_FILE).stat().st_mode) == 0o600
    assert identity.credentials.token == "cba_kept"
