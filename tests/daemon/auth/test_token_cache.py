"""The cache of checked tokens: short-lived, bounded, keyed by hashes, and dropped on revocation.

These call the services (a fake clock moves the time); ``test_revocation_http.py`` proves the
same revocations through real HTTP.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from common.accounts import LoginRequest, Role, UserCreate, UserUpdate
from common.config import AuthSettings, Settings
from common.errors import Unauthenticated
from common.models import AgentRegistration
from daemon.app import Services, create_app
from daemon.auth.keys import token_hash
from daemon.auth.principal import Principal
from daemon.auth.revocations import REVOCATIONS_FILE, RevocationMark
from daemon.auth.token_cache import CredentialCache, credential_cache
from daemon.context import Context
from daemon.services.users import UserService
from daemon.users_cli import user_group
from tests.conftest import FakeClock

ANA = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=1, session_id="s1")
BEN = Principal(kind="user", name="ben", role=Role.TD, user_id=2)
NODE = Principal(kind="agent", name="node01", agent_id="a1")


def cache(clock: FakeClock, ttl_s: float = 5.0, entries: int = 100) -> CredentialCache:
    return CredentialCache(ttl_s, entries, clock)


# --- the cache itself ----------------------------------------------------------------------


def test_an_entry_lives_the_ttl_and_no_longer(clock: FakeClock) -> None:
    kept = cache(clock)
    kept.put("h1", ANA, kept.generation())
    clock.advance(4.9)
    assert kept.get("h1") == ANA
    clock.advance(0.1)
    assert kept.get("h1") is None and len(kept) == 0


def test_an_entry_never_outlives_its_token(clock: FakeClock) -> None:
    kept = cache(clock, ttl_s=30)
    kept.put("h1", ANA, kept.generation(), expires_at=clock.now + 2)
    clock.advance(2)
    assert kept.get("h1") is None


def test_a_clock_that_went_back_drops_the_entry(clock: FakeClock) -> None:
    kept = cache(clock)
    kept.put("h1", ANA, kept.generation())
    clock.advance(-60)
    assert kept.get("h1") is None


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(clock: FakeClock) -> None:
    kept = cache(clock, entries=2)
    kept.put("h1", ANA, kept.generation())
    kept.put("h2", BEN, kept.generation())
    assert kept.get("h1") == ANA  # h2 is now the least recently used
    kept.put("h3", NODE, kept.generation())
    assert len(kept) == 2
    assert kept.get("h2") is None and kept.get("h1") == ANA and kept.get("h3") == NODE


def test_a_ttl_of_zero_keeps_nothing(clock: FakeClock) -> None:
    kept = cache(clock, ttl_s=0)
    kept.put("h1", ANA, kept.generation())
    assert kept.get("h1") is None and len(kept) == 0


def test_forgetting_drops_only_the_matching_entries(clock: FakeClock) -> None:
    kept = cache(clock)
    for digest, principal in (("h1", ANA), ("h2", BEN), ("h3", NODE)):
        kept.put(digest, principal, kept.generation())
    kept.forget_session("s1")
    assert kept.get("h1") is None and kept.get("h2") == BEN and kept.get("h3") == NODE
    kept.forget_user(2)
    assert kept.get("h2") is None and kept.get("h3") == NODE
    kept.forget_agent("a1")
    assert len(kept) == 0


def test_a_lookup_that_raced_a_revocation_is_not_kept(clock: FakeClock) -> None:
    """A lookup started before a revocation committed may have read the old rows."""
    kept = cache(clock)
    started = kept.generation()
    kept.forget_user(1)  # the revocation commits while the lookup runs
    kept.put("h1", ANA, started)
    assert kept.get("h1") is None
    kept.put("h1", ANA, kept.generation())  # a lookup started after it is kept
    assert kept.get("h1") == ANA


def test_the_ttl_setting_is_bounded() -> None:
    assert AuthSettings().token_cache_ttl_s == 30.0
    with pytest.raises(ValidationError):
        AuthSettings(token_cache_ttl_s=61)
    with pytest.raises(ValidationError):
        AuthSettings(token_cache_ttl_s=-1)


# --- through the auth service --------------------------------------------------------------


def daemon(tmp_path: Path, clock: FakeClock, **auth: float) -> Services:
    settings = Settings(data_dir=tmp_path / "data", auth=AuthSettings(**auth))
    services: Services = create_app(settings, clock=clock).extensions["cloudburst"]
    return services


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_the_cache_keeps_the_tokens_hash_never_the_token(
    services: Services, admin_token: str
) -> None:
    services.auth.authenticate(bearer(admin_token))
    kept = services.auth.credentials
    assert kept.get(token_hash(admin_token)) is not None
    assert kept.get(admin_token) is None
    assert admin_token not in repr(kept._entries)


def test_bad_tokens_are_never_kept(services: Services) -> None:
    for token in ("cba_nope", "cbk_nope", "not-a-jwt"):
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                services.auth.authenticate(bearer(token))
    assert len(services.auth.credentials) == 0


def elsewhere(services: Services, credentials: CredentialCache) -> UserService:
    """Another process's user service over the same database (``cloudburst user``, or another
    process of the daemon), with its own cache of checked tokens."""
    context = services.context
    return UserService(Context(database=context.database, settings=context.settings), credentials)


def tess_and_her_key(services: Services) -> tuple[int, str]:
    user = services.users.create(UserCreate(name="tess", role=Role.TD))
    key = services.auth.create_api_key(user.id, "test")
    assert services.auth.authenticate(bearer(key)).name == "tess"  # now kept
    assert len(services.auth.credentials) == 1
    return user.id, key


def test_a_revocation_in_another_process_is_seen_at_once(tmp_path: Path, clock: FakeClock) -> None:
    services = daemon(tmp_path, clock, token_cache_ttl_s=60)
    user_id, key = tess_and_her_key(services)
    other = credential_cache(services.context.settings.auth, tmp_path / "data", clock)
    elsewhere(services, other).update(user_id, UserUpdate(active=False))
    with pytest.raises(Unauthenticated):
        services.auth.authenticate(bearer(key))


def test_another_processs_cache_drops_everything_on_a_mark(
    clock: FakeClock, tmp_path: Path
) -> None:
    one = CredentialCache(5, 10, clock, RevocationMark(tmp_path))
    two = CredentialCache(5, 10, clock, RevocationMark(tmp_path))
    for kept in (one, two):
        assert kept.get("h2") is None  # the first look
        kept.put("h2", BEN, kept.generation())
        assert kept.get("h2") == BEN
    started = two.generation()
    one.forget_user(1)  # not BEN's: the other process cannot know whose tokens changed
    two.put("h3", NODE, started)  # a lookup of the other process that raced the revocation
    assert two.get("h2") is None and two.get("h3") is None and len(two) == 0


def test_without_the_mark_the_ttl_bounds_another_processs_revocation(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A mark that could not be written (logged): the other processes learn within the TTL."""
    services = daemon(tmp_path, clock, token_cache_ttl_s=5)
    user_id, key = tess_and_her_key(services)
    elsewhere(services, CredentialCache(5, 10, clock)).update(user_id, UserUpdate(active=False))
    clock.advance(4.9)
    assert services.auth.authenticate(bearer(key)).name == "tess"  # the documented window
    clock.advance(0.1)
    with pytest.raises(Unauthenticated):
        services.auth.authenticate(bearer(key))


