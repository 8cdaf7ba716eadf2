"""Every declared operation, called by every kind of caller: allowed ones work, the rest get
401/403 with a reason and change nothing.

The expectations are written out by hand (not read from the declarations) and must name every
operation, so a new endpoint fails here until someone decides who may call it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from common.models import TaskAction
from daemon.api import BLUEPRINTS, PREFIX
from daemon.api.routing import Operation
from daemon.auth import Permission
from tests.daemon.auth.world import CALLERS, NAMES, PASSWORD, World, build_world, fail_the_task
from tests.daemon.calls import snapshot
from tests.daemon.ops.helpers import person, start_upload, store_file
from tests.daemon.web.helpers import render_frames

USERS = {"artist", "other", "td", "producer", "admin"}
EVERYONE = set(CALLERS)
OWNER_TD_ADMIN = {"artist", "td", "admin"}
AGENT_ADMIN = {"agent", "admin"}

#: Who may call each operation ("METHOD rule").
ALLOWED: dict[str, set[str]] = {
    "GET /health": EVERYONE,
    "GET /openapi.json": EVERYONE,
    "POST /auth/login": EVERYONE,
    "POST /auth/refresh": EVERYONE,
    "POST /auth/register": EVERYONE,
    "POST /auth/logout": USERS,
    "GET /auth/me": USERS,
    "POST /users": {"admin"},
    "GET /users": {"admin"},
    "GET /users/<int:user_id>": {"admin"},
    "PUT /users/<int:user_id>": {"admin"},
    "DELETE /users/<int:user_id>": {"admin"},
    "POST /users/<int:user_id>/restore": {"admin"},
    "POST /jobs": USERS,
    "GET /jobs": USERS,
    "GET /jobs/<int:job_id>": USERS,
    "DELETE /jobs/<int:job_id>": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/pause": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/resume": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/retry": OWNER_TD_ADMIN,
    "PUT /jobs/<int:job_id>/priority": {"artist", "td", "producer", "admin"},
    "PUT /jobs/<int:job_id>/pin": {"producer", "admin"},
    "PUT /jobs/<int:job_id>/depends-on": OWNER_TD_ADMIN,
    "GET /jobs/<int:job_id>/tasks": USERS,
    "GET /jobs/<int:job_id>/tasks/<int:task_id>/log": USERS,
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/retry": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/requeue": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/suspend": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/resume": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/resubmit": USERS,
    "POST /jobs/<int:job_id>/archive": OWNER_TD_ADMIN,
    "POST /jobs/<int:job_id>/unarchive": OWNER_TD_ADMIN,
    "DELETE /jobs/<int:job_id>/record": OWNER_TD_ADMIN,
    "GET /jobs/<int:job_id>/outputs.zip": USERS,
    "GET /jobs/<int:job_id>/thumbnail": USERS,
    "GET /queue": USERS,
    "GET /shotgrid/status": USERS,
    "GET /shotgrid/projects": USERS,
    "GET /shotgrid/shots": USERS,
    "GET /shotgrid/assets": USERS,
    "GET /shotgrid/tasks": USERS,
    "GET /shows": USERS,
    "PUT /shows/<project>/hold": {"producer", "admin"},
    "PUT /shows/<project>/share": {"producer", "admin"},
    "GET /overrides": {"td", "producer", "admin"},
    "GET /projects": USERS,
    "PUT /projects/<project>/confidential": {"admin"},
    "POST /agents": {"td", "admin", "agent"},
    "POST /agents/enrollment-tokens": {"td", "admin"},
    "GET /agents": USERS,
    "PATCH /agents/<agent_id>": {"td", "admin"},
    "POST /agents/<agent_id>/disable": {"td", "admin"},
    "POST /agents/<agent_id>/drain": {"td", "admin"},
    "POST /agents/<agent_id>/enable": {"td", "admin"},
    "GET /farm/history": USERS,
    "GET /jobs/<int:job_id>/kept-off": USERS,
    "DELETE /jobs/<int:job_id>/kept-off/<agent_id>": {"td", "admin"},
    "POST /agents/<agent_id>/heartbeat": AGENT_ADMIN,
    "POST /agents/<agent_id>/lease": AGENT_ADMIN,
    "GET /agents/protocol": AGENT_ADMIN,
    "POST /agents/<agent_id>/updates": AGENT_ADMIN,
    "POST /agents/<agent_id>/tasks/<int:task_id>/progress": AGENT_ADMIN,
    "POST /agents/<agent_id>/tasks/<int:task_id>/log": AGENT_ADMIN,
    "POST /agents/<agent_id>/tasks/<int:task_id>/complete": AGENT_ADMIN,
    "POST /agents/<agent_id>/tasks/<int:task_id>/fail": AGENT_ADMIN,
    "POST /storage/upload": USERS,
    "GET /storage/upload/<upload_id>": {"artist"},
    "PUT /storage/upload/<upload_id>": {"artist"},
    "POST /storage/upload/<upload_id>/complete": {"artist"},
    "GET /storage/usage": USERS,
    "GET /storage/download/<file_id>": OWNER_TD_ADMIN,
    "DELETE /storage/<file_id>": {"artist", "admin"},
    "POST /storage/<file_id>/restore": {"artist", "admin"},
    "GET /monitoring/metrics": USERS,
    "GET /logging/logs": {"td", "admin"},
    "GET /jobs/<int:job_id>/data": USERS,
    "GET /audit": {"td", "producer", "admin"},
    "GET /agents/<agent_id>/tasks/<int:task_id>/data": AGENT_ADMIN,
    "GET /resources": USERS,
    "POST /resources/scale": {"admin"},
    "GET /cloud/spend": {"td", "producer", "admin"},
    "PUT /shows/<project>/budget": {"producer", "admin"},
    "GET /jobs/<int:job_id>/route": USERS,
    "GET /backups": {"admin"},
    "GET /limits": USERS,
    "PUT /limits/<name>": {"td", "admin"},
    "DELETE /limits/<name>": {"td", "admin"},
    "POST /webhooks": USERS,
    "GET /webhooks": USERS,
    "GET /webhooks/<int:webhook_id>": USERS,
    "DELETE /webhooks/<int:webhook_id>": USERS,
    "POST /snapshots": USERS,
    "GET /snapshots": USERS,
    "GET /snapshots/<int:snapshot_id>": USERS,
    "DELETE /snapshots/<int:snapshot_id>": USERS,
    "DELETE /snapshots/schedules/<int:session_id>": USERS,
    "GET /sessions/profiles": USERS,
    "POST /sessions": USERS,
    "GET /sessions": USERS,
    "GET /sessions/<int:session_id>": USERS,
    "DELETE /sessions/<int:session_id>": USERS,
    "POST /sessions/<int:session_id>/desktop/report": EVERYONE,
    "POST /sessions/<int:session_id>/desktop/redeem": EVERYONE,
    "GET /users/<int:user_id>/sessions": {"td", "admin"},
    "GET /audit/desktops": {"td", "producer", "admin"},
    "GET /projects/<project>/members": USERS,
    "PUT /projects/<project>/members": {"admin"},
}


def _login_body(world: World, caller: str) -> dict[str, Any]:
    from common.accounts import Role, UserCreate

    world.services.users.create(UserCreate(name="pat", role=Role.ARTIST, password=PASSWORD))
    return {"username": "pat", "password": PASSWORD}


def _refresh_body(world: World, caller: str) -> dict[str, Any]:
    from common.accounts import LoginRequest

    _login_body(world, caller)
    pair = world.services.auth.login(LoginRequest(username="pat", password=PASSWORD), "test")
    return {"refresh_token": pair.refresh_token}


def _resume(world: World, caller: str) -> None:
    world.services.jobs.pause(world.job_id)


def _restore(world: World, caller: str) -> None:
    world.services.users.delete(world.user_id)


def _job(world: World, caller: str) -> dict[str, Any]:
    return {"name": "n", "owner": NAMES.get(caller, "ana"), "project": "show",
            "scene": "/p/s.blend", "frames": "1-2", "output": "/r/g_####"}  # fmt: skip


def _upload(world: World, caller: str) -> None:
    world.extra["upload_id"] = start_upload(world.services, "ana", "show/up.bin", 64).id


def _upload_part(world: World, caller: str) -> dict[str, Any]:
    payload = {"part": 1}  # the test client sends it as JSON: those bytes are the part
    size = len(world.app.json.dumps(payload).encode())
    world.extra["upload_id"] = start_upload(world.services, "ana", "show/up.bin", size).id
    return payload


def _upload_done(world: World, caller: str) -> dict[str, Any]:
    _upload(world, caller)
    world.services.files.write_part(world.extra["upload_id"], 0, b"x" * 64, person("ana"))
    return {"checksum": hashlib.sha256(b"x" * 64).hexdigest()}


def _staged(world: World, caller: str) -> None:
    from daemon.storage import data as data_store

    with world.services.context.database.transaction() as db:
        data_store.insert_pending(db, world.job_id, 0.0)
        data_store.claim_pending(db, world.job_id, 0.0)
        data_store.record_manifest(db, world.job_id, '{"entries": []}', 0, 0, 0.0)
        data_store.mark_staged(
            db, world.job_id, blobs_sent=0, bytes_sent=0, destination="s3://x/y", now=0.0
        )


def _routed(world: World, caller: str) -> None:
    from daemon.storage import cloud as cloud_store

    with world.services.context.database.transaction() as db:
        cloud_store.replace_routes(db, [(world.job_id, "on-time", 0, 1, 0.0, "{}", "on time", 0.0)])


def _limit_named(world: World, caller: str) -> dict[str, Any]:
    world.extra["name"] = "maya"
    return {"capacity": 20}


def _limit_set(world: World, caller: str) -> None:
    from common.models import LimitChange

    world.extra["name"] = "maya"
    world.services.limits.put("maya", LimitChange(capacity=20), "tess")


def _stored(world: World, caller: str) -> None:
    world.extra["file_id"] = store_file(world.services, "ana", "show/f.bin", b"frame").id


def _deleted(world: World, caller: str) -> None:
    _stored(world, caller)
    world.services.files.delete(world.extra["file_id"], person("ana"))


def _kept_off(world: World, caller: str) -> None:
    from daemon.storage import node_failures as node_store

    with world.services.context.database.transaction() as db:
        node_store.count_failure(db, world.job_id, world.agent_id, "boom", 0.0, keep_off_at=1)


def _task_queued(world: World, caller: str) -> None:
    world.services.task_control.act(world.job_id, world.task_id, TaskAction.REQUEUE)


def _task_suspended(world: World, caller: str) -> None:
    _task_queued(world, caller)
    world.services.task_control.act(world.job_id, world.task_id, TaskAction.SUSPEND)


def _job_ended(world: World, caller: str) -> None:
    world.services.jobs.cancel(world.job_id)


def _job_archived(world: World, caller: str) -> None:
    _job_ended(world, caller)
    world.services.job_records.archive(world.job_id)


def _webhook(world: World, caller: str) -> None:
    """A webhook of the caller's own (of ana's for callers who are not people)."""
    from common.models import WebhookCreate, WebhookEvent
    from daemon.auth.principal import Principal

    name = NAMES.get(caller, "ana")
    user = next(u for u in world.services.users.list_users() if u.name == name)
    owner = Principal(kind="user", name=name, role=user.role, user_id=user.id)
    create = WebhookCreate(url="https://93.184.216.34/hook", events=[WebhookEvent.JOB_FAILED])
    world.extra["webhook_id"] = world.services.webhooks.add(create, owner).id


def _desktop_session(world: World, caller: str) -> dict[str, Any]:
    """A running session of the caller's on the world's in-memory cloud (ana's for callers who
    are not people)."""
    from tests.daemon.desktops.memory_backend import MemoryDesktops
    from tests.daemon.desktops.snapshot_helpers import start_session

    backend = world.services.desktop_backend
    assert isinstance(backend, MemoryDesktops)
    session = start_session(world.services, backend, NAMES.get(caller, "ana"))
    return {"session_id": session["id"]}


def _desktop_snapshot(world: World, caller: str) -> None:
    """A snapshot of the caller's session."""
    from common.models import SnapshotCreate
    from daemon.auth.principal import Principal

    body = _desktop_session(world, caller)
    name = NAMES.get(caller, "ana")
    user = next(u for u in world.services.users.list_users() if u.name == name)
    owner = Principal(kind="user", name=name, role=user.role, user_id=user.id)
    world.extra["snapshot_id"] = world.services.snapshots.create(
        SnapshotCreate(session_id=body["session_id"]), owner
    ).id


