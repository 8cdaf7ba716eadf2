"""The cloud-init user data of a render node, read back as cloud-init would read it."""

from __future__ import annotations

import base64
import configparser
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.cloud_settings import CloudSettings
from common.config import load_settings
from common.data.store_config import StoreSettings
from common.errors import ConfigError
from daemon.backends.cloud_init import (
    AGENT_PORT,
    CONFIG_PATH,
    DESKTOP_UNIT_NAME,
    GUARD_UNIT_NAME,
    SECRET_PATH,
    UNIT_NAME,
    UNIT_PATH,
    AgentBootstrap,
    DesktopStart,
    desktop_agent_command,
    encode_user_data,
    render_desktop_user_data,
    render_user_data,
    toml_text,
)

STORE = StoreSettings(
    kind="oci",
    bucket="renders",
    prefix="farm/",
    namespace="cbtestns",
    region="us-ashburn-1",
    oci_auth="config_file",
    oci_config_file="/home/it/.oci/config",
)
BOOTSTRAP = AgentBootstrap(
    daemon_url="http://10.20.0.5:8642",
    store=STORE,
    package="cloudburst[agent,blender]==0.1.0",
    pip_index_url="https://pypi.studio.internal/simple",
)


def parsed(bootstrap: AgentBootstrap = BOOTSTRAP, token: str = "cbe_one-time") -> dict[str, Any]:
    text = render_user_data(
        bootstrap, name="farm-cloud-0a1b2c3d", pool="cloud", enrollment_token=token
    )
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def written(document: dict[str, Any], path: str) -> dict[str, Any]:
    (entry,) = [f for f in document["write_files"] if f["path"] == path]
    return dict(entry)


def test_the_agent_config_enrolls_once_and_reads_the_store_as_the_instance() -> None:
    entry = written(parsed(), CONFIG_PATH)
    assert entry["permissions"] == "0600" and entry["owner"] == "cloudburst:cloudburst"
    assert entry["defer"] is True  # written once the cloudburst user exists
    config = tomllib.loads(entry["content"])
    assert config == {
        "daemon_url": "http://10.20.0.5:8642",
        "agent_name": "farm-cloud-0a1b2c3d",
        "agent_pool": "cloud",
        "enrollment_token": "cbe_one-time",
        "studio_access": False,
        "data_dir": "/var/lib/cloudburst",
        "log_level": "INFO",
        "store": {
            "kind": "oci",
            "bucket": "renders",
            "prefix": "farm/",
            "namespace": "cbtestns",
            "region": "us-ashburn-1",
            "oci_auth": "instance_principal",
        },
    }


