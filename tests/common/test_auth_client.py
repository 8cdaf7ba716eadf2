"""The client side of signing in: bearer tokens, one refresh, error classes, token stores."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from common.accounts import Role, UserCreate
from common.cli.context import CliState
from common.cli.main import cli
from common.client import DaemonClient
from common.credentials import SignedIn, StaticToken
from common.errors import Forbidden, Unauthenticated, error_for
from common.token_store import FileStore, KeyringStore
from daemon.app import Services
from tests.conftest import FakeClock, user_token

PASSWORD = "artist password"


@pytest.fixture
def ana(services: Services) -> None:
    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))


def test_errors_have_stable_codes() -> None:
    assert isinstance(error_for("unauthenticated", 401, "m"), Unauthenticated)
    assert isinstance(error_for("forbidden", 403, "m"), Forbidden)
    assert isinstance(error_for(None, 403, "m"), Forbidden)
    assert (Unauthenticated.code, Forbidden.code) == ("unauthenticated", "forbidden")


def test_the_client_refreshes_an_expired_token_once(
    live_url: str, ana: None, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileStore(tmp_path / "tokens.json")
    pair = DaemonClient(live_url).login("ana", PASSWORD)
    signed_in = SignedIn(store, live_url)
    signed_in.save(pair.model_dump(mode="json"))
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600
    client = DaemonClient(live_url, auth=signed_in)
    assert client.me().name == "ana"
    clock.advance(3600)
    assert client.me().name == "ana"  # refreshed under the hood
    stored = store.load(live_url)
    assert stored is not None and stored["refresh_token"] != pair.refresh_token
    with pytest.raises(Forbidden):
        client.enrollment_token()
    client.logout(stored["refresh_token"])
    with pytest.raises(Unauthenticated):
        client.me()


def test_without_a_token_the_daemon_says_to_sign_in(live_url: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        DaemonClient(live_url).jobs()
    assert "Sign in" in caught.value.message
    with pytest.raises(Unauthenticated):
        DaemonClient(live_url, auth=StaticToken("cbk_nope")).jobs()


def test_cli_login_jobs_and_logout(live_url: str, ana: None, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "tokens.json")
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        state = CliState(token_store=store, poll_interval_s=0)
        result = runner.invoke(cli, ["--daemon-url", live_url, *args], obj=state, input=input)
        return result.exit_code, result.output

    code, out = run("login", "--user", "ana", "--password-stdin", input=PASSWORD + "\n")
    assert code == 0 and "as ana (artist)" in out
    assert run("jobs")[0] == 0
    code, out = run("logout")
    assert code == 0 and "Signed out" in out
    assert store.load(live_url) is None
    code, out = run("jobs")
    assert code == 1 and "Sign in" in out
    code, out = run("login", "--user", "ana", "--password-stdin", input="wrong\n")
    assert code == 1 and "Wrong user name or password" in out


def test_an_api_key_from_the_environment(live_url: str, services: Services) -> None:
    token = user_token(services, "tess", Role.TD)
    result = CliRunner(env={"CLOUDBURST_TOKEN": token}).invoke(
        cli, ["--daemon-url", live_url, "jobs"], obj=CliState()
    )
    assert result.exit_code == 0, result.output


class MemoryKeyring:
    """A keyring backend in memory (the keyring package's API)."""

    priority = 1

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.secrets.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.secrets[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        del self.secrets[(service, user)]


def test_the_keyring_store() -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend)
    store.save("http://d", {"access_token": "a", "refresh_token": "r"})
    assert store.load("http://d") == {"access_token": "a", "refresh_token": "r"}
    assert list(backend.secrets) == [("cloudburst", "http://d")]
    store.delete("http://d")
    store.delete("http://d")
    assert store.load("http://d") is None