def test_without_the_cache_a_revocation_elsewhere_holds_at_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    services = daemon(tmp_path, clock, token_cache_ttl_s=0)
    user = services.users.create(UserCreate(name="tess", role=Role.TD))
    key = services.auth.create_api_key(user.id, "test")
    services.auth.authenticate(bearer(key))
    assert len(services.auth.credentials) == 0
    elsewhere(services, CredentialCache(0, 10, clock)).update(user.id, UserUpdate(active=False))
    with pytest.raises(Unauthenticated):
        services.auth.authenticate(bearer(key))


def test_a_mark_that_cannot_be_read_keeps_nothing(
    services: Services, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = services.auth.credentials.mark
    assert mark is not None

    def unreadable() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mark, "stamp", unreadable)
    for _ in range(2):
        assert services.auth.authenticate(bearer(admin_token)).name == "admin"
    assert len(services.auth.credentials) == 0


def test_a_mark_that_cannot_be_written_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / REVOCATIONS_FILE).mkdir()  # in the way of the file
    with caplog.at_level(logging.WARNING):
        RevocationMark(tmp_path).mark()
    assert "token_cache_ttl_s" in caplog.text


def test_a_kept_access_token_ends_when_the_token_expires(tmp_path: Path, clock: FakeClock) -> None:
    services = daemon(tmp_path, clock, token_cache_ttl_s=60, access_ttl_s=3)
    services.users.create(UserCreate(name="pat", role=Role.TD, password="pat-password-1"))
    pair = services.auth.login(LoginRequest(username="pat", password="pat-password-1"), "h")
    assert services.auth.authenticate(bearer(pair.access_token)).name == "pat"
    clock.advance(3)
    with pytest.raises(Unauthenticated, match="expired"):
        services.auth.authenticate(bearer(pair.access_token))


def test_an_agent_registering_again_is_known_by_its_new_name(services: Services) -> None:
    admin = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)
    agent = services.enrollment.register(AgentRegistration(name="n1", hostname="h1"), admin)
    assert agent.token is not None
    me = services.auth.authenticate(bearer(agent.token))
    assert me.name == "n1"
    services.enrollment.register(AgentRegistration(name="n2", hostname="h1"), me)
    assert services.auth.authenticate(bearer(agent.token)).name == "n2"


def test_a_new_password_set_with_the_user_command_ends_the_daemons_kept_session(
    tmp_path: Path, clock: FakeClock
) -> None:
    """``cloudburst user passwd`` runs beside the daemon, with its own services."""
    services = daemon(tmp_path, clock, token_cache_ttl_s=60)
    services.users.create(UserCreate(name="pat", role=Role.TD, password="pat-password-1"))
    pair = services.auth.login(LoginRequest(username="pat", password="pat-password-1"), "h")
    assert services.auth.authenticate(bearer(pair.access_token)).name == "pat"
    result = CliRunner().invoke(
        user_group,
        ["passwd", "pat", "--password-stdin", "--data-dir", str(tmp_path / "data")],
        input="new-password-2\n",
    )
    assert result.exit_code == 0, result.output
    with pytest.raises(Unauthenticated, match="signed out"):
        services.auth.authenticate(bearer(pair.access_token))
