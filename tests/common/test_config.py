"""Layered configuration: defaults < TOML file < CLOUDBURST_* < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import load_settings
from common.errors import ConfigError


def test_layers_override_in_order(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('daemon_url = "http://file:1"\nlease_ttl_s = 11\npoll_interval_s = 3\n')
    env = {
        "CLOUDBURST_CONFIG": str(path),
        "CLOUDBURST_LEASE_TTL_S": "22",
        "CLOUDBURST_POLL_INTERVAL_S": "4",
    }
    settings = load_settings({"poll_interval_s": 5.0, "bind": None}, env=env)
    assert settings.daemon_url == "http://file:1"
    assert settings.lease_ttl_s == 22
    assert settings.poll_interval_s == 5
    assert settings.bind == "127.0.0.1:8642"


def test_unknown_key_names_the_layer_and_the_known_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("deamon_url = 'x'\n")
    with pytest.raises(ConfigError, match=r"deamon_url in .*c\.toml.*Known settings: .*daemon_url"):
        load_settings(env={"CLOUDBURST_CONFIG": str(path)})


def test_bad_value_in_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment.*lease_ttl_s"):
        load_settings(env={"CLOUDBURST_LEASE_TTL_S": "soon"})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"CLOUDBURST_CONFIG": str(tmp_path / "nope.toml")})


def test_broken_toml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("daemon_url = \n")
    with pytest.raises(ConfigError, match="Cannot read the configuration file"):
        load_settings(env={"CLOUDBURST_CONFIG": str(path)})


def test_the_auth_table_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[auth]\nregistration = "open"\nconfidential_projects = ["vault"]\n')
    env = {
        "CLOUDBURST_CONFIG": str(path),
        "CLOUDBURST_AUTH__ACCESS_TTL_S": "60",
        "CLOUDBURST_ENROLLMENT_TOKEN": "cbe_x",
    }
    settings = load_settings(env=env)
    assert settings.auth.registration == "open"
    assert settings.auth.confidential_projects == ["vault"]
    assert settings.auth.access_ttl_s == 60
    assert settings.enrollment_token.get_secret_value() == "cbe_x"
    assert "cbe_x" not in repr(settings)
    with pytest.raises(ConfigError, match="registration"):
        load_settings(env={"CLOUDBURST_AUTH__REGISTRATION": "everyone"})


def test_the_limits_table_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[limits]\nmax_frames_per_job = 5000\nstorage_per_show_bytes = 0\n")
    env = {"CLOUDBURST_CONFIG": str(path), "CLOUDBURST_LIMITS__MAX_TASKS_PER_JOB": "500"}
    limits = load_settings(env=env).limits
    assert (limits.max_frames_per_job, limits.max_tasks_per_job) == (5000, 500)
    assert limits.storage_per_show_bytes == 0  # no show quota
    assert limits.json_body_bytes == 1024**2  # the default
    with pytest.raises(ConfigError, match="small_body_bytes"):
        load_settings(env={"CLOUDBURST_LIMITS__SMALL_BODY_BYTES": "10"})  # under 1 KiB
