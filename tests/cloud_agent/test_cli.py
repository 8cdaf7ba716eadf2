"""``cloudburst agent``: options, settings errors, the state folder, and a graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloud_agent.cli import agent_command, build_runners, default_state_dir, lock_state_dir
from common.config import Settings
from common.errors import ConfigError


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(agent_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--daemon", "--name", "--blender", "--state-dir", "--poll-interval",
                   "--log-level"):  # fmt: skip
        assert option in result.output


def test_a_bad_setting_is_reported_without_a_traceback(tmp_path: Path) -> None:
    env = {"CLOUDBURST_POLL_INTERVAL_S": "-1", "CLOUDBURST_CONFIG": ""}
    result = CliRunner().invoke(agent_command, ["--state-dir", str(tmp_path)], env=env)
    assert result.exit_code == 1
    assert "Bad setting in the environment (CLOUDBURST_*): poll_interval_s" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_log_level_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        agent_command, ["--log-level", "LOUD", "--state-dir", str(tmp_path)],
        env={"CLOUDBURST_CONFIG": ""},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Unknown log level 'LOUD'" in result.output


def test_a_missing_blender_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        agent_command,
        ["--blender", str(tmp_path / "no-blender"), "--state-dir", str(tmp_path / "state")],
        env={"CLOUDBURST_CONFIG": ""},
    )
    assert result.exit_code == 1
    assert "This agent can render nothing" in result.output
    assert "no-blender" in result.output


def test_two_agents_cannot_share_a_state_folder(tmp_path: Path) -> None:
    held = lock_state_dir(tmp_path / "state")
    try:
        with pytest.raises(ConfigError, match="Another agent is already running"):
            lock_state_dir(tmp_path / "state")
    finally:
        held.close()
    lock_state_dir(tmp_path / "state").close()  # free again once the first one let go


def test_default_state_dir_is_per_agent_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, agent_name="render node/7")
    assert default_state_dir(settings) == tmp_path / "agents" / "render_node_7"


def test_build_runners_gives_blender_when_it_can_run(tmp_path: Path) -> None:
    runners = build_runners(Settings(data_dir=tmp_path, blender=sys.executable))
    assert sorted(runners) == ["blender"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_sigterm_stops_an_agent_waiting_for_an_unreachable_daemon(tmp_path: Path) -> None:
    log_path = tmp_path / "agent.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CLOUDBURST_CONFIG", None)
    with open(log_path, "wb") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "cloud_agent", "--daemon", f"http://127.0.0.1:{free_port()}",
             "--name", "lonely", "--state-dir", str(tmp_path / "state"), "--blender",
             sys.executable, "--poll-interval", "0.2", "--log-level", "INFO"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "cannot register" not in log_path.read_text(errors="replace"):
                assert agent.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                time.sleep(0.1)
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=60) == 0, log_path.read_text(errors="replace")
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
    text = log_path.read_text(errors="replace")
    assert "stopping (received SIGTERM)" in text
    assert "Traceback" not in text
