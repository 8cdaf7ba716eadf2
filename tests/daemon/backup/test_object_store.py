"""Backups in a real S3 object store (SeaweedFS on 127.0.0.1), named by an ``s3://`` URL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from common.backup_settings import BackupSettings
from common.data.store_config import StoreSettings
from common.models import BackupKind
from daemon.services.backup import BackupService
from tests.common.data import seaweed
from tests.daemon.backup.helpers import build_farm, get, serve
from tests.daemon.ops.helpers import store_file


def test_backups_to_an_s3_url_list_restore_and_prune(tmp_path: Path, weed: Any) -> None:
    farm = build_farm(tmp_path)
    prefix = f"backup-{uuid.uuid4().hex[:8]}"
    connection = StoreSettings(
        endpoint=weed.endpoint, region="us-east-1", access_key_id=seaweed.ACCESS_KEY,
        secret_access_key=seaweed.SECRET_KEY,  # type: ignore[arg-type]
    )  # fmt: skip
    backup = BackupSettings(destination=f"s3://{seaweed.BUCKET}/{prefix}", store=connection,
                            keep_daily=1, keep_weekly=0)  # fmt: skip
    service = BackupService(farm.settings.model_copy(update={"backup": backup}), farm.clock)

    first = service.take(BackupKind.FULL)
    store_file(farm.services, "ana", "show/late.exr", b"late frame")
    second = service.take(BackupKind.INCREMENTAL)
    assert second.base == first.id and 0 < second.stored < first.stored
    assert [b.id for b in service.list_backups()] == [first.id, second.id]
    listed = {o.key.split("/")[0] for o in weed.store(f"{prefix}/").list_objects("")}
    assert listed == {"manifests", "objects"}  # no run marker left

    service.verify(second.id)
    restored = tmp_path / "restored"
    service.restore(restored, second.id)
    assert (restored / "storage" / "show" / "late.exr").read_bytes() == b"late frame"
    with serve(restored, farm.clock) as url:
        jobs = get(url, "/jobs", farm.admin_key)
        assert jobs.status_code == 200 and jobs.json()["data"]["total"] == len(farm.job_ids)

    farm.clock.advance(86400)
    third = service.take(BackupKind.FULL)
    assert sorted(service.prune()) == sorted([first.id, second.id])
    assert [b.id for b in service.list_backups()] == [third.id]
    left = {o.key.split("/")[1] for o in weed.store(f"{prefix}/").list_objects("objects/")}
    assert left <= {third.id}
