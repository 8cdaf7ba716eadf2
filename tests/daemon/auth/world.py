"""A small farm state that every operation of the API can be called against, per caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.accounts import Role, UserCreate
from common.backup_settings import BackupSettings
from common.config import Settings
from common.desktop_settings import DesktopProfile
from common.models import AgentRegistration, JobSpec, TaskFailure
from daemon.app import Services, create_app
from daemon.auth.principal import Principal
from daemon.backends.registry import NullBackend
from tests.conftest import FakeClock, user_token
from tests.daemon.desktops.memory_backend import MemoryDesktops

#: The callers of the matrix; ``artist`` owns the job, ``other`` is another artist.
CALLERS = ("anonymous", "artist", "other", "td", "producer", "admin", "agent")
NAMES = {"artist": "ana", "other": "ben", "td": "tess", "producer": "pam", "admin": "root"}
ROLES = {"artist": Role.ARTIST, "other": Role.ARTIST, "td": Role.TD,
         "producer": Role.PRODUCER, "admin": Role.ADMIN}  # fmt: skip
PASSWORD = "pat-password-1"


@dataclass
class World:
    """The app, one token per caller, and the ids the paths name."""

    app: Any
    services: Services
    tokens: dict[str, str | None]
    job_id: int
    task_id: int
    attempt: int
    agent_id: str
    user_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def path_params(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "task_id": self.task_id, "agent_id": self.agent_id,
                "user_id": self.user_id, "project": "show"}  # fmt: skip


def build_world(tmp_path: Path) -> World:
    backup = BackupSettings(destination=str(tmp_path / "backups"))
    clock = FakeClock()
    desktops = [DesktopProfile(name="std", projects=["show"], price_per_hour=1.5)]
    app = create_app(
        Settings(data_dir=tmp_path / "data", lease_ttl_s=30, backup=backup, desktops=desktops),
        clock=clock,
        cloud_backend=NullBackend,  # bursting on, to a cloud that never has a node
        desktop_backend=MemoryDesktops(clock),
    )  # fmt: skip
    services: Services = app.extensions["cloudburst"]
    tokens: dict[str, str | None] = {"anonymous": None}
    for caller, name in NAMES.items():
        tokens[caller] = user_token(services, name, ROLES[caller])
    target = services.users.create(UserCreate(name="zoe", role=Role.ARTIST))
    admin = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)
    agent = services.enrollment.register(AgentRegistration(name="node01", hostname="node01"), admin)
    tokens["agent"] = agent.token
    spec = JobSpec(name="shot", owner="ana", project="show", scene="/p/s.blend", frames="1-6",
                   chunk_size=2, output=str(tmp_path / "frames" / "f_####"),
                   max_retries=0)  # fmt: skip
    job = services.jobs.submit(spec)
    assignment = services.agents.lease(agent.id)
    assert assignment is not None
    return World(app=app, services=services, tokens=tokens, job_id=job.id,
                 task_id=assignment.task_id, attempt=assignment.attempt, agent_id=agent.id,
                 user_id=target.id)  # fmt: skip


def fail_the_task(world: World) -> None:
    world.services.agents.fail(
        world.agent_id, world.task_id, TaskFailure(attempt=world.attempt, error="boom")
    )
