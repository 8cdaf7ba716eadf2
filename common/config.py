"""Layered configuration: defaults, then a TOML file, then ``CLOUDBURST_*`` variables, then CLI.

The file is ``$CLOUDBURST_CONFIG`` when set, else ``config.toml`` in the user's config folder
(``~/.config/cloudburst`` on Linux) when it exists. Keys are the field names of ``Settings``;
the environment variable of a key is ``CLOUDBURST_`` + the key in capitals
(``CLOUDBURST_DAEMON_URL``).
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import ConfigError

ENV_PREFIX = "CLOUDBURST_"
CONFIG_ENV = "CLOUDBURST_CONFIG"
DEFAULT_PORT = 8642


def default_data_dir() -> Path:
    """Where the embedded daemon keeps its database and logs."""
    return platformdirs.user_data_path("cloudburst")


class Settings(BaseModel):
    """Every setting of every Cloudburst process, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daemon_url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    """Where clients, panels and agents find the daemon."""
    bind: str = f"127.0.0.1:{DEFAULT_PORT}"
    """Where the daemon listens (HOST:PORT)."""
    data_dir: Path = Field(default_factory=default_data_dir)
    """The daemon's database, task logs and the agents' local state."""
    server_threads: int = Field(default=16, ge=1, le=256)
    lease_ttl_s: float = Field(default=60.0, gt=0)
    """A lease not renewed by a heartbeat within this time is taken back."""
    heartbeat_interval_s: float = Field(default=10.0, gt=0)
    poll_interval_s: float = Field(default=2.0, gt=0)
    """How long an idle agent waits before asking for work again."""
    reaper_interval_s: float = Field(default=5.0, gt=0)
    blender: str = ""
    """Blender executable for the agent; empty: ``blender`` on PATH, else ``cloudburst-blender``."""
    agent_name: str = Field(default_factory=socket.gethostname)
    agent_pool: str = "local"
    request_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"


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
    from_env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key != CONFIG_ENV
    }
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
        values.update(layer)
        try:
            Settings(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"Bad setting in {source}: {problems}.") from None
    return Settings(**values)
