"""The HTTP layer: blueprints that translate requests to models and call one service each."""

from __future__ import annotations

from flask import Flask

from daemon.api import (
    agents,
    auth,
    backups,
    data,
    headers,
    jobs,
    kept_off,
    limits,
    logging_api,
    meta,
    monitoring,
    outputs,
    projects,
    queue,
    resources,
    sessions,
    shotgrid,
    snapshots,
    storage_api,
    tasks,
    users,
    webhooks,
)
from daemon.api.errors import register_error_handlers
from daemon.api.routing import ApiBlueprint

PREFIX = "/api/v1"
BLUEPRINTS: tuple[ApiBlueprint, ...] = (
    auth.bp,
    users.bp,
    jobs.bp,
    tasks.bp,
    kept_off.bp,
    outputs.bp,
    queue.bp,
    projects.bp,
    agents.bp,
    shotgrid.bp,
    meta.bp,
    storage_api.bp,
    monitoring.bp,
    logging_api.bp,
    data.bp,
    resources.bp,
    backups.bp,
    limits.bp,
    webhooks.bp,
    snapshots.bp,
    sessions.bp,
)


def init_app(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=PREFIX)
    app.register_blueprint(monitoring.scrape_bp)  # /metrics, outside /api/v1
    register_error_handlers(app)
    headers.init_app(app)
