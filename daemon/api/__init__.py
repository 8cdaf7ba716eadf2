"""The HTTP layer: blueprints that translate requests to models and call one service each."""

from __future__ import annotations

from flask import Flask

from daemon.api import agents, auth, jobs, meta, projects, queue, shotgrid, users
from daemon.api.errors import register_error_handlers
from daemon.api.routing import ApiBlueprint

PREFIX = "/api/v1"
BLUEPRINTS: tuple[ApiBlueprint, ...] = (
    auth.bp,
    users.bp,
    jobs.bp,
    queue.bp,
    projects.bp,
    agents.bp,
    shotgrid.bp,
    meta.bp,
)


def init_app(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=PREFIX)
    register_error_handlers(app)
