"""Frames rendered away from studio storage come home through a real object store, verified; a
job succeeds only once every frame is home, and a frame the store lost renders again."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.data.hashing import hash_bytes
from common.data.s3 import S3Store
from common.data.store import blob_key
from common.errors import InvalidInput
from common.models import OutputBlob, TaskAssignment, TaskDone, TaskProgress
from common.states import JobState, TaskState
from daemon.app import Services
from tests.daemon.calls import snapshot
from tests.daemon.data.conftest import Studio
from tests.daemon.data.test_staging import away_agent, spec


def lease_staged(services: Services, studio: Studio) -> tuple[str, TaskAssignment]:
    services.jobs.submit(spec(studio.scene))
    services.staging.stage_pending()
    agent = away_agent(services)
    assignment = services.agents.lease(agent)
    assert assignment is not None
    services.agents.progress(agent, assignment.task_id, TaskProgress(attempt=1, progress=0.1))
    return agent, assignment


def send_frames(
    store: S3Store, assignment: TaskAssignment, *, corrupt: bool = False
) -> list[OutputBlob]:
    """Uploads the task's frames as a node does; returns what it reports."""
    folder = Path(assignment.output).parent
    blobs = []
    for frame in assignment.frames:
        data = f"frame {frame} of task {assignment.task_id} ".encode() * 500
        digest = hash_bytes(data)
        store.put(blob_key(digest), b"X" + data[1:] if corrupt else data)
        blobs.append(OutputBlob(path=str(folder / f"sh010.{frame:04d}.exr"), hash=digest,
                                size=len(data)))  # fmt: skip
    return blobs


def complete(
    services: Services, agent: str, assignment: TaskAssignment, blobs: list[OutputBlob]
) -> None:
    done = TaskDone(attempt=assignment.attempt, outputs=[b.path for b in blobs], blobs=blobs)
    services.agents.complete(agent, assignment.task_id, done)


def test_frames_come_home_verified_and_only_then_the_job_succeeds(
    services: Services, studio: Studio, store: S3Store
) -> None:
    agent, first = lease_staged(services, studio)
    blobs = send_frames(store, first)
    complete(services, agent, first, blobs)
    job = services.jobs.get(first.job_id)
    assert job.state is JobState.RUNNING
    assert not any(Path(b.path).exists() for b in blobs)  # not home yet

    assert services.homecoming.bring_home() == 2
    for blob in blobs:
        assert hash_bytes(Path(blob.path).read_bytes()) == blob.hash
    data = services.staging.job_data(services.context.database.db, first.job_id)
    assert (data.frames_away, data.frames_home) == (0, 2)
    assert services.jobs.get(first.job_id).state is JobState.RUNNING  # task 2 still to render

    second = services.agents.lease(agent)
    assert second is not None
    services.agents.progress(agent, second.task_id, TaskProgress(attempt=1, progress=0.5))
    complete(services, agent, second, send_frames(store, second))
    assert services.jobs.get(first.job_id).state is JobState.RUNNING
    assert services.homecoming.bring_home() == 2
    job = services.jobs.get(first.job_id)
    assert job.state is JobState.SUCCEEDED
    renders = Path(first.output).parent
    assert sorted(p.name for p in renders.iterdir()) == [
        f"sh010.{f:04d}.exr" for f in (1, 2, 3, 4)
    ]  # nothing else left behind (the incoming folder is gone)


def test_a_frame_named_outside_the_output_folder_is_refused(
    services: Services, studio: Studio, store: S3Store
) -> None:
    agent, assignment = lease_staged(services, studio)
    blobs = send_frames(store, assignment)
    evil = blobs[0].model_copy(update={"path": str(studio.scene)})  # overwrite the scene
    before = snapshot(services)
    with pytest.raises(InvalidInput, match="not directly inside the job's output folder"):
        complete(services, agent, assignment, [evil, blobs[1]])
    assert snapshot(services) == before


def test_a_frame_corrupt_in_the_store_is_never_brought_home_and_renders_again(
    services: Services, studio: Studio, store: S3Store
) -> None:
    agent, assignment = lease_staged(services, studio)
    blobs = send_frames(store, assignment, corrupt=True)
    complete(services, agent, assignment, blobs)
    assert services.homecoming.bring_home() == 0
    assert not any(Path(b.path).exists() for b in blobs)
    task = next(t for t in services.jobs.tasks(assignment.job_id) if t.id == assignment.task_id)
    assert task.state is TaskState.QUEUED
    assert "could not be brought home" in task.error
    job = services.jobs.get(assignment.job_id)
    assert job.state is JobState.QUEUED  # no task of it runs now; nothing was lost for good
    assert job.progress == 0.0  # the lost frames no longer count as rendered
    again = services.agents.lease(agent)
    assert again is not None and again.task_id == assignment.task_id and again.attempt == 2


def test_a_frame_missing_from_the_store_renders_again(
    services: Services, studio: Studio, store: S3Store
) -> None:
    agent, assignment = lease_staged(services, studio)
    blobs = send_frames(store, assignment)
    store.delete([blob_key(blobs[0].hash)])
    complete(services, agent, assignment, blobs)
    services.homecoming.bring_home()
    task = next(t for t in services.jobs.tasks(assignment.job_id) if t.id == assignment.task_id)
    assert task.state is TaskState.QUEUED
