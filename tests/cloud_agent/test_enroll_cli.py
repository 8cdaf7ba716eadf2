"""``cloudburst agent enroll`` and ``agent token``: a TD or admin mints a one-time token over
the real API, and a node registers with it; ``cloudburst agent`` itself still runs an agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cloud_agent.cli import agent_command
from cloud_agent.identity import AgentIdentity
from common.accounts import Role
from common.cli.context import CliState
from common.cli.main import cli
from common.client import DaemonClient
from common.credentials import StaticToken
from common.errors import Unauthenticated
from common.models import AgentRegistration
from daemon.app import Services
from tests.cli_isolation import no_user_config  # noqa: F401 (autouse)
from tests.conftest import user_token


def invoke(args: list[str], url: str, token: str) -> Result:
    state = CliState(client=DaemonClient(url, auth=StaticToken(token)))
    return CliRunner().invoke(cli, args, obj=state)


def registers_once(url: str, token: str, tmp_path: Path) -> None:
    """A node registers with ``token``; a second node cannot use it again."""
    node = AgentRegistration(name="node07", hostname="node07")
    identity = AgentIdentity(tmp_path / "first", token)
    info = DaemonClient(url, auth=identity.credentials).register(identity.registration(node))
    assert info.name == "node07"
    other = AgentIdentity(tmp_path / "second", token)
    with pytest.raises(Unauthenticated):
        DaemonClient(url, auth=other.credentials, retries=0).register(other.registration(node))


def test_enroll_prints_a_token_that_registers_one_node(
    live_url: str, admin_token: str, tmp_path: Path
) -> None:
    result = invoke(["agent", "enroll"], live_url, admin_token)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    token = lines[1].strip()
    assert f"cloudburst agent --daemon {live_url} --enrollment-token {token}" in result.output
    assert (
        f"cloudburst install-service agent --daemon-url {live_url} --enrollment-token {token}"
        in result.output
    )
    assert "this machine's own address" in result.output  # 127.0.0.1: a note for other hosts
    registers_once(live_url, token, tmp_path)


def test_token_prints_only_the_token(live_url: str, admin_token: str, tmp_path: Path) -> None:
    bare = invoke(["agent", "token"], live_url, admin_token)
    assert bare.exit_code == 0, bare.output
    token = bare.output.strip()
    assert "\n" not in token and " " not in token
    as_json = json.loads(invoke(["agent", "token", "--json"], live_url, admin_token).output)
    assert set(as_json) == {"token", "expires_at"} and as_json["token"] != token
    registers_once(live_url, token, tmp_path)


def test_an_artist_is_refused_with_the_daemons_sentence(live_url: str, services: Services) -> None:
    artist = user_token(services, "ann", Role.ARTIST)
    result = invoke(["agent", "enroll"], live_url, artist)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Your role (artist) does not allow this; it needs agents.manage." in result.output


def test_the_agents_daemon_option_names_the_daemon_to_mint_at(
    live_url: str, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDBURST_TOKEN", admin_token)
    bare = live_url.removeprefix("http://")
    result = CliRunner().invoke(cli, ["agent", "--daemon", bare, "token"], obj=CliState())
    assert result.exit_code == 0, result.output
    assert len(result.output.strip()) > 20


def test_options_of_a_running_agent_are_refused_before_a_subcommand() -> None:
    result = CliRunner().invoke(agent_command, ["--name", "n1", "enroll"])
    assert result.exit_code == 2
    assert "--name set up a running agent, not 'enroll'" in result.output


def test_the_agent_still_runs_without_a_subcommand(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        agent_command,
        ["--blender", str(tmp_path / "no-blender"), "--state-dir", str(tmp_path / "state")],
    )
    assert result.exit_code == 1
    assert "This agent can render nothing" in result.output  # it tried to start an agent
