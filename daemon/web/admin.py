"""The users page for admins (the farm page is ``farm.py``)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for

from common.accounts import UserUpdate
from common.errors import CloudburstError
from daemon.api.guard import authorize
from daemon.auth import Permission
from daemon.container import services
from daemon.web import session
from daemon.web.blueprint import bp, page

USER_ACTIONS = ("approve", "deactivate", "restore")


def _users_page(error: str = "", status: int = 200) -> Any:
    users = services().users.list_users(include_deleted=True)
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
    service = services().users
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
