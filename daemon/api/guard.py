"""The one place that decides whether the caller may run an operation (401/403, logged)."""

from __future__ import annotations

import logging
from typing import Any

from flask import g, request

from common.errors import Forbidden, Unauthenticated
from daemon.auth import Permission, Principal
from daemon.container import Services, services

logger = logging.getLogger(__name__)


def current_principal() -> Principal:
    """Who is calling (set by ``authorize`` before the view runs)."""
    principal: Principal = g.principal
    return principal


def authorize(
    method: str, path: str, permission: Permission | None, owner_may: bool, params: dict[str, Any]
) -> Principal:
    """Authenticates the request and checks ``permission``.

    Raises:
        Unauthenticated: a bad token, or none where one is needed (401).
        Forbidden: the caller is known but lacks the permission (403).
    """
    principal = admit(
        services(), request.headers.get("Authorization"), method, request.path,
        request.remote_addr, permission, owner_may, params,
    )  # fmt: skip
    g.principal = principal
    return principal


def admit(
    found: Services,
    authorization: str | None,
    method: str,
    path: str,
    remote: str | None,
    permission: Permission | None,
    owner_may: bool,
    params: dict[str, Any],
) -> Principal:
    """Who sends ``authorization``, when they may run the operation; any server's request
    (``authorize`` for Flask's, ``daemon.api.fast`` for the agents' fast address).

    Raises:
        Unauthenticated: a bad token, or none where one is needed (401).
        Forbidden: the caller is known but lacks the permission (403).
    """
    try:
        principal: Principal = found.auth.authenticate(authorization)
        _check(found, principal, permission, owner_may, params)
    except (Unauthenticated, Forbidden) as exc:
        logger.warning("denied %s %s from %s: %s", method, path, remote, exc.message)
        raise
    return principal


def _check(
    found: Services,
    principal: Principal,
    permission: Permission | None,
    owner_may: bool,
    params: dict[str, Any],
) -> None:
    if permission is None:  # an operation declared without one is closed, never open
        raise Forbidden("This operation declares no permission; nobody may call it.")
    if permission in (Permission.PUBLIC, Permission.AGENTS_ENROLL):
        return  # enrollment: the service checks the token, the agent or the role
    if principal.kind == "anonymous":
        raise Unauthenticated(
            "Sign in first (`cloudburst login`, or POST /api/v1/auth/login) and send the access "
            "token as 'Authorization: Bearer <token>'."
        )
    if permission is Permission.AGENT_PROTOCOL:
        if principal.kind == "agent":  # an operation naming no agent answers every agent
            if "agent_id" in params and params["agent_id"] != principal.agent_id:
                raise Forbidden(
                    f"This token belongs to agent {principal.agent_id}; it cannot act as agent "
                    f"{params.get('agent_id')}."
                )
            return
        if principal.may(Permission.AGENT_PROTOCOL):
            return
        raise Forbidden("Only agents (and admins) speak the agent protocol.")
    if principal.kind == "agent":
        raise Forbidden("An agent token reaches only the agent protocol.")
    if principal.may(permission):
        return
    if owner_may and "job_id" in params:
        if found.jobs.owner_of(params["job_id"]) == principal.name:
            return
        raise Forbidden(
            f"Job {params['job_id']} is not yours; as {principal.role} you can change only "
            f"your own jobs ({permission} on others' needs a TD, producer or admin)."
        )
    raise Forbidden(f"Your role ({principal.role}) does not allow this; it needs {permission}.")
