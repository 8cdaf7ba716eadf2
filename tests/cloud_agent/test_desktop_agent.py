"""The desktop agent (``python -m cloud_agent.desktop``, a real process) against a stand-in of
the daemon's desktop endpoints, through a client of its display stand-in, all over real HTTP."""

from __future__ import annotations

import http.client
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloud_agent.desktop import dcv_auth
from cloud_agent.desktop.cli import read_secret, reported_host
from cloud_agent.desktop.files import HomeFiles, check_name
from cloud_agent.desktop.presence import Presence
from common.errors import ConfigError, InvalidPath, TooLarge
from tests.cloud_agent.desktop_client import DesktopClient, DesktopRefusal
from tests.cloud_agent.desktop_daemon import StandInDaemon, refused_sentence, stand_in_daemon
from tests.conftest import FakeClock
from tests.waiting import wait_until

SESSION = 12
SECRET = "cbs_" + "s" * 43
TIMEOUT = 20.0


@dataclass
class Desktop:
    daemon: StandInDaemon
    process: subprocess.Popen[bytes]
    home: Path
    url: str
    log: Path

    def client(self) -> DesktopClient:
        return DesktopClient(self.url)


def start_agent(
    tmp_path: Path, daemon_url: str, secret: str = SECRET, extra: tuple[str, ...] = ()
) -> Desktop:
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    port_file, log = tmp_path / "display-port", tmp_path / "agent.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDBURST_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "cloud_agent.desktop", "--daemon-url", daemon_url,
                "--session", str(SESSION), "--secret-file", str(secret_file),
                "--home", str(tmp_path / "home"), "--bind", "127.0.0.1", "--port", "0",
                "--protocol", "dcv", "--port-file", str(port_file),
                "--report-interval-s", "0.1", *extra,
            ],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    wait_until(lambda: port_file.exists() or process.poll() is not None)
    assert process.poll() is None, log.read_text()
    port = int(port_file.read_text())
    return Desktop(StandInDaemon(), process, tmp_path / "home", f"http://127.0.0.1:{port}", log)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def daemon() -> StandInDaemon:
    return StandInDaemon(secrets={SESSION: SECRET})


@pytest.fixture
def desktop(tmp_path: Path, daemon: StandInDaemon) -> Iterator[Desktop]:
    with stand_in_daemon(daemon) as url:
        found = start_agent(tmp_path, url)
        found.daemon = daemon
        try:
            wait_until(lambda: len(daemon.reports_of(SESSION)) >= 1)
            yield found
        finally:
            stop(found.process)


def test_it_reports_at_once_with_where_clients_reach_it(desktop: Desktop) -> None:
    first = desktop.daemon.reports_of(SESSION)[0]
    assert (first.host, f"http://127.0.0.1:{first.port}") == ("127.0.0.1", desktop.url)
    assert first.connected is False


def test_beside_a_real_display_server_it_reports_the_displays_port(tmp_path: Path) -> None:
    """On an OCI image the display server (DCV on 8443) is the image's: the agent listens on the
    loopback for its token checks and tells the daemon where clients reach the display."""
    daemon = StandInDaemon(secrets={SESSION: SECRET})
    with stand_in_daemon(daemon) as url:
        found = start_agent(tmp_path, url, extra=("--display-port", "8443"))
        try:
            wait_until(lambda: len(daemon.reports_of(SESSION)) >= 1)
            report = daemon.reports_of(SESSION)[0]
            assert report.port == 8443 and found.url != "http://127.0.0.1:8443"
            assert report.host != "0.0.0.0"
        finally:
            stop(found.process)


def test_beside_a_real_display_server_only_token_checks_and_status_are_served(
    tmp_path: Path,
) -> None:
    """The artist is logged in on an OCI desktop: the stand-in's /connect, /files and
    /disconnect would let them reach the agent's own files, so they are not served there."""
    daemon = StandInDaemon(secrets={SESSION: SECRET})
    daemon.tokens["cbc_dcv"] = (SESSION, "alice")
    daemon.tokens["cbc_connect"] = (SESSION, "alice")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("kept")
    with stand_in_daemon(daemon) as url:
        found = start_agent(tmp_path, url, extra=("--display-port", "8443"))
        try:
            connect = b'{"token": "cbc_connect"}'
            assert client_raw(found.url, "POST", "/connect", connect)[0] == 404
            assert client_raw(found.url, "GET", "/files/notes.txt", connection="c")[0] == 404
            assert client_raw(found.url, "GET", "/files/../secret")[0] == 404
            assert client_raw(found.url, "PUT", "/files/x.txt", b"x", connection="c")[0] == 404
            assert client_raw(found.url, "POST", "/disconnect", connection="c")[0] == 404
            assert not (tmp_path / "home" / "x.txt").exists()
            form = b"sessionId=console&authenticationToken=cbc_dcv"
            assert client_raw(found.url, "POST", "/dcv/auth", form) == (
                200, b'<auth result="yes"><username>alice</username></auth>'
            )  # fmt: skip
            assert client_raw(found.url, "GET", "/status")[0] == 200
            assert "cbc_connect" in daemon.tokens
        finally:
            stop(found.process)


