"""Artists' desktops end to end on the simulated cloud: a real daemon process, real desktop
agent processes, every step through the daemon's API and the desktop's own port.

An artist starts a session, connects with a one-time token (used twice, refused), writes a
file on the desktop, ends the session with a snapshot, starts a new one from that snapshot
and finds the file; the audit log has it all. A daemon killed hard while a session is ready
finds its desktop again when it starts, and the desktop takes a new token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from common.accounts import Role, UserCreate
from tests.cloud_agent.desktop_client import DesktopClient, DesktopRefusal
from tests.e2e.farm import Farm, wait_for
from tests.waiting import gone

pytestmark = pytest.mark.slow

ARTIST, PASSWORD = "ana", "ana-secret-pw-1"
PROFILE = {"name": "comp", "protocol": "dcv", "price_per_hour": 1.5, "projects": ["show"]}
TIMEOUT = 60.0


def desktop_agents(data_dir: Path) -> list[psutil.Process]:
    """The desktop agent processes of this test's simulated cloud (run in their volumes)."""
    root = str(data_dir / "simcloud-desktops")
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info.get("cmdline") or []
        if "cloud_agent.desktop" in cmdline and (process.info.get("cwd") or "").startswith(root):
            found.append(process)
    return found


@pytest.fixture
def desktops_farm(tmp_path: Path) -> Iterator[Farm]:
    """A farm whose daemon runs desktops on the simulated cloud; the desktops it leaves (a
    failed test's) are killed at the end."""
    farm = Farm(tmp_path)
    farm.env.update({
        "CLOUDBURST_DAEMON_URL": farm.url,  # where the desktops report
        "CLOUDBURST_DESKTOPS": json.dumps([PROFILE]),
        "CLOUDBURST_SESSIONS__BACKEND": "simcloud",
        "CLOUDBURST_SESSIONS__INTERVAL_S": "0.5",
        "CLOUDBURST_SESSIONS__REPORT_INTERVAL_S": "0.3",
        "CLOUDBURST_SESSIONS__END_GRACE_S": "1",
        "CLOUDBURST_SESSIONS__SIMCLOUD__BOOT_DELAY_S": "0.2",
    })  # fmt: skip
    try:
        yield farm
    finally:
        farm.stop_all()
        for process in desktop_agents(farm.data_dir):
            process.kill()


class Api:
    """The daemon's API as one person calls it."""

    def __init__(self, url: str, token: str) -> None:
        self.url = f"{url}/api/v1"
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = requests.request(
            method, self.url + path, headers=self.headers, timeout=10, **kwargs
        )
        assert response.status_code == status, response.text
        return response.json()["data"]

    def session_in(self, session_id: int, *states: str) -> dict[str, Any]:
        """Waits until the session is in one of ``states``; returns it as then read."""
        found: dict[str, Any] = wait_for(
            lambda: (s := self.call("GET", f"/sessions/{session_id}"))["state"] in states and s,
            TIMEOUT, f"session {session_id} to be {' or '.join(states)}",
        )  # fmt: skip
        return found


def artist(farm: Farm) -> Api:
    farm.client.create_user(UserCreate(name=ARTIST, role=Role.ARTIST, password=PASSWORD))
    return Api(farm.url, farm.client.login(ARTIST, PASSWORD).access_token)


def admin(farm: Farm) -> Api:
    token = json.loads((farm.data_dir / "local-admin.json").read_text())["token"]
    return Api(farm.url, token)


def connect(session: dict[str, Any]) -> tuple[DesktopClient, str]:
    """A client connected to the ready session's desktop with the token its GET carried."""
    connection = session["connection"]
    token = connection["token"]
    assert token and token.startswith("cbc_")
    client = DesktopClient(f"http://{connection['host']}:{connection['port']}")
    assert client.connect(token) == ARTIST
    return client, token


def no_desktop_left(farm: Farm) -> None:
    wait_for(lambda: not desktop_agents(farm.data_dir), TIMEOUT, "no desktop process left")
    volumes = farm.data_dir / "simcloud-desktops" / "volumes"
    assert not volumes.exists() or list(volumes.iterdir()) == []