def _shotgrid(world: World, caller: str) -> None:
    """A ShotGrid site (Mockgun) with project alpha, its shot sh010 and a task, for the lists."""
    from common.config import ShotGridSettings
    from daemon.services.shotgrid_choices import ShotGridChoicesService
    from daemon.shotgun.client import ShotGridClient
    from tests.conftest import FakeClock
    from tests.daemon.shotgrid_site import BUILT, make_site

    folder = world.services.context.settings.data_dir / "sg-schema"
    site = make_site(BUILT, folder, FakeClock())
    shot = site.shot(site.project("alpha"), "sh010")
    site.task(shot, "lighting")
    settings = ShotGridSettings(
        site="https://studio.shotgrid.example", script_name="cloudburst", script_key="k"
    )
    world.services.shotgrid_choices = ShotGridChoicesService(
        world.services.context, ShotGridClient(settings, site.connect)
    )
    world.extra["sg_query"] = f"?project=alpha&entity_type=Shot&entity_id={shot['id']}"


def _shotgrid_shot(world: World, caller: str) -> None:
    """The site of ``_shotgrid``, asked for its shot sh010 of project alpha."""
    _shotgrid(world, caller)
    world.extra["query"] = world.extra.pop("sg_query")


def _session(world: World, caller: str) -> None:
    """A launched session of the caller's own (of ana's for callers who are not people)."""
    from common.models import SessionCreate
    from daemon.auth.principal import Principal

    name = NAMES.get(caller, "ana")
    user = next(u for u in world.services.users.list_users() if u.name == name)
    owner = Principal(kind="user", name=name, role=user.role, user_id=user.id)
    world.extra["owner"] = owner
    world.extra["session_id"] = world.services.sessions.create(
        SessionCreate(profile="std"), owner
    ).id
    world.services.sessions.settle()


