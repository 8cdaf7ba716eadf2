"""The restore drill: a running farm is backed up with ``cloudburst backup``, its daemon killed
and its folder deleted; ``cloudburst restore`` rebuilds it in a new folder, and the daemon
started there serves every job acknowledged before the backup, takes the old credentials, and
the same agent process carries on rendering."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from common.accounts import Role, UserCreate
from common.cli.local_admin import local_admin
from common.client import DaemonClient
from common.credentials import StaticToken
from common.errors import NotFound
from common.models import JobSpec
from common.states import JobState, TaskState
from tests.common.data import seaweed
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm, wait_for

pytestmark = [pytest.mark.slow, needs_bpy]


def spec(scene: Path, out: Path, frames: str, chunk: int) -> JobSpec:
    return JobSpec(name=out.name, owner="test", project="drill", scene=str(scene), frames=frames,
                   chunk_size=chunk, output=str(out / "f_####"), output_format="PNG")  # fmt: skip


def cli(farm: Farm, env: dict[str, str], *args: str) -> str:
    """Runs a backup command as its own process, as a person or cron would."""
    done = subprocess.run(
        [sys.executable, "-m", "daemon.backup_cli", *args], env={**farm.env, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr + farm.logs()
    return done.stdout


@pytest.fixture(params=["folder", "s3"])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """Where the drill backs up, and the environment that reaches it."""
    if request.param == "folder":
        return str(tmp_path / "backups"), {}
    weed: Any = request.getfixturevalue("weed")
    connection = {
        "endpoint": weed.endpoint,
        "region": "us-east-1",
        "access_key_id": seaweed.ACCESS_KEY,
        "secret_access_key": seaweed.SECRET_KEY,
    }
    env = {"CLOUDBURST_BACKUP__STORE": json.dumps(connection)}  # fmt: skip
    return f"s3://{seaweed.BUCKET}/drill-{uuid.uuid4().hex[:8]}", env


def test_restore_drill(farm: Farm, tmp_path: Path, destination: tuple[str, dict[str, str]]) -> None:
    to, env = destination
    scene = make_scene(tmp_path / "scene.blend", "1-3", resolution="32x18", samples=1)
    farm.start_daemon()
    admin_key = farm.client.auth
    assert isinstance(admin_key, StaticToken)
    farm.client.create_user(UserCreate(name="root", role=Role.ADMIN, password="root-password-1"))
    signed_in = DaemonClient(farm.url, timeout=10, retries=0)
    pair = signed_in.login("root", "root-password-1")
    signed_in.auth = StaticToken(pair.access_token)
    farm.start_agent("a")
    running = farm.client.submit(spec(scene, tmp_path / "running", "1-3", chunk=1))
    waiting = farm.client.submit(spec(scene, tmp_path / "waiting", "1-2", chunk=1))
    farm.client.pause(waiting.id)  # acknowledged, and left for after the restore
    wait_for(lambda: farm.client.job(running.id).task_counts[TaskState.DONE] >= 1, 120,
             "a first frame")  # fmt: skip
    agent_id = next(t.agent_id for t in farm.client.tasks(running.id) if t.agent_id)

    said = cli(farm, env, "backup", "--data-dir", str(farm.data_dir), "--to", to)
    assert "Backed up:" in said and " full " in said
    late = farm.client.submit(spec(scene, tmp_path / "late", "1", chunk=1))  # after the backup
    farm.kill_daemon()
    shutil.rmtree(farm.data_dir)

    new = tmp_path / "restored"
    said = cli(farm, env, "restore", "--from", to, "--data-dir", str(new))
    assert "Restored backup" in said
    farm.data_dir = new
    farm.start_daemon()  # same address: the agent finds it again

    assert local_admin(new).token == admin_key.token
    assert farm.client.job(running.id).spec == running.spec  # acknowledged before the backup
    assert farm.client.job(waiting.id).state is JobState.PAUSED
    with pytest.raises(NotFound):
        farm.client.job(late.id)
    assert signed_in.me().name == "root"  # a JWT signed before the backup
    assert signed_in.refresh_tokens(pair.refresh_token).user.name == "root"

    farm.client.resume(waiting.id)
    for job in (running, waiting):
        finished = farm.wait_job(job.id, timeout=180)
        assert finished.state is JobState.SUCCEEDED, farm.logs()
    assert farm.agents["a"].poll() is None  # the same agent process, with its old token
    assert {t.agent_id for t in farm.client.tasks(waiting.id)} == {agent_id}
    assert sorted(p.name for p in (tmp_path / "waiting").iterdir() if p.is_file()) == [
        "f_0001.png",
        "f_0002.png",
    ]
    signed_in.close()
