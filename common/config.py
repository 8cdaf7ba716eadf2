"""Layered configuration: defaults, then a TOML file, then ``CLOUDBURST_*`` variables, then CLI.

The file is ``$CLOUDBURST_CONFIG`` when set, else ``config.toml`` in the user's config folder
(``~/.config/cloudburst`` on Linux) when it exists. Keys are the field names of ``Settings``;
the environment variable of a key is ``CLOUDBURST_`` + the key in capitals
(``CLOUDBURST_DAEMON_URL``). Keys of a table such as ``[shotgrid]`` take two underscores
(``CLOUDBURST_SHOTGRID__SCRIPT_KEY``).
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from common.agent_protocol_settings import AgentProtocolSettings
from common.backup_settings import BackupSettings
from common.cloud_settings import CloudSettings
from common.daemon_address import daemon_url
from common.data.pathmap import PathRule
from common.data.store_config import StagingSettings, StoreSettings
from common.desktop_settings import DesktopProfile, SessionSettings, parse_profiles
from common.errors import ConfigError
from common.failure_settings import FailureSettings
from common.limits_settings import LimitSettings
from common.ops_settings import (
    IdempotencySettings,
    LogSettings,
    MonitoringSettings,
    StorageSettings,
)
from common.paths_settings import PathSettings
from common.webhook_settings import WebhookSettings

ENV_PREFIX = "CLOUDBURST_"
CONFIG_ENV = "CLOUDBURST_CONFIG"
DEFAULT_PORT = 8642


def default_data_dir() -> Path:
    """Where the embedded daemon keeps its database and logs."""
    return platformdirs.user_data_path("cloudburst")


class ShotGridSettings(BaseModel):
    """The ``[shotgrid]`` table: the site, the script's credentials and the field mapping.

    Real sites keep priority and due dates in different fields and entities, so none of that
    is code. An empty ``site`` means the daemon does not talk to ShotGrid.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str = ""
    """Site URL, e.g. ``https://studio.shotgrid.autodesk.com``; empty: no ShotGrid."""
    script_name: str = ""
    script_key: SecretStr = SecretStr("")
    """The script's application key; never logged or shown."""
    timeout_s: float = Field(default=30.0, gt=0)
    project_field: str = "name"
    """Project field that job submissions name a project by (``name``, ``code``, ``tank_name``)."""
    priority_entity: str = "Task"
    """Entity carrying production's priority: ``Task``, ``Project`` or the task's entity type."""
    priority_field: str = "sg_priority"
    priority_values: dict[str, float] = Field(
        default_factory=lambda: {
            "A": 100.0,
            "B": 75.0,
            "C": 50.0,
            "D": 25.0,
            "Critical": 100.0,
            "High": 75.0,
            "Normal": 50.0,
            "Medium": 50.0,
            "Low": 25.0,
        }
    )
    """List values to priority 0-100 (case-insensitive); numbers use ``priority_range``."""
    priority_range: tuple[float, float] = (0.0, 100.0)
    """For number fields: the values meaning priority 0 and 100 (``[5, 1]`` when 1 is top)."""
    due_entity: str = "Task"
    due_field: str = "due_date"
    status_field: str = "sg_status_list"
    """Status field of the linked Task, written when a job starts and ends."""
    status_on_start: str = "ip"
    status_on_success: str = "rev"
    status_on_failure: str = ""
    """Empty: leave the status alone."""
    create_version: bool = True
    version_path_field: str = "sg_path_to_frames"
    version_first_frame_field: str = "sg_first_frame"
    version_last_frame_field: str = "sg_last_frame"
    version_range_field: str = "frame_range"
    sync_interval_s: float = Field(default=60.0, gt=0)
    sync_overlap_s: float = Field(default=120.0, ge=0)
    """Re-read window behind the newest ``updated_at`` seen, against commit races."""
    retry_max_s: float = Field(default=900.0, gt=0)
    """Longest wait between attempts while ShotGrid is unreachable."""
    stale_after_s: float = Field(default=600.0, gt=0)
    """Values older than this (no successful sync since) are marked stale."""
    writeback_interval_s: float = Field(default=15.0, gt=0)
    writeback_max_attempts: int = Field(default=50, ge=1)

    @field_validator("priority_values", "priority_range", mode="before")
    @classmethod
    def _json_text(cls, value: object) -> object:
        """Accepts JSON text, as environment variables give it."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def configured(self) -> bool:
        return bool(self.site)


class RankingSettings(BaseModel):
    """The ``[ranking]`` table: how much each part of a job's rank weighs, and the pass interval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(default=5.0, gt=0)
    shotgrid_weight: float = Field(default=1.0, ge=0)
    due_weight: float = Field(default=1.0, ge=0)
    artist_weight: float = Field(default=0.5, ge=0)
    age_weight: float = Field(default=0.2, ge=0)
    fair_share_weight: float = Field(default=2.0, ge=0)
    due_horizon_s: float = Field(default=2 * 86400.0, gt=0)
    """Spare time (time left less work left) at which due-date urgency is one half."""
    age_half_s: float = Field(default=86400.0, gt=0)
    """Time waiting at which the age part is one half."""
    default_frame_s: float = Field(default=60.0, gt=0)
    """Seconds a frame is assumed to take before any frame of the job was measured."""
    unlinked_priority: float = Field(default=50.0, ge=0, le=100)
    """ShotGrid priority (0-100) assumed for jobs without one."""
    over_share_yields: bool = True
    """Shows using their share of the farm or more yield to shows under theirs (shares then
    converge to their targets); false: fair share is only the weighted part of the score."""


