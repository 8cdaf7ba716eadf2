"""``host:port`` is read as ``http://host:port`` wherever a daemon's address is read; what is
not an HTTP address is refused with a sentence (``common/daemon_address.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from common.cli.context import CliState
from common.cli.main import cli
from common.config import load_settings
from common.daemon_address import daemon_url
from common.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("farm01:8642", "http://farm01:8642"),
        ("10.0.0.5:8642", "http://10.0.0.5:8642"),
        ("[::1]:8642", "http://[::1]:8642"),
        ("farm01", "http://farm01"),
        (" farm01:8642 ", "http://farm01:8642"),
        ("http://farm01:8642", "http://farm01:8642"),
        ("HTTPS://farm.example.com/cb", "HTTPS://farm.example.com/cb"),
    ],
)
def test_addresses_are_read_with_http_assumed(text: str, expected: str) -> None:
    assert daemon_url(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("ftp://farm01:21", "is not an HTTP address"),
        ("farm01:port", "has a bad port"),
        ("farm01:99999", "has a bad port"),
        ("http://", "is not a daemon's address"),
        ("http://user:pw@farm01:8642", "is not a daemon's address"),
    ],
)
def test_what_is_not_an_address_is_refused_with_what_to_write(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        daemon_url(text)
    assert "http://HOST:PORT" in str(caught.value)


def test_settings_read_every_layer_through_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('daemon_url = "farm02:8642"\n[cloud]\nnode_daemon_url = "10.1.0.2:8642"\n')
    settings = load_settings(env={"CLOUDBURST_CONFIG": str(config)})
    assert settings.daemon_url == "http://farm02:8642"
    assert settings.cloud.node_daemon_url == "http://10.1.0.2:8642"
    from_env = load_settings(env={"CLOUDBURST_CONFIG": str(config),
                                  "CLOUDBURST_DAEMON_URL": "farm03:1"})  # fmt: skip
    assert from_env.daemon_url == "http://farm03:1"
    assert load_settings({"daemon_url": "farm04:2"}, env={}).daemon_url == "http://farm04:2"
    with pytest.raises(ConfigError, match=r"Bad setting in the command line: daemon_url: 'ftp:"):
        load_settings({"daemon_url": "ftp://farm"}, env={})


def test_the_cli_reaches_a_daemon_given_as_host_and_port(
    live_url: str, admin_token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    for key in [k for k in os.environ if k.startswith("CLOUDBURST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CLOUDBURST_CONFIG", str(empty))
    monkeypatch.setenv("CLOUDBURST_TOKEN", admin_token)
    bare = live_url.removeprefix("http://")
    result = CliRunner().invoke(cli, ["--daemon-url", bare, "jobs", "--json"], obj=CliState())
    assert result.exit_code == 0, result.output
    assert '"total": 0' in result.output


def test_a_bad_address_on_the_command_line_is_a_sentence_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("CLOUDBURST_CONFIG", str(empty))
    result = CliRunner().invoke(cli, ["--daemon-url", "farm01:http", "jobs"], obj=CliState())
    assert result.exit_code == 1
    assert "'farm01:http' has a bad port: write it as http://HOST:PORT" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
