"""``cloudburst job task retry|requeue|suspend|resume``, ``job resubmit``, ``job archive``,
``job unarchive`` and ``job delete`` against a daemon served on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

from common.accounts import Role
from common.cli.main import cli
from common.models import AgentRegistration, JobSpec, TaskFailure, TaskLogChunk
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import job_body
from tests.daemon.web.helpers import ROOT

Run = Callable[..., Result]


@pytest.fixture
def run(live_url: str, services: Services) -> Run:
    """Runs ``cloudburst`` as the artist ``ana``; a failing command fails the test unless
    ``ok=False``."""
    token = user_token(services, "ana", Role.ARTIST)
    runner = CliRunner(env={"COLUMNS": "200", "CLOUDBURST_TOKEN": token})

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(cli, ["--daemon-url", live_url, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def submit(services: Services, **overrides: Any) -> int:
    return services.jobs.submit(JobSpec.model_validate(job_body(**overrides))).id


def fail_first_task(services: Services, job_id: int) -> None:
    """A node named node07 leases the job's first task, logs a line and fails it for good."""
    agent = services.enrollment.register(AgentRegistration(name="node07", hostname="n7"), ROOT)
    task = services.agents.lease(agent.id)
    assert task is not None and task.job_id == job_id
    chunk = TaskLogChunk(attempt=task.attempt, offset=0, text="it broke\n")
    services.agents.append_log(agent.id, task.task_id, chunk)
    services.agents.fail(agent.id, task.task_id, TaskFailure(attempt=task.attempt, error="boom"))


def test_task_commands_go_by_the_task_number(run: Run, services: Services) -> None:
    job_id = submit(services, frames="1-6", chunk_size=2, max_retries=0)
    fail_first_task(services, job_id)
    shown = run("job", "show", str(job_id)).stdout
    assert "node07" in shown and "failed" in shown  # the agent by name, not its id

    said = run("job", "task", "retry", str(job_id), "1").stdout
    assert said == f"Job {job_id}: task 1 (frames 1-2) is now queued.\n"
    said = run("job", "task", "suspend", str(job_id), "3").stdout
    assert said == f"Job {job_id}: task 3 (frames 5-6) is now suspended.\n"
    states = [t.state.value for t in services.jobs.tasks(job_id)]
    assert states == ["queued", "queued", "suspended"]
    as_json = json.loads(run("job", "task", "resume", str(job_id), "3", "--json").stdout)
    assert as_json["state"] == "queued" and as_json["index"] == 2

    refused = run("job", "task", "requeue", str(job_id), "2", ok=False)
    assert refused.exit_code == 1
    assert "Task 2 (frames 3-4) of job" in refused.stderr and "only a leased or running" in (
        refused.stderr
    )
    missing = run("job", "task", "retry", str(job_id), "9", ok=False)
    assert missing.exit_code == 1
    assert f"Job {job_id} has no task 9; its tasks are numbered 1 to 3." in missing.stderr


def test_resubmit_archive_and_delete(run: Run, services: Services) -> None:
    job_id = submit(services, frames="1-10")
    run("job", "cancel", str(job_id))

    said = run("job", "resubmit", str(job_id), "--frames", "2-3", "--name", "fix").stdout
    new_id = job_id + 1
    assert said == f"Job {job_id} resubmitted as job {new_id} (2 frames).\n"
    new = services.jobs.get(new_id)
    assert (new.spec.name, new.spec.frames, new.spec.owner) == ("fix", "2-3", "ana")

    assert run("job", "archive", str(job_id)).stdout == f"Job {job_id} archived.\n"
    default = json.loads(run("jobs", "--json").stdout)
    assert [j["id"] for j in default["items"]] == [new_id]
    archived = json.loads(run("jobs", "--archived", "--json").stdout)
    assert [j["id"] for j in archived["items"]] == [job_id]
    assert run("job", "unarchive", str(job_id)).stdout == f"Job {job_id} unarchived.\n"

    refused = run("job", "delete", str(new_id), ok=False)
    assert refused.exit_code == 1 and "only a finished job can be deleted" in refused.stderr
    said = run("job", "delete", str(job_id)).stdout
    assert said == f"Job {job_id} (shot010 lighting) deleted; its frames stay on disk.\n"
    gone = run("job", "show", str(job_id), ok=False)
    assert gone.exit_code == 1 and f"There is no job {job_id}" in gone.stderr


def test_log_of_one_task_by_its_number(run: Run, services: Services) -> None:
    job_id = submit(services, frames="1-4", chunk_size=2, max_retries=0)
    fail_first_task(services, job_id)
    assert run("job", "log", str(job_id), "--task", "1").stdout == "it broke\n"
