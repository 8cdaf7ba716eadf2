"""The farm page: every agent with what it has, runs and does, the buttons a TD presses on a
node (disable, drain, enable, clear its suspect mark), and the farm's charts.

Each button checks the CSRF token, then the API guard with the declared operation it stands for
(``AGENT_ACTIONS``), then calls the same service as the JSON API.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, render_template, url_for

from common.errors import CloudburstError
from common.models import AgentChange, AgentControl, AgentInfo
from daemon.api import agents as agents_api
from daemon.api.guard import authorize
from daemon.api.routing import Operation
from daemon.auth import Permission
from daemon.container import services
from daemon.web import session
from daemon.web.blueprint import bp, page
from daemon.web.charts import farm_charts

logger = logging.getLogger(__name__)

#: The API operations behind the node buttons: the same declarations the API guard checks.
AGENT_ACTIONS: dict[str, tuple[str, str]] = {
    "disable": ("POST", "/agents/<agent_id>/disable"),
    "drain": ("POST", "/agents/<agent_id>/drain"),
    "enable": ("POST", "/agents/<agent_id>/enable"),
    "clear-suspect": ("PATCH", "/agents/<agent_id>"),
}

#: The control each of those buttons sets.
CONTROLS: dict[str, AgentControl] = {"disable": "disabled", "drain": "drain", "enable": "enabled"}


def agent_operation(action: str) -> Operation:
    """The declared API operation a node button stands for."""
    method, path = AGENT_ACTIONS[action]
    return next(op for op in agents_api.bp.operations if (op.method, op.path) == (method, path))


def agent_buttons(agent: AgentInfo) -> list[str]:
    """The buttons the signed-in user may press on ``agent`` now (the guard's rule), in order."""
    who = session.principal()
    shown = []
    for action in AGENT_ACTIONS:
        permission = agent_operation(action).permission
        if permission is None or who.kind != "user" or not who.may(permission):
            continue
        if action == "clear-suspect" and not agent.suspect:
            continue
        if action in CONTROLS and CONTROLS[action] == agent.control:
            continue
        shown.append(action)
    return shown


def _farm_page(error: str = "", status: int = 200) -> Any:
    who = session.principal()
    farm = services().farm.view(with_spend=who.may(Permission.REPORTS_READ))
    page_html = render_template(
        "farm.html", agents=farm.agents, counts=farm.counts, charts=farm_charts(farm.history),
        history=farm.history, buttons=agent_buttons, error=error,
        spend_hidden=not who.may(Permission.REPORTS_READ),
    )  # fmt: skip
    return page_html, status


@bp.get("/farm")
@page(Permission.AGENTS_READ)
def farm() -> Any:
    return _farm_page()


@bp.post("/farm/agents/<agent_id>/<action>")
def agent_action(agent_id: str, action: str) -> Any:
    """One node button; the answer is the farm page again (303 after success)."""
    session.check_csrf()
    if action not in AGENT_ACTIONS:
        return render_template("error.html", title="Not found", message="No such action."), 404
    found = services()
    try:
        op = agent_operation(action)
        who = authorize(op.method, op.path, op.permission, op.owner_may, {"agent_id": agent_id})
        if action in CONTROLS:
            found.node_control.set(agent_id, CONTROLS[action], who.name)
        else:
            found.agents.change(agent_id, AgentChange(suspect=False), who.name)
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.farm")), 303)
        return _farm_page(exc.message, exc.status)
    logger.info("%s: %s on agent_id=%s from the dashboard", who.name, action, agent_id)
    return redirect(url_for("web.farm"), code=303)
