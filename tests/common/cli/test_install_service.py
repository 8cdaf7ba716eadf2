"""``cloudburst install-service``: sandboxed systemd units that ``systemd-analyze verify``
accepts, settings in a root-only file, and no option that can add a directive."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner, Result

from common.cli.context import CliState
from common.cli.install_service import _ensure_user
from common.cli.main import cli
from common.cli.service_units import ServicePlan, unit_text
from tests.cli_isolation import no_user_config  # noqa: F401 (autouse)

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

#: What both units must say (the issue's hardening list and a restart on failure).
COMMON_LINES = (
    "User=cloudburst", "Group=cloudburst", "Restart=on-failure", "NoNewPrivileges=yes",
    "PrivateTmp=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "RestrictSUIDSGID=yes",
    "LockPersonality=yes", "CapabilityBoundingSet=", "WantedBy=multi-user.target",
)  # fmt: skip


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, ["install-service", *args], obj=CliState())


def unit_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def verify(unit: Path) -> None:
    """``systemd-analyze verify`` accepts ``unit`` without a single warning."""
    if SYSTEMD_ANALYZE is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # unknown keys are only warned about


def test_the_daemon_unit_as_printed(tmp_path: Path) -> None:
    result = invoke(["daemon", "--print", "--bind", "0.0.0.0:8642", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = unit_lines(result.output)
    for expected in COMMON_LINES:
        assert expected in lines
    start = next(line for line in lines if line.startswith("ExecStart="))
    command = start.removeprefix("ExecStart=").split()
    assert Path(command[0]).is_absolute() and os.access(command[0], os.X_OK)
    assert command[-3:] == ["daemon", "--data-dir", "/var/lib/cloudburst"]
    assert "ProtectSystem=strict" in lines and "ReadWritePaths=/var/lib/cloudburst" in lines
    assert "ProtectHome=yes" in lines and "PrivateDevices=yes" in lines
    assert "EnvironmentFile=-/etc/cloudburst/daemon.env" in lines
    assert "CLOUDBURST_BIND=0.0.0.0:8642" in lines
    assert list(tmp_path.iterdir()) == [tmp_path / "empty-config.toml"]  # nothing written


def test_the_agent_unit_keeps_rendering_possible() -> None:
    result = invoke(["agent", "--print", "--daemon-url", "farm01:8642", "--enrollment-token",
                     "tok-secret", "--output-root", "/mnt/studio/renders"])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = unit_lines(result.output)
    for expected in COMMON_LINES:
        assert expected in lines
    assert "ReadWritePaths=/var/lib/cloudburst /mnt/studio/renders" in lines
    assert "ProtectSystem=strict" in lines
    assert "ProtectHome=read-only" in lines  # scenes may be read from home folders
    assert not any(line.startswith(("PrivateDevices=yes", "ProtectClock=")) for line in lines)
    assert "CLOUDBURST_DAEMON_URL=http://farm01:8642" in lines
    assert "tok-secret" not in result.output  # --print never shows the token


def test_an_agent_without_known_output_roots_may_write_all_but_the_system(
    tmp_path: Path,
) -> None:
    result = invoke(["agent", "--print"])
    assert result.exit_code == 0
    assert "ProtectSystem=full" in result.output
    assert "Give --output-root for each folder" in result.stderr


def test_output_roots_come_from_the_paths_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[paths]\noutput_roots = ["/mnt/a", "/mnt/b"]\n', encoding="utf-8")
    monkeypatch.setenv("CLOUDBURST_CONFIG", str(config))
    result = invoke(["agent", "--print"])
    assert "ReadWritePaths=/var/lib/cloudburst /mnt/a /mnt/b" in result.output


def test_an_installation_under_a_home_folder_can_still_start() -> None:
    plan = ServicePlan(role="daemon", command=("/home/it/venv/bin/cloudburst",))
    assert "ProtectHome=read-only" in unit_text(plan).splitlines()


@pytest.mark.parametrize("role", ["daemon", "agent"])
def test_the_written_units_pass_systemd_analyze_verify(role: str, tmp_path: Path) -> None:
    extra = ["--output-root", "/mnt/studio renders"] if role == "agent" else []
    result = invoke([role, "--root", str(tmp_path / "image"), *extra])
    assert result.exit_code == 0, result.output
    unit = tmp_path / "image" / "etc/systemd/system" / f"cloudburst-{role}.service"
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    verify(unit)


def test_the_settings_file_is_root_only_and_keeps_what_it_added(tmp_path: Path) -> None:
    image = tmp_path / "image"
    first = invoke(["agent", "--root", str(image), "--daemon-url", "http://farm01:8642",
                    "--enrollment-token", "tok-1", "--name", "node07"])  # fmt: skip
    assert first.exit_code == 0, first.output
    env = image / "etc/cloudburst/agent.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert stat.S_IMODE(env.parent.stat().st_mode) & 0o005  # a config file there stays readable
    with env.open("a", encoding="utf-8") as handle:
        handle.write("CLOUDBURST_AGENT_POOL=lighting\n")  # IT's own line
    again = invoke(["agent", "--root", str(image), "--daemon-url", "http://farm02:8642"])
    assert again.exit_code == 0, again.output
    lines = env.read_text(encoding="utf-8").splitlines()
    assert "CLOUDBURST_DAEMON_URL=http://farm02:8642" in lines
    assert "CLOUDBURST_DAEMON_URL=http://farm01:8642" not in lines
    assert "CLOUDBURST_AGENT_POOL=lighting" in lines
    assert "CLOUDBURST_ENROLLMENT_TOKEN=tok-1" in lines  # not given again: kept
    assert stat.S_IMODE((image / "var/lib/cloudburst").stat().st_mode) == 0o750


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent", "--name", "n1\nExecStartPre=/bin/sh"], "--name 'n1\\nExecStartPre"),
        (["agent", "--enrollment-token", "a$HOME"], "which a unit file cannot hold"),
        (["daemon", "--data-dir", "var/lib/cb"], "--data-dir 'var/lib/cb' is not absolute"),
        (["agent", "--output-root", "/mnt/%h"], "--output-root '/mnt/%h' holds '%'"),
        (["daemon", "--user", 'cb"x'], "--user 'cb\"x' is not a user name"),
        (["daemon", "--user", "Render Farm"], "--user 'Render Farm' is not a user name"),
        (["agent", "--daemon-url", "farm01:8642/%2e"], "--daemon-url 'http://farm01:8642/%2e'"),
        (["agent", "--bind", "0.0.0.0:1"], "--bind is for `install-service daemon`, not agent"),
        (["daemon", "--enrollment-token", "t"], "--enrollment-token is for `install-service agent"),
        (["agent", "--daemon-url", "ftp://x"], "--daemon-url: 'ftp://x' is not an HTTP address"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = invoke([*args, "--root", str(tmp_path / "image")])
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert not (tmp_path / "image").exists()


def test_without_root_nothing_is_installed_and_it_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = invoke(["daemon", "--user", "cb-no-such-user-h3"])
    assert result.exit_code == 1
    assert "Installing a service takes root. Run: sudo " in result.stderr
    assert "--print" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_user_is_made_a_system_user_without_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "useradd"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" > {calls}\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    _ensure_user("cb-no-such-user-h3", PurePosixPath("/var/lib/cloudburst"))
    assert calls.read_text(encoding="utf-8").split() == [
        "--system", "--user-group", "--home-dir", "/var/lib/cloudburst", "--no-create-home",
        "--shell", "/usr/sbin/nologin", "cb-no-such-user-h3",
    ]  # fmt: skip
    _ensure_user("root", PurePosixPath("/root"))  # an existing user: useradd is not run again
    assert "cb-no-such-user-h3" in calls.read_text(encoding="utf-8")
