"""``/api/v1/agents``: the agent protocol. 204 means "no task now", 409 "stop, not yours"."""

from __future__ import annotations

from flask import Response, request

from common.accounts import EnrollmentToken
from common.errors import InvalidInput, NotFound, OutputNotAllowed, TaskNotYours, Unauthenticated
from common.models import (
    POLL_INTERVAL_HEADER,
    AgentChange,
    AgentInfo,
    AgentProtocol,
    AgentRegistration,
    AgentUpdate,
    AgentUpdateReply,
    CompletionReply,
    Heartbeat,
    HeartbeatReply,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import Services, services
from daemon.server_options import announced_fast_url
from daemon.services import AgentService

bp = ApiBlueprint("agents", __name__, tag="agents")


def agents() -> AgentService:
    return services().agents


@bp.operation(
    "POST", "/agents",
    "Register an agent: with a one-time enrollment token (the answer holds the agent's token), "
    "again with its own token, or by a TD/admin",
    body=AgentRegistration, returns=AgentInfo, status=201, errors=(InvalidInput, Unauthenticated),
    permission=Permission.AGENTS_ENROLL,
)  # fmt: skip
def register(body: AgentRegistration) -> AgentInfo:
    return services().enrollment.register(body, current_principal())


@bp.operation(
    "POST", "/agents/enrollment-tokens", "Mint a one-time token an agent registers with",
    returns=EnrollmentToken, status=201, permission=Permission.AGENTS_MANAGE,
)  # fmt: skip
def enrollment_token() -> EnrollmentToken:
    return services().enrollment.mint(current_principal().name)


@bp.operation(
    "GET", "/agents", "List agents", returns=AgentInfo, returns_list=True,
    permission=Permission.AGENTS_READ,
)  # fmt: skip
def list_agents() -> list[AgentInfo]:
    return agents().list_agents()


@bp.operation(
    "PATCH", "/agents/<agent_id>",
    "Set a node's pool and tags (they outlive its registrations), or clear its suspect mark "
    "(suspect=false) so it leases again",
    body=AgentChange, returns=AgentInfo, errors=(InvalidInput, NotFound),
    permission=Permission.AGENTS_MANAGE,
)  # fmt: skip
def change_agent(agent_id: str, body: AgentChange) -> AgentInfo:
    return agents().change(agent_id, body, current_principal().name)


@bp.operation(
    "POST", "/agents/<agent_id>/disable",
    "Disable a node: it leases nothing new (what it runs goes on) until enabled",
    returns=AgentInfo, errors=(NotFound,), permission=Permission.AGENTS_MANAGE,
)  # fmt: skip
def disable_agent(agent_id: str) -> AgentInfo:
    return services().node_control.set(agent_id, "disabled", current_principal().name)


@bp.operation(
    "POST", "/agents/<agent_id>/drain",
    "Drain a node: it finishes what it runs, then leases nothing (draining, then drained)",
    returns=AgentInfo, errors=(NotFound,), permission=Permission.AGENTS_MANAGE,
)  # fmt: skip
def drain_agent(agent_id: str) -> AgentInfo:
    return services().node_control.set(agent_id, "drain", current_principal().name)


@bp.operation(
    "POST", "/agents/<agent_id>/enable", "Enable a disabled or drained node: it leases again",
    returns=AgentInfo, errors=(NotFound,), permission=Permission.AGENTS_MANAGE,
)  # fmt: skip
def enable_agent(agent_id: str) -> AgentInfo:
    return services().node_control.set(agent_id, "enabled", current_principal().name)


@bp.operation(
    "POST", "/agents/<agent_id>/heartbeat", "Renew leases; learn which tasks to stop",
    body=Heartbeat, returns=HeartbeatReply, errors=(NotFound,),
    permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def heartbeat(agent_id: str, body: Heartbeat) -> HeartbeatReply:
    return agents().heartbeat(agent_id, body)


@bp.operation(
    "GET", "/agents/protocol",
    "The agent protocol this daemon speaks (2: updates), and how often to send an update; "
    "a daemon without this route speaks protocol 1 (heartbeat, progress and log calls)",
    returns=AgentProtocol, permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def protocol() -> AgentProtocol:
    fast_bind = services().context.settings.agents.fast_bind
    return services().agent_updates.protocol(announced_fast_url(fast_bind, request.host))


@bp.operation(
    "POST", "/agents/<agent_id>/updates",
    "Renew leases and report each task's progress and log lines since the last update; "
    "learn which tasks to stop (a task no longer yours is in cancel, never an error)",
    body=AgentUpdate, returns=AgentUpdateReply, errors=(InvalidInput, NotFound),
    permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def update(agent_id: str, body: AgentUpdate) -> AgentUpdateReply:
    return services().agent_updates.update(agent_id, body)


@bp.operation(
    "POST", "/agents/<agent_id>/lease", "Take the best task this agent can run",
    returns=TaskAssignment, errors=(NotFound,), permission=Permission.AGENT_PROTOCOL,
    extra_statuses={
        204: "No task now; poll again after the X-Poll-Interval seconds (longer as the "
        "farm grows)."
    },
)  # fmt: skip
def lease(agent_id: str) -> TaskAssignment | Response:
    assignment = agents().lease(agent_id)
    if assignment is None:
        return Response(status=204, headers=no_task_headers(services()))
    return assignment


def no_task_headers(found: Services) -> tuple[tuple[str, str], ...]:
    """The headers of a lease that found nothing (204): how long the agent waits before it
    asks again, longer as the farm grows (both servers answer with them)."""
    return ((POLL_INTERVAL_HEADER, str(found.idle_wait.seconds())),)


@bp.operation(
    "POST", "/agents/<agent_id>/tasks/<int:task_id>/progress", "Report progress",
    body=TaskProgress, errors=(NotFound, TaskNotYours), permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def progress(agent_id: str, task_id: int, body: TaskProgress) -> None:
    agents().progress(agent_id, task_id, body)


@bp.operation(
    "POST", "/agents/<agent_id>/tasks/<int:task_id>/log", "Append to the task's log",
    body=TaskLogChunk, errors=(NotFound, TaskNotYours), permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def append_log(agent_id: str, task_id: int, body: TaskLogChunk) -> None:
    agents().append_log(agent_id, task_id, body)


@bp.operation(
    "POST", "/agents/<agent_id>/tasks/<int:task_id>/complete",
    "Report a finished task; with lease_next, take the next task in the same call",
    body=TaskDone, returns=CompletionReply, errors=(NotFound, TaskNotYours, OutputNotAllowed),
    permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def complete(agent_id: str, task_id: int, body: TaskDone) -> CompletionReply:
    return agents().complete(agent_id, task_id, body)


@bp.operation(
    "POST", "/agents/<agent_id>/tasks/<int:task_id>/fail", "Report a failed task",
    body=TaskFailure, errors=(NotFound, TaskNotYours), permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def fail(agent_id: str, task_id: int, body: TaskFailure) -> None:
    agents().fail(agent_id, task_id, body)