def test_a_token_works_once_and_the_second_use_gets_the_daemons_sentence(
    desktop: Desktop,
) -> None:
    desktop.daemon.tokens["cbc_good"] = (SESSION, "alice")
    assert desktop.client().connect("cbc_good") == "alice"
    with pytest.raises(DesktopRefusal) as refused:
        desktop.client().connect("cbc_good")
    assert (refused.value.status, refused.value.code) == (403, "connection_refused")
    assert refused.value.message == refused_sentence(SESSION)


def test_a_wrong_token_and_another_sessions_token_are_refused(desktop: Desktop) -> None:
    desktop.daemon.tokens["cbc_theirs"] = (SESSION + 1, "bob")
    for token in ("cbc_wrong", "cbc_theirs"):
        with pytest.raises(DesktopRefusal) as refused:
            desktop.client().connect(token)
        assert refused.value.code == "connection_refused"
    assert desktop.daemon.redeemed == []


def test_a_malformed_connect_is_a_400_and_reaches_no_broker(desktop: Desktop) -> None:
    client = desktop.client()
    for body in (b"not json", b'{"token": "x", "more": 1}', b"{}"):
        response = client_raw(desktop.url, "POST", "/connect", body)
        assert response[0] == 400
        assert b"invalid_input" in response[1]
    assert client.status()["connected"] is False


def test_files_go_and_come_back_in_home(desktop: Desktop) -> None:
    desktop.daemon.tokens["cbc_good"] = (SESSION, "alice")
    client = desktop.client()
    client.connect("cbc_good")
    assert client.put("shots/sh010/notes.txt", b"comp v3")["size"] == 7
    assert (desktop.home / "shots/sh010/notes.txt").read_bytes() == b"comp v3"
    assert client.get("shots/sh010/notes.txt") == b"comp v3"


def test_files_need_a_connection(desktop: Desktop) -> None:
    client = desktop.client()
    client.connection = "made-up"
    with pytest.raises(DesktopRefusal) as refused:
        client.put("x.txt", b"x")
    assert (refused.value.status, refused.value.code) == (401, "not_connected")
    assert not (desktop.home / "x.txt").exists()


