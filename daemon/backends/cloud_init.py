"""The cloud-init user data that turns a fresh cloud instance into a render node.

It writes the agent's configuration (``/etc/cloudburst/config.toml``), installs the agent with
pip into ``/opt/cloudburst`` and starts it as the ``cloudburst-agent`` systemd service, which
restarts it when it fails. The node reaches the daemon over the studio's VPN or FastConnect and
fetches scene data from the object store with its instance principal, never from studio
storage (``studio_access = false``). The only secret in the user data is the node's one-time
enrollment token: once the agent has enrolled with it, the daemon refuses it.

The document is written as JSON, which is YAML too, so the daemon needs no YAML library.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.cloud_settings import CloudSettings
from common.data.store_config import StoreSettings
from common.errors import ConfigError

CONFIG_PATH = "/etc/cloudburst/config.toml"
UNIT_NAME = "cloudburst-agent.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"
VENV = "/opt/cloudburst"
DATA_DIR = "/var/lib/cloudburst"
USER = "cloudburst"
#: Seconds systemd waits after SIGTERM (the agent reports its task as preempted) before SIGKILL.
STOP_TIMEOUT_S = 60

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

UNIT = f"""\
[Unit]
Description=Cloudburst render agent
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User={USER}
Group={USER}
Environment=CLOUDBURST_CONFIG={CONFIG_PATH}
ExecStart={VENV}/bin/cloudburst agent
Restart=on-failure
RestartSec=10
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec={STOP_TIMEOUT_S}
StateDirectory=cloudburst
WorkingDirectory={DATA_DIR}

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class AgentBootstrap:
    """What every node of a farm is told, besides its name, pool and token."""

    daemon_url: str
    """The daemon as nodes reach it (over VPN or FastConnect)."""
    store: StoreSettings
    """The daemon's object store; nodes read the same bucket and prefix with their identity."""
    package: str = "cloudburst[agent,blender]"
    pip_index_url: str = ""
    python: str = "python3.11"
    log_level: str = "INFO"

    @classmethod
    def from_settings(
        cls, cloud: CloudSettings, *, daemon_url: str, store: StoreSettings, log_level: str = "INFO"
    ) -> AgentBootstrap:
        """The bootstrap the ``[cloud]`` table describes; ``daemon_url`` unless it names one."""
        return cls(
            daemon_url=cloud.node_daemon_url or daemon_url,
            store=store,
            package=cloud.agent_package,
            pip_index_url=cloud.pip_index_url,
            python=cloud.node_python,
            log_level=log_level,
        )


def node_store_table(store: StoreSettings) -> dict[str, Any]:
    """The ``[store]`` table of a node: the same bucket, reached with the instance principal.

    Raises:
        ConfigError: the store is not OCI Object Storage (nodes would need a long-lived key).
    """
    if store.kind != "oci":
        raise ConfigError(
            f"OCI render nodes read the object store with their instance principal, so [store] "
            f'kind must be "oci" (it is "{store.kind}"): long-lived keys never go on a node.'
        )
    table: dict[str, Any] = {"kind": "oci", "bucket": store.bucket, "prefix": store.prefix}
    for key in ("namespace", "region", "endpoint"):
        if getattr(store, key):
            table[key] = getattr(store, key)
    table["oci_auth"] = "instance_principal"
    return table


def agent_config(
    bootstrap: AgentBootstrap, *, name: str, pool: str, enrollment_token: str
) -> dict[str, Any]:
    """The node agent's settings, as ``config.toml`` holds them."""
    return {
        "daemon_url": bootstrap.daemon_url,
        "agent_name": name,
        "agent_pool": pool,
        "enrollment_token": enrollment_token,
        "studio_access": False,
        "data_dir": DATA_DIR,
        "log_level": bootstrap.log_level,
        "store": node_store_table(bootstrap.store),
    }


def toml_text(values: Mapping[str, Any]) -> str:
    """TOML for flat values and one level of tables (strings, booleans, numbers)."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in values.items() if not isinstance(v, Mapping)]
    for table, items in values.items():
        if isinstance(items, Mapping):
            lines += ["", f"[{_key(table)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in items.items()]
    return "\n".join(lines) + "\n"


def cloud_config(
    bootstrap: AgentBootstrap, *, name: str, pool: str, enrollment_token: str
) -> dict[str, Any]:
    """The cloud-config document of one node."""
    pip = [f"{VENV}/bin/pip", "install", "--no-input"]
    if bootstrap.pip_index_url:
        pip += ["--index-url", bootstrap.pip_index_url]
    config = agent_config(bootstrap, name=name, pool=pool, enrollment_token=enrollment_token)
    return {
        "users": [
            "default",
            {"name": USER, "system": True, "shell": "/sbin/nologin", "homedir": DATA_DIR},
        ],
        "write_files": [
            {
                "path": CONFIG_PATH,
                "owner": f"{USER}:{USER}",
                "permissions": "0600",
                "defer": True,  # after the user exists
                "content": toml_text(config),
            },
            {"path": UNIT_PATH, "permissions": "0644", "content": UNIT},
        ],
        "runcmd": [
            [bootstrap.python, "-m", "venv", VENV],
            [*pip, bootstrap.package],
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", UNIT_NAME],
        ],
    }


def render_user_data(
    bootstrap: AgentBootstrap, *, name: str, pool: str, enrollment_token: str
) -> str:
    """The user data text of one node (``#cloud-config``).

    Raises:
        ConfigError: the store cannot be reached by nodes (see ``node_store_table``).
    """
    document = cloud_config(bootstrap, name=name, pool=pool, enrollment_token=enrollment_token)
    return "#cloud-config\n" + json.dumps(document, indent=2) + "\n"


def encode_user_data(text: str) -> str:
    """User data as the instance metadata ``user_data`` holds it (base64)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: same escapes
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")
