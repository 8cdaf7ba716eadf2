"""The daemon's services as one typed record, kept on the Flask app.

``daemon.app`` builds and attaches it; the API, the dashboard and the server reach it through
``services()`` (inside a request) or ``services_of(app)``, never by the extension's key.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from daemon.backends.desktops import DesktopBackend
from daemon.context import Context
from daemon.services import AgentService, JobService, RankingService, Reaper
from daemon.services.agent_control import NodeControl
from daemon.services.agent_updates import AgentUpdateService
from daemon.services.auth import AuthService
from daemon.services.backup import BackupService
from daemon.services.burst import BurstService
from daemon.services.cloud_pool import CloudPool
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
from daemon.shotgun import ShotGridSync, WriteBack

EXTENSION = "cloudburst"
"""The key of the services in ``Flask.extensions``."""


@dataclass
class Services:
    """The daemon's services, built once by ``daemon.app.build_services``."""

    context: Context
    jobs: JobService
    agents: AgentService
    failures: FailureService
    reaper: Reaper
    ranking: RankingService
    shotgrid: ShotGridSync
    shotgrid_choices: ShotGridChoicesService
    writeback: WriteBack
    auth: AuthService
    users: UserService
    projects: ProjectService
    enrollment: EnrollmentService
    farm: FarmService
    node_control: NodeControl
    farm_history: FarmHistoryService
    files: FileService
    outputs: OutputService
    task_control: TaskControl
    job_records: JobRecords
    monitoring: MonitoringService
    logs: LogService
    idempotency: IdempotencyService
    staging: StagingService
    homecoming: Homecoming
    pool: CloudPool
    burst: BurstService
    resources: ResourceService
    backups: BackupService
    limits: LimitService
    webhooks: WebhookService
    notifier: Notifier
    group_commit: GroupCommit
    """Agents' small writes, committed together (started and stopped by ``daemon.server``)."""
    agent_updates: AgentUpdateService
    idle_wait: IdleWait
    """Seconds an idle agent should wait before asking again."""
    desktop_backend: DesktopBackend | None
    """Where artists' desktops run (``[sessions] backend``); None: desktops are off."""
    snapshots: SnapshotService
    """Boot volume snapshots of desktop sessions, and their daily schedule."""
    sessions: SessionService
    """Artists' desktop sessions (and the broker their desktops call)."""


def attach(app: Flask, found: Services) -> None:
    """Keeps ``found`` on ``app`` for its views."""
    app.extensions[EXTENSION] = found


def services_of(app: Flask) -> Services:
    """The services attached to ``app``."""
    found: Services = app.extensions[EXTENSION]
    return found


def services() -> Services:
    """The services of the app serving the current request."""
    return services_of(current_app)
