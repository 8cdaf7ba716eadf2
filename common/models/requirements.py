"""Wire models of what production jobs need: node requirements, dependencies, limits, and what
a node has (its capabilities)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from common.models.base import MAX_INTEGER, RowId, WireModel

Label = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][\w.+-]*$")]
"""A pool, a tag or a limit's name: letters, digits, ``_ . + -``; it starts with a letter or
digit."""
Version = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][\w.+-]*$")]
OsName = Literal["linux", "windows", "macos"]
MAX_TAGS = 32
MAX_DEPENDENCIES = 100
MAX_LIMITS = 16


class Requirements(WireModel):
    """What a node must have to take a job's tasks; every field left out asks nothing."""

    pool: Label | None = None
    """Only nodes of this pool (a TD's grouping: ``lighting``, ``gpu``, ``cloud``)."""
    os: OsName | None = None
    min_memory_mb: Annotated[int, Field(ge=0, le=MAX_INTEGER)] = 0
    gpus: Annotated[int, Field(ge=0, le=64)] = 0
    """GPUs the node must have (0: a CPU node will do)."""
    min_gpu_memory_mb: Annotated[int, Field(ge=0, le=MAX_INTEGER)] = 0
    """Memory of the node's largest GPU."""
    dcc_version: Version | None = None
    """The DCC's version on the node: equal, or a release of it (``2024`` takes ``2024.2``)."""
    tags: Annotated[list[Label], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    """Every one of these tags must be on the node."""

    @property
    def empty(self) -> bool:
        return self == Requirements()


class JobDependency(WireModel):
    """A job this one waits for."""

    job: RowId
    frames: Literal["all", "same"] = "all"
    """``all``: nothing starts before that job succeeded; ``same``: frame N starts once frame N
    of that job is done (sim -> render -> comp)."""


DependsOn = Annotated[list[RowId | JobDependency], Field(max_length=MAX_DEPENDENCIES)]
"""Jobs one waits for: a bare id waits for the whole job, ``{"job": ID, "frames": "same"}``
frame by frame."""


def as_dependencies(depends_on: list[RowId | JobDependency]) -> list[JobDependency]:
    """``depends_on`` with every bare id as a dependency on the whole job."""
    return [dep if isinstance(dep, JobDependency) else JobDependency(job=dep) for dep in depends_on]


class DependsOnChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/depends-on``: the job's dependencies from now on."""

    depends_on: DependsOn
    """The whole list (``[]``: the job waits for nothing)."""

    @property
    def dependencies(self) -> list[JobDependency]:
        return as_dependencies(self.depends_on)


class Gpu(WireModel):
    """One GPU of a node, as ``nvidia-smi`` names it."""

    model: Annotated[str, Field(max_length=120)]
    memory_mb: Annotated[int, Field(ge=0, le=MAX_INTEGER)] = 0


class Capabilities(WireModel):
    """What a node has; an agent sends it in heartbeats when it changed."""

    dccs: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=64)] = Field(
        default_factory=list
    )
    dcc_versions: dict[
        Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=40)]
    ] = Field(default_factory=dict)
    """The version of each DCC the agent found (``{"blender": "4.2.3"}``)."""
    cores: Annotated[int, Field(ge=1, le=100_000)] = 1
    memory_mb: Annotated[int, Field(ge=0, le=MAX_INTEGER)] = 0
    os: OsName | Literal[""] = ""
    gpus: Annotated[list[Gpu], Field(max_length=64)] = Field(default_factory=list)


class Limit(WireModel):
    """A named counter: how many tasks holding it may run at once, and how many do."""

    name: Label
    capacity: Annotated[int, Field(ge=0, le=1_000_000)]
    per_node: bool = False
    """The capacity counts per node (one GPU job per node), not across the farm."""
    in_use: int = 0
    """Tasks holding a unit now (leased or running); per node: on the busiest node."""


class LimitChange(WireModel):
    """Body of ``PUT /api/v1/limits/{name}``."""

    capacity: Annotated[int, Field(ge=0, le=1_000_000)]
    per_node: bool = False


class AgentChange(WireModel):
    """Body of ``PATCH /api/v1/agents/{id}``: what a TD sets on a node."""

    pool: Label | None = None
    tags: Annotated[list[Label], Field(max_length=MAX_TAGS)] | None = None
    suspect: Literal[False] | None = None
    """``false`` clears the node's suspect mark: it leases again."""


class KeptOffNode(WireModel):
    """A node kept off a job after failing it too often (``GET /api/v1/jobs/{id}/kept-off``)."""

    agent_id: str
    name: str
    failures: int
    last_error: str = ""