def _desktop(world: World, caller: str) -> None:
    """The session's desktop calls with its own secret, whoever the caller."""
    _session(world, caller)
    backend = world.services.desktop_backend
    world.extra["bearer"] = backend.launches[-1].secret  # type: ignore[union-attr]


def _desktop_ready(world: World, caller: str) -> None:
    """A ready session and a one-time token its user was given."""
    from common.models import DesktopReport

    _desktop(world, caller)
    session_id = world.extra["session_id"]
    report = DesktopReport(host="10.0.0.7", port=8443)
    world.services.sessions.broker.report(session_id, world.extra["bearer"], report)
    session = world.services.sessions.get(session_id, world.extra.pop("owner"))
    assert session.connection is not None
    world.extra["token"] = session.connection.token


Body = dict[str, Any] | Callable[[World, str], dict[str, Any]]

#: A body that makes each operation succeed when allowed (a callable may also prepare).
BODIES: dict[str, Body] = {
    "POST /auth/login": _login_body,
    "POST /auth/refresh": _refresh_body,
    "POST /auth/register": {"username": "newcomer", "password": "newcomer-pw-1"},
    "POST /auth/logout": {},
    "POST /users": {"name": "newbie", "role": "td", "password": "newbie-pw-12"},
    "PUT /users/<int:user_id>": {"role": "producer"},
    "POST /jobs": _job,
    "PUT /jobs/<int:job_id>/priority": {"priority": 90},
    "PUT /jobs/<int:job_id>/pin": {"pinned": True, "by": "pam"},
    "PUT /jobs/<int:job_id>/depends-on": {"depends_on": []},
    "POST /jobs/<int:job_id>/resubmit": {},
    "PUT /shows/<project>/hold": {"held": True, "by": "pam"},
    "PUT /shows/<project>/share": {"share": 3.0, "by": "pam"},
    "PUT /projects/<project>/confidential": {"confidential": True},
    "POST /agents": {"name": "node02", "hostname": "node02"},
    "POST /agents/<agent_id>/heartbeat": {"task_ids": []},
    "POST /agents/<agent_id>/updates": {"task_ids": [], "tasks": []},
    "PATCH /agents/<agent_id>": {"pool": "lighting", "suspect": False},
    "POST /agents/<agent_id>/tasks/<int:task_id>/progress": {"attempt": 1, "progress": 0.5},
    "POST /agents/<agent_id>/tasks/<int:task_id>/log": {"attempt": 1, "offset": 0, "text": "x"},
    "POST /agents/<agent_id>/tasks/<int:task_id>/complete": {"attempt": 1, "outputs": []},
    "POST /agents/<agent_id>/tasks/<int:task_id>/fail": {"attempt": 1, "error": "boom"},
    "POST /storage/upload": {"path": "show/new.bin", "size": 3},
    "POST /resources/scale": {"count": 1},
    "PUT /shows/<project>/budget": {"budget": 100.0},
    "PUT /limits/<name>": _limit_named,
    "PUT /storage/upload/<upload_id>": _upload_part,
    "POST /storage/upload/<upload_id>/complete": _upload_done,
    "POST /webhooks": {"url": "https://93.184.216.34/hook", "events": ["job.succeeded"]},
    "POST /snapshots": _desktop_session,
    "POST /sessions": {"profile": "std"},
    "POST /sessions/<int:session_id>/desktop/report": {"host": "10.0.0.7", "port": 8443},
    "POST /sessions/<int:session_id>/desktop/redeem": lambda world, caller: {
        "token": world.extra.pop("token")
    },
    "PUT /projects/<project>/members": {"members": ["ana"]},
}