class AuthSettings(BaseModel):
    """The ``[auth]`` table: sign-in, token lifetimes and who may register."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registration: Literal["approval", "disabled", "open"] = "approval"
    """``approval``: registered users wait for an admin; ``open``: active at once (artists)."""
    access_ttl_s: float = Field(default=900.0, gt=0)
    refresh_ttl_s: float = Field(default=30 * 86400.0, gt=0)
    enrollment_ttl_s: float = Field(default=86400.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    """Failed sign-ins of one user name from one address within ``login_window_s`` before that
    address is refused for that name (other addresses are not)."""
    login_address_max_failures: int = Field(default=20, ge=1)
    """Failed sign-ins from one address, whatever the names, before it is refused."""
    login_window_s: float = Field(default=300.0, gt=0)
    login_tracked_keys: int = Field(default=10_000, ge=10)
    """Most (name, address) and address counts the sign-in limiter keeps; the least recently
    failed is forgotten first."""
    token_cache_ttl_s: float = Field(default=30.0, ge=0, le=60)
    """How long a daemon process remembers who a valid bearer token stands for instead of
    looking it up again (0: never). A revocation ends it at once in every process of the
    daemon (``auth-revocations`` in the data folder); were that file not writable, another
    process accepts the revoked token this long at most. Longer than an agent's update
    interval, so that an agent's token is looked up about once per this time, not per call."""
    token_cache_max_entries: int = Field(default=10_000, ge=1)
    """Most tokens remembered; the least recently used is forgotten first."""
    local_admin_file: bool = True
    """Write ``local-admin.json`` (0600) in the data folder on first start, for
    ``cloudburst render`` and other one-machine use."""
    confidential_projects: list[str] = Field(default_factory=list)
    """Projects that never leave the building, besides those an admin marks."""

    @field_validator("confidential_projects", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class Settings(BaseModel):
    """Every setting of every Cloudburst process, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daemon_url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    """Where clients, panels and agents find the daemon (``host:port`` means ``http://``)."""
    bind: str = f"127.0.0.1:{DEFAULT_PORT}"
    """Where the daemon listens (HOST:PORT)."""
    data_dir: Path = Field(default_factory=default_data_dir)
    """The daemon's database, task logs and the agents' local state."""
    server_threads: int | None = Field(default=None, ge=1, le=256)
    """Threads serving requests; empty: twice the CPUs, from 4 to 16. More threads than
    cores mostly wait for Python's interpreter lock (docs/performance.md)."""
    server_workers: int = Field(default=1, ge=1, le=64)
    """Processes serving requests: more than one lets the daemon use more cores than one
    (each serves the whole API over the same database; the first runs the scheduler)."""
    server_connections: int = Field(default=10_000, ge=100, le=1_000_000)
    """Open connections served at once (an agent holds one or two)."""
    lease_ttl_s: float = Field(default=60.0, gt=0)
    """A lease not renewed by a heartbeat within this time is taken back."""
    heartbeat_interval_s: float = Field(default=10.0, gt=0)
    poll_interval_s: float = Field(default=2.0, gt=0)
    """How long an idle agent waits before asking for work again."""
    reaper_interval_s: float = Field(default=5.0, gt=0)
    blender: str = ""
    """Blender executable for the agent; empty: ``blender`` on PATH, else ``cloudburst-blender``."""
    maya_render: str = ""
    """Maya's ``Render`` for the agent; empty: ``$CLOUDBURST_MAYA_RENDER``, else on PATH."""
    hython: str = ""
    """Houdini's ``hython``; empty: ``$CLOUDBURST_HYTHON``, else on PATH."""
    nuke: str = ""
    """Nuke's executable; empty: ``$CLOUDBURST_NUKE``, else the newest ``Nuke<major>.<minor>``
    on PATH or in Nuke's install folders, else ``Nuke`` on PATH."""
    nuke_interactive: bool = False
    """Run Nuke with an interactive licence (``-i``), for nodes whose licence server has
    interactive seats and no render ones."""
    agent_name: str = Field(default_factory=socket.gethostname)
    agent_pool: str = "local"
    agent_tags: list[str] = Field(default_factory=list)
    """Free-form tags the agent reports (``["nvme", "lighting"]``); a TD may change them on the
    daemon. ``CLOUDBURST_AGENT_TAGS`` takes a JSON list."""
    request_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"
    shotgrid: ShotGridSettings = Field(default_factory=ShotGridSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    logs: LogSettings = Field(default_factory=LogSettings)
    idempotency: IdempotencySettings = Field(default_factory=IdempotencySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    failures: FailureSettings = Field(default_factory=FailureSettings)
    """The ``[failures]`` table: nodes kept off a job, suspect nodes, stalls, licence waits."""
    """The ``[limits]`` table: request bodies, frames and tasks per job, storage quotas."""
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    """The ``[webhooks]`` table: where notifications may go, their retries and outbox."""
    agents: AgentProtocolSettings = Field(default_factory=AgentProtocolSettings)
    """The ``[agents]`` table: how often agents send updates and idle agents poll, and how
    often the daemon commits what they sent."""
    store: StoreSettings | None = None
    """The ``[store]`` table: the object store that carries jobs' files to render nodes away
    from studio storage, and their frames back. None: every job renders where studio storage
    is."""
    staging: StagingSettings = Field(default_factory=StagingSettings)
    cloud: CloudSettings = Field(default_factory=CloudSettings)
    """The ``[cloud]`` table: the backend that bursts (``none``, ``oci``, ``simcloud``)."""
    backup: BackupSettings = Field(default_factory=BackupSettings)
    """The ``[backup]`` table: scheduled backups of the daemon's state, and their retention."""
    paths: PathSettings = Field(default_factory=PathSettings)
    """The ``[paths]`` table: where jobs' scenes and frames may be (empty: anywhere absolute)."""
    path_rules: list[PathRule] = Field(default_factory=list)
    """``[[path_rules]]``: each studio storage root as Windows, UNC, Linux and macOS name it
    (``CLOUDBURST_PATH_RULES`` takes a JSON list)."""
    desktops: list[DesktopProfile] = Field(default_factory=list)
    """``[[desktops]]``: the desktop profiles artists may start sessions of
    (``CLOUDBURST_DESKTOPS`` takes a JSON list)."""
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    """The ``[sessions]`` table: artists' desktop sessions in the cloud and their snapshots."""
    studio_access: bool = True
    """The agent reads and writes studio storage; false: it renders from the object store
    (cloud nodes), in a workspace in its node cache."""
    node_cache_dir: Path | None = None
    """The agent's node cache; ``<data_dir>/node-cache`` when empty. Shared by a node's agents."""
    node_cache_gb: float = Field(default=50.0, gt=0)
    """The node cache's size cap (least recently used files go first)."""
    token: SecretStr = SecretStr("")
    """A bearer token for clients (an API key); empty: the signed-in user's stored tokens."""
    enrollment_token: SecretStr = SecretStr("")
    """The one-time token an agent registers with the first time."""

    @field_validator("daemon_url")
    @classmethod
    def _daemon_url(cls, value: str) -> str:
        return daemon_url(value)

    @field_validator("agent_tags", mode="before")
    @classmethod
    def _json_tags(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("path_rules", mode="before")
    @classmethod
    def _json_rules(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("desktops", mode="before")
    @classmethod
    def _desktop_profiles(cls, value: object) -> object:
        return parse_profiles(value)

    def desktop_profile(self, name: str) -> DesktopProfile | None:
        """The ``[[desktops]]`` profile of this name, if any."""
        return next((p for p in self.desktops if p.name == name), None)

    @property
    def desktop_backend(self) -> str:
        """Where desktops run: ``none`` without ``[[desktops]]`` profiles, else ``[sessions]
        backend``, else the ``[cloud]`` backend."""
        if not self.desktops:
            return "none"
        return self.sessions.backend or self.cloud.backend


def config_file(env: Mapping[str, str]) -> Path | None:
    """The configuration file to read, or None when there is none."""
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV]).expanduser()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist. Fix or unset it.")
        return path
    path = platformdirs.user_config_path("cloudburst") / "config.toml"
    return path if path.is_file() else None


def load_settings(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Builds the settings from every layer; later layers win.

    Args:
        overrides: values given on the command line; None values are ignored.
        env: the environment (``os.environ`` when omitted).

    Raises:
        ConfigError: a layer holds an unknown key or a bad value; the message names the layer.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    layers: list[tuple[str, dict[str, Any]]] = []
    path = config_file(env)
    if path is not None:
        try:
            layers.append((str(path), tomllib.loads(path.read_text(encoding="utf-8"))))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read the configuration file {path}: {exc}") from None
    from_env: dict[str, Any] = {}
    for variable, text in env.items():
        if variable.startswith(ENV_PREFIX) and variable != CONFIG_ENV:
            name, sep, sub = variable[len(ENV_PREFIX) :].lower().partition("__")
            if sep:  # CLOUDBURST_SHOTGRID__SITE: a key of the [shotgrid] table
                from_env.setdefault(name, {})[sub] = text
            else:
                from_env[name] = text
    layers.append(("the environment (CLOUDBURST_*)", from_env))
    layers.append(
        ("the command line", {k: v for k, v in (overrides or {}).items() if v is not None})
    )
    known = set(Settings.model_fields)
    for source, layer in layers:
        unknown = sorted(set(layer) - known)
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {', '.join(unknown)} in {source}. "
                f"Known settings: {', '.join(sorted(known))}."
            )
        for key, value in layer.items():  # tables merge key by key across layers
            if isinstance(value, dict) and isinstance(values.get(key), dict):
                value = {**values[key], **value}
            values[key] = value
        try:
            Settings(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise ConfigError(f"Bad setting in {source}: {problems}.") from None
    return Settings(**values)
