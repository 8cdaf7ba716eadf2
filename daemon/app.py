"""The Flask application factory."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from flask import Flask

from common.config import Settings, config_file
from daemon import api, web
from daemon.api import converters
from daemon.backends.desktops import DesktopBackend, configured_desktop_backend
from daemon.container import Services, attach
from daemon.context import Context
from daemon.services import AgentService, JobService, RankingService, Reaper
from daemon.services.agent_control import NodeControl
from daemon.services.agent_updates import AgentUpdateService
from daemon.services.auth import AuthService
from daemon.services.backup import BackupService
from daemon.services.burst import BurstService
from daemon.services.cloud_pool import BackendFactory, CloudPool
from daemon.services.data_plane import DataPlane, StoreFactory
from daemon.services.desktop_sessions import SessionService
from daemon.services.enrollment import EnrollmentService
from daemon.services.failures import FailureService
from daemon.services.farm import FarmService
from daemon.services.farm_history import FarmHistoryService
from daemon.services.files import FileService
from daemon.services.group_commit import GroupCommit
from daemon.services.homecoming import Homecoming
from daemon.services.idempotency import IdempotencyService
from daemon.services.idle_wait import IdleWait
from daemon.services.job_records import JobRecords
from daemon.services.limits import LimitService
from daemon.services.logs import LogService
from daemon.services.monitoring import MonitoringService
from daemon.services.node_fit import NodeFit
from daemon.services.notifications import Notifier
from daemon.services.outputs import OutputService
from daemon.services.projects import ProjectService
from daemon.services.resources import ResourceService
from daemon.services.shotgrid_choices import ShotGridChoicesService
from daemon.services.snapshots import SnapshotService
from daemon.services.staging import StagingService
from daemon.services.task_control import TaskControl
from daemon.services.users import UserService
from daemon.services.webhooks import WebhookService
from daemon.shotgun import ShotGridClient, ShotGridSync, WriteBack
from daemon.shotgun.client import Connect
from daemon.storage import Database, open_database


def build_services(
    settings: Settings,
    database: Database,
    clock: Callable[[], float] = time.time,
    shotgrid_connect: Connect | None = None,
    open_store: StoreFactory | None = None,
    cloud_backend: BackendFactory | None = None,
    desktop_backend: DesktopBackend | None = None,
) -> Services:
    """Wires the services, each built after those it uses (none is wired to another later);
    ``shotgrid_connect`` replaces shotgun_api3's connection, ``open_store`` the configured
    object store, ``cloud_backend`` the configured cloud backend and ``desktop_backend`` the
    configured desktop backend (tests)."""
    context = Context(database=database, settings=settings, clock=clock)
    client = (
        ShotGridClient(settings.shotgrid, shotgrid_connect)
        if settings.shotgrid.configured
        else None
    )
    ranking = RankingService(context)
    projects = ProjectService(context)
    plane = DataPlane(settings, open_store)
    staging = StagingService(context, plane)
    auth = AuthService(context)
    enrollment = EnrollmentService(context, auth.credentials)
    pool = CloudPool(context, enrollment, cloud_backend)
    jobs = JobService(context, ranking, client, projects, staging, fit=NodeFit(pool))
    burst = BurstService(context, pool, projects)
    failures = FailureService(context)
    group_commit = GroupCommit(database, settings.agents.commit_interval_s)
    agent_updates = AgentUpdateService(context, group_commit)
    agents = AgentService(
        context, jobs, agent_updates, lease_gate=burst if burst.enabled else None,
        failures=failures,
    )  # fmt: skip
    shotgrid = ShotGridSync(context, client, on_change=ranking.run_pass)
    farm_history = FarmHistoryService(context, burst.books)
    outputs = OutputService(context, jobs)
    desktops = desktop_backend or configured_desktop_backend(settings)
    snapshots = SnapshotService(context, desktops)
    sessions = SessionService(context, desktops, snapshots, projects)
    return Services(
        context=context,
        jobs=jobs,
        agents=agents,
        failures=failures,
        reaper=Reaper(context, jobs, group_commit),
        ranking=ranking,
        shotgrid=shotgrid,
        shotgrid_choices=ShotGridChoicesService(context, client),
        writeback=WriteBack(context, client),
        auth=auth,
        users=UserService(context, auth.credentials),
        projects=projects,
        enrollment=enrollment,
        farm=FarmService(context, agents, farm_history),
        node_control=NodeControl(context),
        farm_history=farm_history,
        files=FileService(context),
        outputs=outputs,
        task_control=TaskControl(context, jobs),
        job_records=JobRecords(context, jobs, thumbnails=outputs.cache_dir),
        monitoring=MonitoringService(context, shotgrid),
        logs=LogService(context),
        idempotency=IdempotencyService(context),
        staging=staging,
        homecoming=Homecoming(context, plane, jobs),
        pool=pool,
        burst=burst,
        resources=ResourceService(context, pool, sessions),
        backups=BackupService(settings, clock, config=config_file(os.environ)),
        limits=LimitService(context),
        webhooks=WebhookService(context),
        notifier=Notifier(context),
        group_commit=group_commit,
        agent_updates=agent_updates,
        idle_wait=IdleWait(context),
        desktop_backend=desktops,
        snapshots=snapshots,
        sessions=sessions,
    )


def create_app(
    settings: Settings,
    database: Database | None = None,
    clock: Callable[[], float] = time.time,
    shotgrid_connect: Connect | None = None,
    open_store: StoreFactory | None = None,
    cloud_backend: BackendFactory | None = None,
    desktop_backend: DesktopBackend | None = None,
) -> Flask:
    """A daemon app on ``settings.data_dir`` (or the given database)."""
    if database is None:
        database = open_database(settings.data_dir / "cloudburst.sqlite3")
    app = Flask("daemon")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # The dashboard's forms are small; each API operation sets its own limit (api/body.py).
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.small_body_bytes
    converters.init_app(app)  # before the blueprints: their <int:...> ids are bounded
    attach(
        app,
        build_services(
            settings, database, clock, shotgrid_connect, open_store, cloud_backend, desktop_backend
        ),
    )
    api.init_app(app)
    web.init_app(app)
    return app
