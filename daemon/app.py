"""The Flask application factory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from common.config import Settings
from daemon import api
from daemon.services import AgentService, Context, JobService, Reaper
from daemon.storage import Database, open_database


@dataclass
class Services:
    """The daemon's services, reachable from views as ``app.extensions["cloudburst"]``."""

    context: Context
    jobs: JobService
    agents: AgentService
    reaper: Reaper
    poll: float
    """Seconds an idle agent should wait before asking again."""


def build_services(
    settings: Settings, database: Database, clock: Callable[[], float] = time.time
) -> Services:
    context = Context(database=database, settings=settings, clock=clock)
    jobs = JobService(context)
    return Services(
        context=context,
        jobs=jobs,
        agents=AgentService(context, jobs),
        reaper=Reaper(context, jobs),
        poll=settings.poll_interval_s,
    )


def create_app(
    settings: Settings,
    database: Database | None = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """A daemon app on ``settings.data_dir`` (or the given database)."""
    if database is None:
        database = open_database(settings.data_dir / "cloudburst.sqlite3")
    app = Flask("daemon")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["cloudburst"] = build_services(settings, database, clock)
    api.init_app(app)
    return app
