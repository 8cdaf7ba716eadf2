"""The agents' fast address (``[agents] fast_bind``): the four calls a busy farm makes most,
served without Flask by an ASGI server (uvicorn with httptools, ``daemon.fast_server``).

``POST /api/v1/agents/<agent_id>/updates``, ``.../lease``, ``.../tasks/<task_id>/complete``
and ``.../fail`` answer here exactly what the Flask routes answer (``daemon.api.agents``): the
operation's own declaration gives the permission, the body model and the body limit; the
caller is signed in and checked by the same guard (``guard.admit``: an agent token reaches only
its own agent id); the same services do the work; errors become the same envelope
(``errors.answer_error``). What costs a Flask request its time (the request context, routing
through every rule, the response object) is left out, not a rule.

Updates (most of a farm's calls) are answered on the event loop's thread; leases, completions
and failures, which write to SQLite and may wait for its lock, on a thread of a small pool, so
a slow write never stalls the loop.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from common.models import MAX_INTEGER
from daemon.api import agents
from daemon.api.body import too_large
from daemon.api.converters import at_most
from daemon.api.errors import METHOD_NOT_ALLOWED, NOT_FOUND, ErrorAnswer, answer_error
from daemon.api.guard import admit
from daemon.api.routing import Operation, envelope_text
from daemon.container import Services

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PATH = re.compile(
    rf"/api/v1/agents/(?P<agent_id>[^/]+)/"
    rf"(?:(?P<call>lease|updates)|tasks/(?P<task_id>{at_most(MAX_INTEGER)})/(?P<report>complete|fail))"
)
_NOT_ALLOWED = replace(METHOD_NOT_ALLOWED, headers={"Allow": "POST"})


def _operation(path: str) -> Operation:
    """The Flask route's own declaration of ``path`` (``POST``)."""
    return next(op for op in agents.bp.operations if op.method == "POST" and op.path == path)


OPERATIONS = {
    "updates": _operation("/agents/<agent_id>/updates"),
    "lease": _operation("/agents/<agent_id>/lease"),
    "complete": _operation("/agents/<agent_id>/tasks/<int:task_id>/complete"),
    "fail": _operation("/agents/<agent_id>/tasks/<int:task_id>/fail"),
}
"""The operations served here, by the last part of their path."""

INLINE = frozenset({"updates"})
"""Operations answered on the event loop's own thread: an update only reads (the sign-in, the
tasks the agent holds), appends to log files and adds its writes to the group commit's batch,
which never waits for a transaction; handing it to a thread cost more than the update itself
(docs/performance.md). Leases, completions and failures are write transactions that may wait
for SQLite's lock: they run on the pool."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Call:
    """One request to the fast address, read from the wire."""

    name: str
    """A key of ``OPERATIONS``."""
    agent_id: str
    task_id: int | None
    authorization: str | None
    remote: str | None
    path: str
    body: bytes


class FastAgentApi:
    """The ASGI application of the fast address, over one process's ``Services``."""

    def __init__(self, found: Services, threads: int) -> None:
        self.services = found
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fast-agents")

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            answer = await self._serve(scope, receive)
        except _ClientGone:
            return  # nobody to answer; a part of a body is never taken for the whole
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    *(
                        ()
                        if answer.status == 204
                        else ((b"content-length", b"%d" % len(answer.body)),)
                    ),
                    (b"x-content-type-options", b"nosniff"),
                    *((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _serve(self, scope: Scope, receive: Receive) -> Answer:
        path: str = scope["path"]
        found = _PATH.fullmatch(path)
        if found is None:
            return _error(NOT_FOUND)
        if scope["method"] != "POST":
            return _error(_NOT_ALLOWED)
        name = found["call"] or found["report"]
        op = OPERATIONS[name]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = op.body_size.limit(self.services.context.settings)
        length = _length(headers.get("content-length"))
        if length is not None and length > limit:  # before anyone is signed in or anything read
            return _error(answer_error(too_large(op.body_size, limit, length)))
        body, over = await _read(receive, limit)
        if over:  # as waitress, which reads a body without a length whole before the app
            return _error(answer_error(too_large(op.body_size, limit, None)))
        client = scope.get("client")
        call = Call(
            name=name, agent_id=found["agent_id"],
            task_id=int(found["task_id"]) if found["task_id"] is not None else None,
            authorization=headers.get("authorization"),
            remote=client[0] if client else None, path=path, body=body,
        )  # fmt: skip
        if name in INLINE:
            return self.answer(call)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.answer, call)

    def answer(self, call: Call) -> Answer:
        """What the Flask route answers to ``call`` (on a thread of the pool: it reads and
        writes the database)."""
        op = OPERATIONS[call.name]
        found = self.services
        try:
            admit(
                found, call.authorization, op.method, call.path, call.remote, op.permission,
                op.owner_may, {"agent_id": call.agent_id},
            )  # fmt: skip
            body = op.body.model_validate_json(call.body or b"{}") if op.body else None
            result = _SERVICES[call.name](found, call, body)
            if result is None and call.name == "lease":
                return Answer(204, headers=agents.no_task_headers(found))
        except Exception as exc:
            return _error(answer_error(exc))
        data = result.model_dump_json() if result is not None else "null"
        text = envelope_text(data, "OK.").encode()
        return Answer(op.status, text, (("Content-Type", "application/json"),))


def _lease(found: Services, call: Call, body: Any) -> BaseModel | None:
    return found.agents.lease(call.agent_id)


def _updates(found: Services, call: Call, body: Any) -> BaseModel | None:
    return found.agent_updates.update(call.agent_id, body)


def _complete(found: Services, call: Call, body: Any) -> BaseModel | None:
    assert call.task_id is not None
    return found.agents.complete(call.agent_id, call.task_id, body)


def _fail(found: Services, call: Call, body: Any) -> BaseModel | None:
    assert call.task_id is not None
    found.agents.fail(call.agent_id, call.task_id, body)
    return None


_SERVICES: dict[str, Callable[[Services, Call, Any], BaseModel | None]] = {
    "lease": _lease, "updates": _updates, "complete": _complete, "fail": _fail,
}  # fmt: skip
"""The service each operation calls, as its Flask view does (``daemon.api.agents``)."""


def _error(answer: ErrorAnswer) -> Answer:
    text = (json.dumps(answer.body(), separators=(",", ":")) + "\n").encode()
    headers = (("Content-Type", "application/json"), *answer.headers.items())
    return Answer(answer.status, text, headers)


def _length(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class _ClientGone(Exception):
    """The client went away before its request's body was whole."""


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request's body, up to ``limit`` bytes; and whether it ran past them (the rest is
    left unread).

    Raises:
        _ClientGone: the client disconnected before the body's end.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts), False