def test_the_agent_is_installed_with_pip_and_runs_as_a_restarting_service() -> None:
    document = parsed()
    unit = configparser.ConfigParser(interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(written(document, UNIT_PATH)["content"])
    service = unit["Service"]
    assert service["ExecStart"] == "/opt/cloudburst/bin/cloudburst agent"
    assert service["Restart"] == "on-failure"
    assert service["User"] == "cloudburst"
    assert service["Environment"] == f"CLOUDBURST_CONFIG={CONFIG_PATH}"
    assert service["KillSignal"] == "SIGTERM"  # the agent reports its task as preempted
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert document["runcmd"] == [
        ["python3.11", "-m", "venv", "/opt/cloudburst"],
        [
            "/opt/cloudburst/bin/pip",
            "install",
            "--no-input",
            "--index-url",
            "https://pypi.studio.internal/simple",
            "cloudburst[agent,blender]==0.1.0",
        ],
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", UNIT_NAME],
    ]
    assert {
        "name": "cloudburst",
        "system": True,
        "shell": "/sbin/nologin",
        "homedir": "/var/lib/cloudburst",
    } in document["users"]


def test_no_long_lived_secret_goes_into_the_user_data() -> None:
    store = STORE.model_copy(
        update={"access_key_id": "AKIA-LONG-LIVED", "secret_access_key": "s3cr3t-key"}
    )
    text = render_user_data(
        AgentBootstrap(daemon_url="http://d:1", store=store),
        name="n",
        pool="cloud",
        enrollment_token="cbe_token",
    )
    for secret in ("AKIA-LONG-LIVED", "s3cr3t-key", "/home/it/.oci/config"):
        assert secret not in text
    assert "cbe_token" in text


def test_a_store_nodes_cannot_reach_with_their_identity_is_refused() -> None:
    with pytest.raises(ConfigError, match='kind must be "oci"'):
        parsed(AgentBootstrap(daemon_url="http://d:1", store=StoreSettings(kind="s3")))


def test_user_data_is_base64_of_the_document() -> None:
    text = render_user_data(BOOTSTRAP, name="n", pool="p", enrollment_token="t")
    assert base64.b64decode(encode_user_data(text)).decode() == text


def test_bootstrap_from_settings_prefers_the_nodes_daemon_url() -> None:
    cloud = CloudSettings(node_daemon_url="http://vpn.studio:8642", node_python="python3")
    bootstrap = AgentBootstrap.from_settings(cloud, daemon_url="http://127.0.0.1:8642", store=STORE)
    assert bootstrap.daemon_url == "http://vpn.studio:8642" and bootstrap.python == "python3"
    plain = AgentBootstrap.from_settings(CloudSettings(), daemon_url="http://h:1", store=STORE)
    assert plain.daemon_url == "http://h:1"


@pytest.mark.parametrize(
    "value",
    ['quote " and \\ backslash', "line\nbreak\ttab", "ünïcödé ✓", "", "#not a comment", "[x]"],
)
def test_toml_strings_round_trip(value: str) -> None:
    values = {"plain": value, "odd key.name": value, "table": {"inner": value, "flag": True}}
    assert tomllib.loads(toml_text(values)) == values
    # and survive the YAML (JSON) document around them
    text = render_user_data(BOOTSTRAP, name="n", pool=value or "p", enrollment_token=value)
    config = tomllib.loads(written(yaml.safe_load(text), CONFIG_PATH)["content"])
    assert config["enrollment_token"] == value


def test_the_agent_config_is_one_the_agent_accepts(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(written(parsed(), CONFIG_PATH)["content"])
    settings = load_settings(env={"CLOUDBURST_CONFIG": str(path)})
    assert settings.enrollment_token.get_secret_value() == "cbe_one-time"
    assert (settings.agent_name, settings.agent_pool) == ("farm-cloud-0a1b2c3d", "cloud")
    assert settings.studio_access is False
    assert settings.store is not None and settings.store.oci_auth == "instance_principal"
    assert settings.store.kind == "oci" and settings.store.prefix == "farm/"


# --- desktops --------------------------------------------------------------------------------

DESKTOP = DesktopStart(
    daemon_url="10.20.0.5:8642", session_id=12, secret="cbs_desk-secret", port=8443,
    protocol="dcv", package="cloudburst[agent]==0.1.0",
    pip_index_url="https://pypi.studio.internal/simple",
)  # fmt: skip


def desktop_parsed(start: DesktopStart = DESKTOP) -> dict[str, Any]:
    document = yaml.safe_load(render_desktop_user_data(start))
    assert isinstance(document, dict)
    return document


def test_the_desktop_agent_runs_as_its_own_user_with_the_secret_in_a_0600_file() -> None:
    document = desktop_parsed()
    secret = written(document, SECRET_PATH)
    assert (secret["content"], secret["permissions"], secret["owner"]) == (
        "cbs_desk-secret", "0600", "cloudburst:cloudburst",
    )  # fmt: skip
    assert secret["defer"] is True  # written once the user exists
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read_string(written(document, f"/etc/systemd/system/{DESKTOP_UNIT_NAME}")["content"])
    service = unit["Service"]
    assert (service["User"], service["SupplementaryGroups"]) == ("cloudburst", "artist")
    words = service["ExecStart"].split()
    assert words[words.index("--daemon-url") + 1] == "http://10.20.0.5:8642"
    assert words[words.index("--secret-file") + 1] == SECRET_PATH
    assert "cbs_desk-secret" not in service["ExecStart"]
    assert service["Restart"] == "on-failure"  # an agent told to end stays ended
    assert "AmbientCapabilities" not in service
    assert GUARD_UNIT_NAME in unit["Unit"]["Requires"]
    assert ["systemctl", "enable", "--now", DESKTOP_UNIT_NAME] in document["runcmd"]
    assert "cbs_desk-secret" not in repr(DESKTOP)


def test_the_artist_cannot_read_the_secret_from_the_instance_metadata() -> None:
    document = desktop_parsed()
    guard = configparser.ConfigParser(interpolation=None, strict=False)
    guard.read_string(written(document, f"/etc/systemd/system/{GUARD_UNIT_NAME}")["content"])
    rule = guard["Service"]["ExecStart"]
    assert "-d 169.254.169.254/32 -m owner --uid-owner artist -j REJECT" in rule
    runcmd = document["runcmd"]
    enable = ["systemctl", "enable", "--now"]
    assert runcmd.index([*enable, GUARD_UNIT_NAME]) < runcmd.index([*enable, DESKTOP_UNIT_NAME])


def test_the_agent_listens_on_the_loopback_beside_the_display_server() -> None:
    """The image's display server keeps the profile's port (443 here, with no privilege for
    the agent); the agent answers it on the loopback and reports the display's port."""
    command = desktop_agent_command(replace(DESKTOP, port=443))
    assert command[command.index("--bind") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == str(AGENT_PORT)
    assert command[command.index("--display-port") + 1] == "443"
    unit = written(
        desktop_parsed(replace(DESKTOP, port=443)), f"/etc/systemd/system/{DESKTOP_UNIT_NAME}"
    )
    assert "CAP_NET_BIND_SERVICE" not in unit["content"]


@pytest.mark.parametrize(
    "url",
    [
        "http://farm:8642/%h",  # a systemd specifier
        "http://farm:8642/$HOME",
        "http://farm:8642/a b",
        "http://farm:8642/\nExecStartPre=/bin/sh",
        "ftp://farm:8642",
    ],
)
def test_a_daemon_address_a_unit_cannot_hold_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="daemon"):
        render_desktop_user_data(replace(DESKTOP, daemon_url=url))


def test_a_desktop_without_a_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="secret"):
        render_desktop_user_data(replace(DESKTOP, secret=""))
