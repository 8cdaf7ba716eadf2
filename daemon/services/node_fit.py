"""Whether any known node can ever run a job, and if not, the sentence that says why.

A job is accepted whatever its requirements (the node it needs may be installed tomorrow),
but when no registered node, online or not, meets them for its DCC, nor (when the daemon
bursts and the job may leave the building) the cloud shape, or a limit it lists has no unit at
all (capacity 0), people are told so at submission and on its page rather than let it wait
forever. A farm where no node has registered yet says nothing: that is no fact about the job.
Read-only; cheap: one query that stops at the first node that fits, and one more that counts
only when none does (``storage/node_facts.py``).
"""

from __future__ import annotations

import sqlite_utils

from common.models import JobSpec, Placement, Requirements
from daemon.scheduling.routing import CloudNeeds, shape_misfit
from daemon.scheduling.routing_words import misfit_words
from daemon.services.cloud_pool import CloudPool
from daemon.storage import limits as limit_store
from daemon.storage import node_facts

#: The words every such sentence starts with.
NO_NODE = "No known node can run this job"


class NodeFit:
    """Finds jobs no known node can run. ``pool``: the cloud, when the daemon may burst."""

    def __init__(self, pool: CloudPool | None = None) -> None:
        self.pool = pool

    def why_not(self, db: sqlite_utils.Database, spec: JobSpec) -> str | None:
        """Why no known node can ever run this job; None when one can."""
        for name in spec.limits:
            limit = limit_store.get_limit(db, name)
            if limit is not None and limit["capacity"] == 0:
                return (
                    f"{NO_NODE}: it needs a unit of limit {name!r}, whose capacity is 0; "
                    f"a TD raises it (PUT /api/v1/limits/{name})."
                )
        req = spec.requirements
        if node_facts.any_node_meets(db, spec.dcc, req):
            return None
        cloud = self._cloud_misfit(spec)
        if cloud == "":
            return None
        reach = node_facts.reach(db, spec.dcc, req)
        if not reach["known"]:
            return None  # a farm with no node yet: not a fact about this job
        said = f"{NO_NODE}: {_unmet(reach, spec.dcc, req)}."
        if cloud is not None:
            said += f" Nor can the cloud: it {cloud}."
        return said

    def _cloud_misfit(self, spec: JobSpec) -> str | None:
        """What the cloud shape lacks for this job ("": nothing, it fits); None when the job
        cannot burst (no cloud, or its placement keeps it in the building)."""
        pool = self.pool
        if pool is None or not pool.enabled:
            return None
        if spec.placement not in (Placement.AUTO, Placement.CLOUD):
            return None
        misfit = shape_misfit(CloudNeeds.of(spec.requirements), pool.shape)
        return "" if misfit is None else misfit_words(misfit)


def _unmet(reach: dict[str, int | None], dcc: str, req: Requirements) -> str:
    """The first requirement no node meets (``node_facts.STEPS`` order), in words."""
    if not reach["meets_dcc"]:
        return f"no registered node has {dcc}"
    nodes = f"the farm's {dcc} nodes"
    if req.pool and reach["meets_pool"]:
        nodes += f" in pool {req.pool}"
    if req.os and reach["meets_os"]:
        nodes += f" on {req.os}"
    if not reach["meets_pool"]:
        return f"it needs pool {req.pool}; none of {nodes} is in it"
    if not reach["meets_os"]:
        return f"it needs {req.os}; none of {nodes} runs it"
    if not reach["meets_memory"]:
        most = reach["most_memory"] or 0
        return f"it needs {req.min_memory_mb:,} MB of memory; {nodes} have at most {most:,} MB"
    if req.min_memory_mb:
        nodes += f" with {req.min_memory_mb:,} MB of memory"
    gpus = "1 GPU" if req.gpus == 1 else f"{req.gpus} GPUs"
    if not reach["meets_gpus"]:
        return f"it needs {gpus}; {nodes} have at most {reach['most_gpus'] or 0}"
    if req.gpus:
        nodes += f"{' and' if req.min_memory_mb else ' with'} {gpus}"
    if not reach["meets_gpu_memory"]:
        most = reach["most_gpu_memory"] or 0
        return (
            f"it needs a GPU with {req.min_gpu_memory_mb:,} MB; {nodes} have at most "
            f"{most:,} MB on one GPU"
        )
    if not reach["meets_dcc_version"]:
        return f"it needs {dcc} {req.dcc_version}; none of {nodes} that fit it has that version"
    tags = ", ".join(sorted(set(req.tags)))
    return f"it needs the tags {tags}; none of {nodes} that fit it has them all"
