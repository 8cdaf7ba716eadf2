"""The cloud-init user data that turns a fresh cloud instance into a render node or a desktop.

It writes the agent's configuration (``/etc/cloudburst/config.toml``), installs the agent with
pip into ``/opt/cloudburst`` and starts it as the ``cloudburst-agent`` systemd service, which
restarts it when it fails. The node reaches the daemon over the studio's VPN or FastConnect and
fetches scene data from the object store with its instance principal, never from studio
storage (``studio_access = false``). The only secret in the user data is the node's one-time
enrollment token: once the agent has enrolled with it, the daemon refuses it.

A desktop (``desktop_user_data``) gets the desktop agent instead, as the
``cloudburst-desktop`` service: it runs as the unprivileged ``cloudburst`` user with the artist's
group (it reads and writes the artist's home, ``/home/artist``), told everything on its command
line (it reads no Cloudburst configuration), and holds its session's secret in a 0600 file only
that user reads. The secret is in the instance's metadata too, so a guard service lets only
root reach the metadata service: the artist working on the desktop cannot read it there.
cloud-init runs these steps again on an instance booted from a restored boot volume (a new
instance), so a restored desktop gets its new session's secret.

The document is written as JSON, which is YAML too, so the daemon needs no YAML library.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.cli.service_units import word_problem
from common.cloud_settings import CloudSettings
from common.daemon_address import daemon_url as checked_daemon_url
from common.data.store_config import StoreSettings
from common.errors import ConfigError

CONFIG_PATH = "/etc/cloudburst/config.toml"
UNIT_NAME = "cloudburst-agent.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"
VENV = "/opt/cloudburst"
DATA_DIR = "/var/lib/cloudburst"
USER = "cloudburst"
#: The system user the agents run as, as cloud-config creates it (no login, home DATA_DIR).
SERVICE_USER = {"name": USER, "system": True, "shell": "/sbin/nologin", "homedir": DATA_DIR}
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
    config = agent_config(bootstrap, name=name, pool=pool, enrollment_token=enrollment_token)
    return {
        "users": ["default", SERVICE_USER],
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
            *install_steps(bootstrap.python, bootstrap.package, bootstrap.pip_index_url),
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", UNIT_NAME],
        ],
    }


def install_steps(python: str, package: str, pip_index_url: str = "") -> list[list[str]]:
    """The commands that install ``package`` into its own virtual environment (``VENV``)."""
    pip = [f"{VENV}/bin/pip", "install", "--no-input"]
    if pip_index_url:
        pip += ["--index-url", pip_index_url]
    return [[python, "-m", "venv", VENV], [*pip, package]]


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


# --- desktops --------------------------------------------------------------------------------

DESKTOP_UNIT_NAME = "cloudburst-desktop.service"
GUARD_UNIT_NAME = "cloudburst-metadata-guard.service"
SECRET_PATH = "/etc/cloudburst/desktop-session.secret"
#: The desktop agent's own port, on the loopback: the display server asks it about tokens.
AGENT_PORT = 8790
ARTIST = "artist"
ARTIST_HOME = "/home/artist"
#: The instance metadata service (it serves the user data, and so the session's secret).
METADATA_ADDRESS = "169.254.169.254"

_GUARD_RULE = f"OUTPUT -d {METADATA_ADDRESS}/32 -m owner --uid-owner {ARTIST} -j REJECT"
GUARD_UNIT = f"""\
[Unit]
Description=Keep the artist away from the instance metadata (it holds the session's secret)
Before={DESKTOP_UNIT_NAME}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/iptables -I {_GUARD_RULE}
ExecStop=/usr/sbin/iptables -D {_GUARD_RULE}

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class DesktopStart:
    """What one desktop's agent is told: its session, the daemon, the display it serves.

    ``secret`` is the session's own token: left out of ``repr`` so it never reaches a log.
    """

    daemon_url: str
    session_id: int
    secret: str = field(repr=False)
    port: int
    protocol: str
    package: str = "cloudburst[agent]"
    pip_index_url: str = ""
    python: str = "python3.11"


def desktop_agent_command(start: DesktopStart) -> list[str]:
    """The desktop agent's command line (contract: ``python -m cloud_agent.desktop ...``).

    Raises:
        ConfigError: a value is not one a unit's command line can hold (the daemon's address
            is not an HTTP address, or holds quotes, ``$``, ``%`` or a line break).
    """
    try:
        url = checked_daemon_url(start.daemon_url)
    except ValueError as exc:
        raise ConfigError(f"The daemon's address for desktops: {exc}.") from exc
    command = [
        f"{VENV}/bin/python", "-m", "cloud_agent.desktop",
        "--daemon-url", url,
        "--session", str(start.session_id),
        "--secret-file", SECRET_PATH,
        "--home", ARTIST_HOME,
        # The image's display server (DCV, PCoIP, RDP) listens on the profile's port, reached
        # over the VPN; the agent listens on the loopback only, for the display server's
        # token checks (DCV's external authenticator: http://127.0.0.1:8790/dcv/auth).
        "--bind", "127.0.0.1",
        "--port", str(AGENT_PORT),
        "--display-port", str(start.port),
        "--protocol", start.protocol,
    ]  # fmt: skip
    for word in command:
        problem = word_problem(word) or (" " in word and "holds a space")
        if problem:
            raise ConfigError(
                f"Cannot start a desktop agent with {word!r}: it {problem}. Check the daemon's "
                "address desktops reach ([cloud] node_daemon_url) and the desktop profile."
            )
    return command


def desktop_unit(start: DesktopStart) -> str:
    """The ``cloudburst-desktop`` systemd unit: the agent as ``cloudburst`` in the artist's
    group, restarted when it fails (not when it ends because its session ended)."""
    return f"""\
[Unit]
Description=Cloudburst desktop agent (session {start.session_id})
Wants=network-online.target
After=network-online.target {GUARD_UNIT_NAME}
Requires={GUARD_UNIT_NAME}

[Service]
Type=simple
User={USER}
Group={USER}
SupplementaryGroups={ARTIST}
UMask=0007
ExecStart={" ".join(desktop_agent_command(start))}
Restart=on-failure
RestartSec=10
KillSignal=SIGTERM
TimeoutStopSec={STOP_TIMEOUT_S}
StateDirectory=cloudburst
WorkingDirectory={DATA_DIR}
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
"""


def desktop_cloud_config(start: DesktopStart) -> dict[str, Any]:
    """The cloud-config document of one desktop.

    Raises:
        ConfigError: see ``desktop_agent_command``; or the secret is empty.
    """
    if not start.secret:
        raise ConfigError("A desktop needs its session's secret: none was given.")
    unit_path = f"/etc/systemd/system/{DESKTOP_UNIT_NAME}"
    return {
        "users": [
            "default",
            {"name": ARTIST, "shell": "/bin/bash", "homedir": ARTIST_HOME},
            SERVICE_USER,
        ],
        "write_files": [
            {
                "path": SECRET_PATH,
                "owner": f"{USER}:{USER}",
                "permissions": "0600",
                "defer": True,  # after the user exists
                "content": start.secret,
            },
            {
                "path": f"/etc/systemd/system/{GUARD_UNIT_NAME}",
                "permissions": "0644",
                "content": GUARD_UNIT,
            },
            {"path": unit_path, "permissions": "0644", "content": desktop_unit(start)},
        ],
        "runcmd": [
            *install_steps(start.python, start.package, start.pip_index_url),
            ["chmod", "2770", ARTIST_HOME],  # the agent (group artist) reads and writes it
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", GUARD_UNIT_NAME],
            ["systemctl", "enable", "--now", DESKTOP_UNIT_NAME],
        ],
    }


def render_desktop_user_data(start: DesktopStart) -> str:
    """The user data text of one desktop (``#cloud-config``).

    Raises:
        ConfigError: see ``desktop_cloud_config``.
    """
    return "#cloud-config\n" + json.dumps(desktop_cloud_config(start), indent=2) + "\n"
