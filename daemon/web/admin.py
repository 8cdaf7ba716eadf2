"""The farm page (every agent, what it runs) and the users page for admins."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, url_for

from common.accounts import UserUpdate
from common.errors import CloudburstError
from daemon.api.guard import authorize
from daemon.auth import Permission
from daemon.storage.dashboard import running_by_agent
from daemon.web import session
from daemon.web.blueprint import bp, page

USER_ACTIONS = ("approve", "deactivate", "restore")


@bp.get("/farm")
@page(Permission.AGENTS_READ)
def farm() -> Any:
    services = current_app.extensions["cloudburst"]
    agents = services.agents.list_agents()
    running = running_by_agent(services.context.database.db)
    counts: dict[str, int] = {}
    for agent in agents:
        counts[agent.state] = counts.get(agent.state, 0) + 1
    return render_template("farm.html", agents=agents, running=running, counts=counts)


def _users_page(error: str = "", status: int = 200) -> Any:
    users = current_app.extensions["cloudburst"].users.list_users(include_deleted=True)
    return render_template("users.html", users=users, error=error), status


@bp.get("/users")
@page(Permission.USERS_MANAGE)
def users() -> Any:
    return _users_page()


@bp.post("/users/<int:user_id>/<action>")
def user_action(user_id: int, action: str) -> Any:
    """Approve (activate), deactivate or restore an account; admins only, as in the API."""
    session.check_csrf()
    if action not in USER_ACTIONS:
        return render_template("error.html", title="Not found", message="No such action."), 404
    service = current_app.extensions["cloudburst"].users
    path = "/users/<int:user_id>/restore" if action == "restore" else "/users/<int:user_id>"
    try:
        authorize("POST", path, Permission.USERS_MANAGE, False, {"user_id": user_id})
        if action == "restore":
            service.restore(user_id)
        else:
            service.update(user_id, UserUpdate(active=action == "approve"))
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.users")), 303)
        return _users_page(exc.message, exc.status)
    return redirect(url_for("web.users"), code=303)
