"""What the daemon tells a render node away from studio storage about one task's files."""

from __future__ import annotations

from pydantic import Field

from common.data.manifest import Manifest
from common.data.pathmap import PathRule
from common.models import WireModel


class TaskData(WireModel):
    """A task's files (its frames' share of the job's manifest) and the farm's path table."""

    job_id: int
    task_id: int
    scene: str
    """The scene as the job names it on studio storage."""
    manifest: Manifest
    path_rules: list[PathRule] = Field(default_factory=list)
    store: str
    """The object store the files were staged to (``s3://host/bucket/prefix``); a node whose
    own store is another refuses the task rather than render from the wrong place."""