def client_raw(
    url: str, method: str, path: str, body: bytes | None = None, connection: str | None = None
) -> tuple[int, bytes]:
    """A request with the path sent exactly as given (no client normalises it)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"X-Connection": connection} if connection else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_files_are_confined_to_home(desktop: Desktop, tmp_path: Path) -> None:
    desktop.daemon.tokens["cbc_good"] = (SESSION, "alice")
    client = desktop.client()
    client.connect("cbc_good")
    outside = tmp_path / "outside.txt"
    outside.write_text("studio secret")
    (desktop.home / "link").symlink_to(tmp_path)
    for path in (
        "/files/../outside.txt",
        "/files/%2e%2e/outside.txt",
        "/files/a/../../outside.txt",
        f"/files/{tmp_path}/outside.txt",
        "/files/link/outside.txt",
    ):
        for method, body in (("GET", None), ("PUT", b"overwritten")):
            status, answer = client_raw(desktop.url, method, path, body, client.connection)
            assert status == 400, (method, path, answer)
            assert b"invalid_path" in answer
    assert outside.read_text() == "studio secret"
    assert sorted(p.name for p in desktop.home.iterdir()) == ["link"]


def test_idle_s_grows_until_a_client_uses_it_and_connected_is_reported(
    desktop: Desktop,
) -> None:
    daemon = desktop.daemon
    wait_until(lambda: len(daemon.reports_of(SESSION)) >= 3)
    unused = daemon.reports_of(SESSION)
    assert unused[-1].idle_s > unused[0].idle_s
    daemon.tokens["cbc_good"] = (SESSION, "alice")
    client = desktop.client()
    client.connect("cbc_good")
    seen = len(daemon.reports_of(SESSION))
    wait_until(lambda: len(daemon.reports_of(SESSION)) > seen + 1)
    assert [r for r in daemon.reports_of(SESSION)[seen:] if r.connected]
    assert client.status()["connected"] is True
    client.disconnect()
    seen = len(daemon.reports_of(SESSION))
    wait_until(lambda: len(daemon.reports_of(SESSION)) > seen + 1)
    assert daemon.reports_of(SESSION)[-1].connected is False


def test_the_warning_is_kept_for_the_status(desktop: Desktop) -> None:
    desktop.daemon.warning = "This session ends in 15 minutes: save your work."
    wait_until(lambda: desktop.client().status()["warning"] == desktop.daemon.warning)


def test_end_now_stops_it(desktop: Desktop) -> None:
    desktop.daemon.end_now = True
    desktop.process.wait(timeout=TIMEOUT)
    assert desktop.process.returncode == 0
    with pytest.raises(OSError):
        client_raw(desktop.url, "GET", "/status")


def test_a_daemon_that_is_down_is_tried_again(desktop: Desktop) -> None:
    daemon = desktop.daemon
    daemon.down = True
    time.sleep(0.5)  # several refused reports
    assert desktop.process.poll() is None
    seen = len(daemon.reports_of(SESSION))
    daemon.down = False
    wait_until(lambda: len(daemon.reports_of(SESSION)) > seen)


def test_a_daemon_that_does_not_answer_at_all_stops_nothing(tmp_path: Path) -> None:
    with stand_in_daemon(StandInDaemon()) as url:
        pass  # its port is closed now
    found = start_agent(tmp_path, url)
    try:
        time.sleep(0.5)
        assert found.process.poll() is None
        assert DesktopClient(found.url).status()["connected"] is False
    finally:
        stop(found.process)


def test_a_wrong_secret_is_refused_by_the_daemon_and_the_desktop_keeps_trying(
    tmp_path: Path, daemon: StandInDaemon
) -> None:
    with stand_in_daemon(daemon) as url:
        found = start_agent(tmp_path, url, secret="cbs_wrong")
        try:
            time.sleep(0.5)
            assert found.process.poll() is None
            assert daemon.reports == []
            daemon.tokens["cbc_good"] = (SESSION, "alice")
            with pytest.raises(DesktopRefusal) as refused:
                DesktopClient(found.url).connect("cbc_good")
            assert refused.value.code == "broker_refused"
            assert "cbc_good" in daemon.tokens
        finally:
            stop(found.process)


def test_the_secret_file_must_be_its_owners_alone(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_secret(secret)
    secret.chmod(0o600)
    assert read_secret(secret) == SECRET
    link = tmp_path / "link"
    link.symlink_to(secret)
    with pytest.raises(ConfigError):
        read_secret(link)


def test_the_agent_will_not_start_with_a_readable_secret(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0o644)
    done = subprocess.run(
        [
            sys.executable, "-m", "cloud_agent.desktop", "--daemon-url", "http://127.0.0.1:9",
            "--session", "1", "--secret-file", str(secret), "--home", str(tmp_path / "home"),
        ],
        capture_output=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0
    assert b"chmod 600" in done.stderr


NOT_PLAIN = ["", "/etc/passwd", "a/../b", "..", "a//b", "./a", "a\\b", "a\x00", "x" * 1025]


@pytest.mark.parametrize("name", NOT_PLAIN)
def test_file_names_that_are_not_plain_relative_paths_are_refused(name: str) -> None:
    with pytest.raises(InvalidPath):
        check_name(name)


def test_a_dcv_server_is_answered_by_the_broker(desktop: Desktop) -> None:
    desktop.daemon.tokens["cbc_dcv"] = (SESSION, "alice")
    form = b"sessionId=console&authenticationToken=cbc_dcv"
    assert client_raw(desktop.url, "POST", "/dcv/auth", form) == (
        200, b'<auth result="yes"><username>alice</username></auth>'
    )  # fmt: skip
    assert client_raw(desktop.url, "POST", "/dcv/auth", form) == (200, b'<auth result="no"/>')
    assert dcv_auth.token_of(b"sessionId=console") is None
    assert dcv_auth.answer("a<b") == b'<auth result="yes"><username>a&lt;b</username></auth>'


def test_a_file_over_the_bound_or_cut_short_leaves_nothing(tmp_path: Path) -> None:
    files = HomeFiles(tmp_path, max_bytes=4)
    with pytest.raises(TooLarge):
        files.write("big.bin", io.BytesIO(b"12345"), 5)
    with pytest.raises(InvalidPath, match="cut short"):
        files.write("cut.bin", io.BytesIO(b"12"), 4)
    assert list(tmp_path.iterdir()) == []
    assert files.write("ok.bin", io.BytesIO(b"1234"), 4) == 4
    assert (tmp_path / "ok.bin").read_bytes() == b"1234"


def test_the_reported_host_is_the_bound_one_or_the_way_to_the_daemon() -> None:
    assert reported_host("10.0.4.7", "http://10.0.0.2:8000") == "10.0.4.7"
    assert reported_host("0.0.0.0", "http://127.0.0.1:8000") == "127.0.0.1"


def test_a_taken_port_is_said_plainly(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run(
            [
                sys.executable, "-m", "cloud_agent.desktop", "--daemon-url",
                "http://127.0.0.1:9", "--session", "1", "--secret-file", str(secret),
                "--home", str(tmp_path / "home"), "--bind", "127.0.0.1",
                "--port", str(taken.getsockname()[1]),
            ],
            capture_output=True, timeout=30,
        )  # fmt: skip
    assert done.returncode != 0
    assert b"free the port" in done.stderr
    assert b"Traceback" not in done.stderr


def test_only_a_clients_own_requests_are_use() -> None:
    clock = FakeClock(100.0)
    presence = Presence(clock=clock)
    clock.advance(30)
    assert presence.idle_s == 30  # since the start
    connection = presence.connect("alice")
    assert (presence.idle_s, presence.connected) == (0, True)
    clock.advance(5)
    assert presence.use("someone else's") is None
    assert presence.idle_s == 5
    assert presence.use(connection) == "alice"
    assert presence.idle_s == 0
    clock.advance(7)
    assert presence.disconnect(connection) is True
    assert (presence.idle_s, presence.connected) == (0, False)
    assert presence.disconnect(connection) is False
