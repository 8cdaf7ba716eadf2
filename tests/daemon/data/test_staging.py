"""Staging against a real object store (SeaweedFS): only what the store lacks is sent, every
file that leaves is audited, and nodes without studio storage take only staged jobs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from common.data.catalog import Catalog
from common.data.manifest import Manifest
from common.data.reader import BlobReader
from common.data.s3 import S3Store
from common.errors import NotFound, TaskNotYours
from common.models import AgentRegistration, AuditQuery, DataState, JobSpec
from daemon.app import Services
from daemon.services.staging import audit_page
from tests.daemon.data.conftest import OLD, Studio, write_file


def spec(scene: Path, **overrides: object) -> JobSpec:
    values: dict[str, object] = {
        "name": "sh010", "owner": "ana", "project": "show", "dcc": "maya",
        "scene": str(scene), "frames": "1-4", "chunk_size": 2,
        "output": str(scene.parent / "renders" / "sh010.####.exr"), "placement": "cloud",
    }  # fmt: skip
    values.update(overrides)
    return JobSpec.model_validate(values, strict=False)


def away_agent(services: Services, name: str = "oci-1") -> str:
    registration = AgentRegistration(name=name, hostname=name, dccs=["maya"], studio_access=False)
    return services.agents.register(registration).id


def audit(services: Services, job_id: int) -> list[tuple[str, int, int]]:
    page = audit_page(services.context, AuditQuery(job_id=job_id))
    return sorted((Path(r.path).name, r.size, r.transferred) for r in page.items)


def test_a_cloud_job_is_staged_and_every_file_that_left_is_audited(
    services: Services, studio: Studio, store: S3Store
) -> None:
    job = services.jobs.submit(spec(studio.scene))
    assert services.staging.job_data(services.context.database.db, job.id).state is (
        DataState.PENDING
    )
    assert services.staging.stage_pending() == 1

    data = services.staging.job_data(services.context.database.db, job.id)
    assert data.state is DataState.STAGED
    scene_size = studio.scene.stat().st_size
    assert data.files == 3
    assert data.bytes_total == 50_000 + scene_size
    assert data.bytes_sent == 50_000 + scene_size
    assert data.destination == store.name
    assert audit(services, job.id) == sorted(
        [("sh010.ma", scene_size, scene_size), ("wood.png", 20_000, 20_000),
         ("rust.png", 30_000, 30_000)]
    )  # fmt: skip
    record = audit_page(services.context, AuditQuery(job_id=job.id)).items[0]
    assert (record.user, record.destination) == ("ana", store.name)

    # The store really holds the bytes: read back (verified) by a reader of its own.
    manifest = Manifest.from_json(
        services.context.database.db.execute(
            "SELECT manifest FROM job_data WHERE job_id = ?", [job.id]
        ).fetchone()[0]
    )
    got: dict[str, bytes] = {}
    BlobReader(store, Catalog(None, store.name)).fetch(
        manifest.blobs(), studio.root.parent, lambda h, p: got.__setitem__(h, p.read_bytes())
    )
    assert sorted(len(b) for b in got.values()) == sorted([20_000, 30_000, scene_size])


def test_a_second_submission_after_one_texture_changed_sends_only_that_texture(
    services: Services, studio: Studio, store: S3Store
) -> None:
    first = services.jobs.submit(spec(studio.scene))
    services.staging.stage_pending()
    write_file(studio.textures[0], b"W" * 20_000, mtime=OLD + 60)  # same size, new bytes
    sent_before = store.stats.bytes_sent
    second = services.jobs.submit(spec(studio.scene, name="sh010 v2"))
    assert services.staging.stage_pending() == 1

    data = services.staging.job_data(services.context.database.db, second.id)
    assert (data.blobs_sent, data.bytes_sent) == (1, 20_000)
    assert store.stats.bytes_sent - sent_before < 20_000 + 4096  # the texture and a pack index
    transferred = {name: sent for name, _, sent in audit(services, second.id)}
    assert transferred == {"sh010.ma": 0, "rust.png": 0, "wood.png": 20_000}
    assert len(audit(services, first.id)) == 3  # the first job's records are kept


def test_local_and_confidential_jobs_never_leave(services: Services, studio: Studio) -> None:
    local = services.jobs.submit(spec(studio.scene, placement="local"))
    services.projects.set_confidential  # noqa: B018 - the rule lives in ProjectService
    secret = services.jobs.submit(spec(studio.scene, project="secret", placement="never-cloud"))
    assert services.staging.stage_pending() == 0
    db = services.context.database.db
    assert services.staging.job_data(db, local.id).state is None
    assert services.staging.job_data(db, secret.id).state is None
    assert audit_page(services.context, AuditQuery()).total == 0


def test_a_scene_naming_missing_files_is_not_staged_and_says_which(
    services: Services, studio: Studio
) -> None:
    scene = studio.write_scene("sh020.ma", [*studio.textures, studio.root / "gone" / "x.png"])
    job = services.jobs.submit(spec(scene))
    assert services.staging.stage_pending() == 0
    data = services.staging.job_data(services.context.database.db, job.id)
    assert data.state is DataState.FAILED
    assert "x.png" in data.error and "studio nodes only" in data.error
    assert audit_page(services.context, AuditQuery(job_id=job.id)).total == 0


def store_keys(store: S3Store) -> set[str]:
    return {info.key for info in store.list_objects("")}


@pytest.mark.parametrize("how", ["named directly", "through a link in the project"])
def test_a_scene_cannot_take_the_daemons_own_files_out_of_the_building(
    services: Services, studio: Studio, store: S3Store, how: str
) -> None:
    key = services.context.settings.data_dir / "auth-signing.key"
    assert key.is_file()
    named = key
    if how == "through a link in the project":
        named = studio.root / "show" / "tex" / "innocent.png"
        named.symlink_to(key)
    scene = studio.write_scene("sh030.ma", [*studio.textures, named])
    before = store_keys(store)
    job = services.jobs.submit(spec(scene))
    assert services.staging.stage_pending() == 0
    data = services.staging.job_data(services.context.database.db, job.id)
    assert data.state is DataState.FAILED
    assert "daemon's own data folder" in data.error and "Remove it" in data.error
    assert store_keys(store) == before  # nothing was sent, the scene's other files neither
    assert audit_page(services.context, AuditQuery(job_id=job.id)).total == 0


def test_with_asset_roots_only_their_files_leave(
    tmp_path: Path, studio: Studio, store: S3Store
) -> None:
    from common.config import Settings
    from common.paths_settings import PathSettings
    from daemon.app import create_app

    settings = Settings(
        data_dir=tmp_path / "daemon2",
        paths=PathSettings(asset_roots=[str(studio.root / "show")]),
    )
    services: Services = create_app(settings, open_store=lambda: store).extensions["cloudburst"]
    ok = services.jobs.submit(spec(studio.scene))
    assert services.staging.stage_pending() == 1
    assert services.staging.job_data(services.context.database.db, ok.id).state is (
        DataState.STAGED
    )
    elsewhere = write_file(tmp_path / "home" / "ana" / "secret.png", b"x" * 100)
    scene = studio.write_scene("sh040.ma", [*studio.textures, elsewhere])
    job = services.jobs.submit(spec(scene))
    assert services.staging.stage_pending() == 0
    data = services.staging.job_data(services.context.database.db, job.id)
    assert data.state is DataState.FAILED
    assert "secret.png" in data.error and "asset_roots" in data.error


def test_an_unreachable_store_is_tried_again_then_given_up(tmp_path: Path, studio: Studio) -> None:
    from common.config import Settings
    from common.data.store_config import StagingSettings
    from daemon.app import create_app

    dead = S3Store("bucket", endpoint_url="http://127.0.0.1:9", access_key_id="a",
                   secret_access_key="b", region="us-east-1")  # fmt: skip
    settings = Settings(data_dir=tmp_path / "d", staging=StagingSettings(max_attempts=2))
    services: Services = create_app(settings, open_store=lambda: dead).extensions["cloudburst"]
    job = services.jobs.submit(spec(studio.scene))
    services.staging.stage_pending()
    db = services.context.database.db
    assert services.staging.job_data(db, job.id).state is DataState.PENDING
    services.staging.stage_pending()
    data = services.staging.job_data(db, job.id)
    assert data.state is DataState.FAILED
    assert "gave up after 2 tries" in data.error
    assert audit_page(services.context, AuditQuery()).total == 0


def test_nodes_without_studio_storage_take_only_staged_jobs(
    services: Services, studio: Studio
) -> None:
    job = services.jobs.submit(spec(studio.scene))
    agent = away_agent(services)
    assert services.agents.lease(agent) is None  # not staged yet
    services.staging.stage_pending()
    assignment = services.agents.lease(agent)
    assert assignment is not None and assignment.job_id == job.id

    data = services.agents.task_data(agent, assignment.task_id)
    assert data.scene == str(studio.scene)
    assert sorted(Path(e.path).name for e in data.manifest.entries) == [
        "rust.png", "sh010.ma", "wood.png",
    ]  # fmt: skip
    assert data.store == services.staging.plane.store_name
    with pytest.raises(TaskNotYours):
        services.agents.task_data(away_agent(services, "oci-2"), assignment.task_id)


def test_a_local_job_is_not_offered_to_a_node_without_studio_storage(
    services: Services, studio: Studio
) -> None:
    services.jobs.submit(spec(studio.scene, placement="local"))
    agent = away_agent(services)
    assert services.agents.lease(agent) is None
    studio_node = services.agents.register(
        AgentRegistration(name="farm-1", hostname="farm-1", dccs=["maya"])
    )
    assert services.agents.lease(studio_node.id) is not None


def test_task_data_of_an_unstaged_job_is_refused(services: Services, studio: Studio) -> None:
    services.jobs.submit(spec(studio.scene, placement="local"))
    node = services.agents.register(AgentRegistration(name="n", hostname="n", dccs=["maya"]))
    assignment = services.agents.lease(node.id)
    assert assignment is not None
    with pytest.raises(NotFound, match="not in the object store"):
        services.agents.task_data(node.id, assignment.task_id)


def test_the_audit_log_cannot_be_changed(services: Services, studio: Studio) -> None:
    services.jobs.submit(spec(studio.scene))
    services.staging.stage_pending()
    conn = services.context.database.db.conn
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET size = 0")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    assert audit_page(services.context, AuditQuery()).total == 3


def test_audit_filters(services: Services, studio: Studio) -> None:
    a = services.jobs.submit(spec(studio.scene))
    b = services.jobs.submit(spec(studio.scene, owner="bo"))
    services.staging.stage_pending()
    assert audit_page(services.context, AuditQuery(user="bo")).total == 3
    assert {r.job_id for r in audit_page(services.context, AuditQuery(user="bo")).items} == {b.id}
    assert audit_page(services.context, AuditQuery(job_id=a.id, limit=2)).total == 3
    assert len(audit_page(services.context, AuditQuery(job_id=a.id, limit=2)).items) == 2
