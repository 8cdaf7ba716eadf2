"""A daemon's data folder with everything a backup must carry, and a way to serve one over
real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask

from common.accounts import LoginRequest, Role, UserCreate
from common.backup_settings import BackupSettings
from common.config import Settings
from common.models import AgentRegistration, JobSpec
from daemon.app import Services, create_app
from daemon.auth.principal import Principal
from daemon.services.backup import BackupService
from tests import serving
from tests.conftest import FakeClock, user_token
from tests.daemon.ops.helpers import person, store_file

PASSWORD = "ana-password-1"


@dataclass
class Farm:
    """A daemon app on a real data folder, and the credentials its callers hold."""

    settings: Settings
    services: Services
    clock: FakeClock
    admin_key: str
    """An API key of the admin ``root``."""
    access_token: str
    refresh_token: str
    """A signed-in artist's JWT and refresh token."""
    agent_id: str
    agent_token: str
    job_ids: list[int]

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def submit(self, name: str) -> int:
        spec = JobSpec(name=name, owner="ana", project="show", scene="/p/s.blend",
                       frames="1-4", chunk_size=2, output="/r/f_####")  # fmt: skip
        job_id = self.services.jobs.submit(spec).id
        self.job_ids.append(job_id)
        return job_id

    def backups(self, destination: Path | str, **backup: object) -> BackupService:
        """A backup service of this folder to ``destination`` with this farm's clock."""
        settings = self.settings.model_copy(
            update={"backup": BackupSettings(destination=str(destination), **backup)}  # type: ignore[arg-type]
        )
        return BackupService(settings, self.clock)


def build_farm(root: Path, clock: FakeClock | None = None) -> Farm:
    """A farm with an admin, a signed-in artist, an agent, three jobs, a task log, a stored
    file, a file in the trash and a thumbnail."""
    clock = clock or FakeClock()
    settings = Settings(data_dir=root / "data", lease_ttl_s=30)
    services: Services = create_app(settings, clock=clock).extensions["cloudburst"]
    services.auth.ensure_local_admin()
    admin_key = user_token(services, "root", Role.ADMIN)
    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    pair = services.auth.login(LoginRequest(username="ana", password=PASSWORD), "127.0.0.1")
    admin = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)
    agent = services.enrollment.register(AgentRegistration(name="node01", hostname="node01"), admin)
    assert agent.token is not None
    farm = Farm(settings, services, clock, admin_key, pair.access_token, pair.refresh_token,
                agent.id, agent.token, [])  # fmt: skip
    for name in ("sh010", "sh020", "sh030"):
        farm.submit(name)
    store_file(services, "ana", "show/sh010/plate.exr", b"plate" * 1000)
    trashed = store_file(services, "ana", "show/old.exr", b"old" * 100)
    services.files.delete(trashed.id, person("ana"))
    task = services.jobs.tasks(farm.job_ids[0])[0]
    services.context.task_logs.append(farm.job_ids[0], task.id, 1, 0, "Fra:1 Mem:12M\n")
    thumbnail = settings.data_dir / "thumbnails" / str(farm.job_ids[0]) / "1-abc.jpg"
    thumbnail.parent.mkdir(parents=True)
    thumbnail.write_bytes(b"\xff\xd8 a jpeg")
    return farm


def serve(data_dir: Path, clock: FakeClock) -> AbstractContextManager[str]:
    """A daemon app on ``data_dir`` served over real HTTP; its URL."""
    return serve_app(create_app(Settings(data_dir=data_dir, lease_ttl_s=30), clock=clock))


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """``app`` served by waitress on a free 127.0.0.1 port; its URL."""
    with serving.serve(app) as url:
        yield url


def get(url: str, path: str, token: str) -> requests.Response:
    return requests.get(f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)  # fmt: skip
