"""The cloud-init user data of a render node, read back as cloud-init would read it."""

from __future__ import annotations

import base64
import configparser
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.cloud_settings import CloudSettings
from common.config import load_settings
from common.data.store_config import StoreSettings
from common.errors import ConfigError
from daemon.backends.cloud_init import (
    CONFIG_PATH,
    UNIT_NAME,
    UNIT_PATH,
    AgentBootstrap,
    encode_user_data,
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