PREPARE: dict[str, Callable[[World, str], None]] = {
    "POST /jobs/<int:job_id>/resume": _resume,
    "POST /jobs/<int:job_id>/retry": lambda world, caller: fail_the_task(world),
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/retry": lambda world, caller: fail_the_task(world),
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/suspend": _task_queued,
    "POST /jobs/<int:job_id>/tasks/<int:task_id>/resume": _task_suspended,
    "POST /jobs/<int:job_id>/archive": _job_ended,
    "POST /jobs/<int:job_id>/unarchive": _job_archived,
    "DELETE /jobs/<int:job_id>/record": _job_ended,
    "POST /users/<int:user_id>/restore": _restore,
    "GET /jobs/<int:job_id>/outputs.zip": lambda world, caller: render_frames(world),
    "GET /jobs/<int:job_id>/thumbnail": lambda world, caller: render_frames(world),
    "GET /storage/upload/<upload_id>": _upload,
    "GET /storage/download/<file_id>": _stored,
    "DELETE /storage/<file_id>": _stored,
    "POST /storage/<file_id>/restore": _deleted,
    "DELETE /limits/<name>": _limit_set,
    "GET /agents/<agent_id>/tasks/<int:task_id>/data": _staged,
    "GET /jobs/<int:job_id>/route": _routed,
    "DELETE /jobs/<int:job_id>/kept-off/<agent_id>": _kept_off,
    "GET /webhooks/<int:webhook_id>": _webhook,
    "DELETE /webhooks/<int:webhook_id>": _webhook,
    "GET /snapshots/<int:snapshot_id>": _desktop_snapshot,
    "DELETE /snapshots/<int:snapshot_id>": _desktop_snapshot,
    "DELETE /snapshots/schedules/<int:session_id>": _session,
    "GET /shotgrid/projects": _shotgrid,
    "GET /shotgrid/shots": _shotgrid_shot,
    "GET /shotgrid/assets": _shotgrid_shot,
    "GET /shotgrid/tasks": _shotgrid_shot,
    "GET /sessions/<int:session_id>": _session,
    "DELETE /sessions/<int:session_id>": _session,
    "POST /sessions/<int:session_id>/desktop/report": _desktop,
    "POST /sessions/<int:session_id>/desktop/redeem": _desktop_ready,
}