def test_a_session_ends_with_a_snapshot_and_the_next_starts_from_it(
    desktops_farm: Farm,
) -> None:
    farm = desktops_farm
    farm.start_daemon()
    ana = artist(farm)
    assert [p["name"] for p in ana.call("GET", "/sessions/profiles")] == ["comp"]

    started = ana.call("POST", "/sessions", 201, json={"profile": "comp"})
    assert (started["state"], started["user"], started["project"]) == (
        "provisioning", ARTIST, "show",
    )  # fmt: skip
    first = ana.session_in(started["id"], "ready")
    client, token = connect(first)
    with pytest.raises(DesktopRefusal) as refused:  # the same token again: refused
        DesktopClient(client.url).connect(token)
    assert (refused.value.status, refused.value.code) == (403, "connection_refused")
    client.put("shots/sh010/comp.nk", b"Root { name sh010 }")

    ending = ana.call("DELETE", f"/sessions/{first['id']}", params={"snapshot": "true"})
    assert ending["state"] == "ending" and ending["end_snapshot_id"] is not None
    ended = ana.session_in(first["id"], "ended", "failed")
    assert ended["state"] == "ended", ended
    snapshot = ana.call("GET", f"/snapshots/{ending['end_snapshot_id']}")
    assert (snapshot["state"], snapshot["session_id"], snapshot["kind"]) == (
        "available", first["id"], "full",
    )  # fmt: skip

    again = ana.call(
        "POST", "/sessions", 201, json={"profile": "comp", "snapshot_id": snapshot["id"]}
    )
    assert again["snapshot_id"] == snapshot["id"]
    second = ana.session_in(again["id"], "ready")
    assert second["instance_id"] != first["instance_id"]
    client, _ = connect(second)
    assert client.get("shots/sh010/comp.nk") == b"Root { name sh010 }"

    records = admin(farm).call("GET", "/audit/desktops", params={"user": ARTIST, "limit": 1000})
    actions = {(r["action"], r["session_id"]) for r in records}
    lifetime = ("session.start", "session.token", "session.connect", "session.connect_refused",
                "session.end_requested", "session.ended")  # fmt: skip
    for action in lifetime:
        assert (action, first["id"]) in actions, action
    for action in ("session.start", "session.token", "session.connect"):
        assert (action, second["id"]) in actions, action
    by_snapshot = {(r["action"], r["snapshot_id"]) for r in records}
    assert ("snapshot.create", snapshot["id"]) in by_snapshot
    assert ("snapshot.restore", snapshot["id"]) in by_snapshot

    ana.call("DELETE", f"/sessions/{second['id']}")
    assert ana.session_in(second["id"], "ended", "failed")["state"] == "ended"
    no_desktop_left(farm)


def test_a_daemon_killed_hard_finds_its_ready_desktop_again(desktops_farm: Farm) -> None:
    farm = desktops_farm
    farm.start_daemon()
    ana = artist(farm)
    started = ana.call("POST", "/sessions", 201, json={"profile": "comp"})
    ready = ana.session_in(started["id"], "ready")
    client, _ = connect(ready)
    client.put("work.txt", b"before the restart")
    [agent] = desktop_agents(farm.data_dir)

    farm.kill_daemon()
    assert not gone(agent.pid)  # the artist's desktop goes on without the daemon
    farm.start_daemon()

    after = ana.call("GET", f"/sessions/{ready['id']}")  # the pass at start has run
    assert (after["state"], after["instance_id"]) == ("ready", ready["instance_id"])
    client, _ = connect(after)  # the desktop redeems the new token at the new daemon
    assert client.get("work.txt") == b"before the restart"
    assert desktop_agents(farm.data_dir) == [agent]
    assert ana.call("GET", f"/sessions/{ready['id']}")["state"] == "ready"

    ana.call("DELETE", f"/sessions/{ready['id']}")
    assert ana.session_in(ready["id"], "ended", "failed")["state"] == "ended"
    no_desktop_left(farm)
    assert gone(agent.pid)  # (a zombie until whoever adopted it reaps it)
