"""A small daemon of the agent protocol, version 3, 2 or the old one, served over real HTTP.

It speaks the agent routes of the shared contract (``/agents/protocol``, ``/updates``, and the
old heartbeat, progress, log, complete and fail calls), hands out the tasks a test queues, and
records every request in order. Each reply carries a field no agent knows yet, as a later
daemon's might: the agent must read past it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel

from common.models import (
    AgentRegistration,
    AgentUpdate,
    Heartbeat,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from tests.serving import serve

FUTURE = {"a_field_from_a_later_daemon": {"nested": True}}


@dataclass(frozen=True)
class Call:
    kind: str
    """``register``, ``protocol``, ``lease``, ``heartbeat``, ``updates``, ``progress``, ``log``,
    ``complete`` or ``fail``."""
    agent_id: str
    body: Any
    task_id: int | None = None


@dataclass
class FakeDaemon:
    """What the fake daemon does; a test changes it between requests."""

    version: int | None = 2
    """None: an old daemon (no ``/agents/protocol``). Before 3, a completion that asks for
    the next task is refused as such a daemon's closed model refuses a field it does not know."""
    old_status: int = 405
    """What an old daemon answers there: 405 (this branch's daemon: ``PATCH /agents/<id>``
    takes the path) or 404."""
    update_interval_s: float = 1.0
    max_log_chars: int = 65536
    poll_interval_s: float = 42.0
    tasks: list[TaskAssignment] = field(default_factory=list)
    cancel: set[int] = field(default_factory=set)
    updates_down: bool = False
    """Answer updates (and reports) with 503, as a daemon being restarted."""
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def of(self, *kinds: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.kind in kinds]

    def log_text(self, task_id: int) -> str:
        """The task's log as the daemon stored it: pieces appended by offset (resends
        harmless), from updates and from old log calls alike."""
        text = ""
        for call in self.of("updates", "log"):
            if call.kind == "log" and call.task_id == task_id:
                pieces = [(call.body.offset, call.body.text)]
            elif call.kind == "updates":
                pieces = [(p.offset, p.text) for t in call.body.tasks if t.task_id == task_id
                          for p in t.log]  # fmt: skip
            else:
                continue
            for offset, piece in pieces:
                assert offset <= len(text), f"a gap in the log at {offset}"
                text = text[:offset] + piece if offset + len(piece) > len(text) else text
        return text


def _ok(data: Any, status: int = 200) -> Response:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    if isinstance(data, dict):
        data = {**data, **FUTURE}
    response = jsonify({"data": data, "message": ""})
    response.status_code = status
    return response


def _error(code: str, status: int, message: str) -> Response:
    response = jsonify({"code": code, "message": message})
    response.status_code = status
    return response


def make_app(fake: FakeDaemon) -> Flask:
    app = Flask("fake-daemon")

    @app.post("/api/v1/agents")
    def register() -> Response:
        registration = AgentRegistration.model_validate(request.get_json(), strict=False)
        fake.record(Call("register", "", registration))
        return _ok({
            "id": "agent-1", "name": registration.name, "hostname": registration.hostname,
            "dccs": registration.dccs, "pool": registration.pool, "state": "idle",
            "last_seen": datetime.now(UTC).isoformat(), "heartbeat_interval_s": 1.0,
            "lease_ttl_s": 30.0,
        }, 201)  # fmt: skip

    @app.get("/api/v1/agents/protocol")
    def protocol() -> Response:
        fake.record(Call("protocol", "", None))
        if fake.version is None:
            code = {404: "not_found", 405: "method_not_allowed"}[fake.old_status]
            return _error(code, fake.old_status, "No such route here.")
        return _ok({"version": fake.version, "update_interval_s": fake.update_interval_s,
                    "max_log_chars_per_update": fake.max_log_chars})  # fmt: skip

    @app.post("/api/v1/agents/<agent_id>/lease")
    def lease(agent_id: str) -> Response:
        fake.record(Call("lease", agent_id, None))
        with fake.lock:
            task = fake.tasks.pop(0) if fake.tasks else None
        if task is None:
            response = Response(status=204)
            response.headers["X-Poll-Interval"] = f"{fake.poll_interval_s:g}"
            return response
        return _ok(task)

    @app.post("/api/v1/agents/<agent_id>/heartbeat")
    def heartbeat(agent_id: str) -> Response:
        beat = Heartbeat.model_validate(request.get_json(), strict=False)
        fake.record(Call("heartbeat", agent_id, beat))
        return _ok({"cancel": sorted(fake.cancel & set(beat.task_ids))})

    @app.post("/api/v1/agents/<agent_id>/updates")
    def updates(agent_id: str) -> Response:
        if fake.version is None:
            return _error("not_found", 404, "No such endpoint.")
        if fake.updates_down:
            return _error("service_unavailable", 503, "Restarting.")
        update = AgentUpdate.model_validate(request.get_json(), strict=False)
        fake.record(Call("updates", agent_id, update))
        named = set(update.task_ids) | {t.task_id for t in update.tasks}
        return _ok({"cancel": sorted(fake.cancel & named),
                    "update_interval_s": fake.update_interval_s})  # fmt: skip

    reports: dict[str, type[BaseModel]] = {
        "progress": TaskProgress, "log": TaskLogChunk, "complete": TaskDone, "fail": TaskFailure,
    }  # fmt: skip

    @app.post("/api/v1/agents/<agent_id>/tasks/<int:task_id>/<kind>")
    def report(agent_id: str, task_id: int, kind: str) -> Response:
        if fake.updates_down:
            return _error("service_unavailable", 503, "Restarting.")
        sent = request.get_json()
        if kind == "complete" and (fake.version or 1) < 3 and "lease_next" in sent:
            return _error("invalid_input", 400, "lease_next: Extra inputs are not permitted.")
        body = reports[kind].model_validate(sent, strict=False)
        fake.record(Call(kind, agent_id, body, task_id))
        if kind != "complete" or (fake.version or 1) < 3:
            return _ok(None)
        with fake.lock:
            following = fake.tasks.pop(0) if body.lease_next and fake.tasks else None
        return _ok({"next": following.model_dump(mode="json") if following else None})

    return app


@contextmanager
def running(fake: FakeDaemon) -> Iterator[str]:
    """The fake daemon over real HTTP on 127.0.0.1; yields its URL."""
    with serve(make_app(fake), threads=4) as url:
        yield url