def operations() -> list[Operation]:
    return [op for bp in BLUEPRINTS for op in bp.operations]


def key(op: Operation) -> str:
    return f"{op.method} {op.path}"


def url(op: Operation, world: World) -> str:
    path = op.path
    for name, value in {**world.path_params(), **world.extra}.items():
        path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return PREFIX + path + str(world.extra.get("query", ""))


def test_every_operation_declares_a_permission() -> None:
    undeclared = [key(op) for op in operations() if op.permission is None]
    assert undeclared == []
    public = sorted(key(op) for op in operations() if op.permission is Permission.PUBLIC)
    assert public == [
        "GET /health", "GET /openapi.json", "POST /auth/login", "POST /auth/refresh",
        "POST /auth/register", "POST /sessions/<int:session_id>/desktop/redeem",
        "POST /sessions/<int:session_id>/desktop/report",
    ]  # fmt: skip


def test_every_operation_has_an_expectation() -> None:
    assert sorted(key(op) for op in operations()) == sorted(ALLOWED)


@pytest.mark.parametrize("op", operations(), ids=key)
def test_who_may_call_what(op: Operation, tmp_path: Path) -> None:
    for caller in CALLERS:
        world = build_world(tmp_path / caller)
        prepare = PREPARE.get(key(op))
        if prepare is not None:
            prepare(world, caller)
        body = BODIES.get(key(op))
        payload = body(world, caller) if callable(body) else body
        if op.body is not None:
            assert payload is not None, f"add an example body for {key(op)} to BODIES"
        client = world.app.test_client()
        token = world.extra.pop("bearer", None) or world.tokens[caller]  # a desktop's secret
        world.extra.pop("owner", None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        before = snapshot(world.services)
        response = client.open(url(op, world), method=op.method, json=payload, headers=headers)
        what = f"{caller} {key(op)}: {response.status_code} {response.get_json(silent=True)}"
        if caller in ALLOWED[key(op)]:
            assert 200 <= response.status_code < 300, what
        else:
            expected = 401 if caller == "anonymous" else 403
            assert response.status_code == expected, what
            answer = response.get_json()
            assert answer["code"] == ("unauthenticated" if expected == 401 else "forbidden")
            assert answer["message"], what
            assert snapshot(world.services) == before, what


def test_the_api_document_names_the_scheme_and_each_operations_permission() -> None:
    from daemon.api.meta import committed_document

    document = committed_document()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["x-permission"], (method, path)
            assert operation["x-roles"], (method, path)
            public = operation["x-permission"] == "public"
            assert (operation["security"] == []) is public, (method, path)
            if not public:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
    pin = document["paths"]["/api/v1/jobs/{job_id}/pin"]["put"]
    assert pin["x-roles"] == ["producer", "admin"]
    cancel = document["paths"]["/api/v1/jobs/{job_id}"]["delete"]
    assert cancel["x-roles"] == ["td", "admin", "artist (own jobs)"]
