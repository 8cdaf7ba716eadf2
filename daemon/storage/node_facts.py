"""What the farm's known nodes can run: whether any registered node (online or not) meets a
job's DCC and requirements, and, when none does, how far the farm gets.

Both are one query over ``agents``: ``any_node_meets`` stops at the first node that does;
``reach`` groups the nodes by kind and counts, requirement after requirement in the order of
``STEPS``, the nodes that meet that one and every one before it, with the most memory, GPUs and
GPU memory among the nodes that met the steps before. The tests of a node are those the lease
query (``queue.py``) makes of a job, turned round.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from common.models import Requirements

#: The requirements in the order ``reach`` applies them; the first no node meets is named.
STEPS = ("dcc", "pool", "os", "memory", "gpus", "gpu_memory", "dcc_version", "tags")

#: Whether node ``a`` meets each step's requirement (the parameters are ``_params``).
_MEETS = {
    "dcc": "EXISTS (SELECT 1 FROM json_each(a.dccs) d WHERE d.value = :dcc)",
    "pool": "(:pool = '' OR a.pool = :pool)",
    "os": "(:os = '' OR a.os = :os)",
    "memory": "a.memory_mb >= :memory_mb",
    "gpus": "a.gpus >= :gpus",
    "gpu_memory": "a.gpu_memory_mb >= :gpu_memory_mb",
    "dcc_version": (
        "(:version = '' OR json_extract(a.dcc_versions, '$.' || :dcc) = :version"
        " OR substr(json_extract(a.dcc_versions, '$.' || :dcc), 1, length(:version) + 1)"
        " = :version || '.')"
    ),
    "tags": (
        "(:tags = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(:tags) w"
        " WHERE w.value NOT IN (SELECT value FROM json_each(a.tags))))"
    ),
}

#: The figure ``reach`` reports the most of, for the steps that compare a number.
_FIGURES = {"memory": "memory_mb", "gpus": "gpus", "gpu_memory": "gpu_memory_mb"}


def any_node_meets(db: sqlite_utils.Database, dcc: str, requirements: Requirements) -> bool:
    """Whether a registered node has ``dcc`` and meets every requirement."""
    where = " AND ".join(_MEETS[step] for step in STEPS)
    row = db.conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM agents a WHERE {where})", _params(dcc, requirements)
    ).fetchone()
    return bool(row[0])


def reach(db: sqlite_utils.Database, dcc: str, requirements: Requirements) -> dict[str, Any]:
    """How far the farm's nodes get through the job's requirements.

    Returns ``known`` (every registered node), ``meets_<step>`` per step of ``STEPS`` (the nodes
    meeting it and every step before) and ``most_<step>`` for memory, GPUs and GPU memory (the
    most among the nodes meeting the steps before; None when there is none).

    Nodes alike but for their memory are grouped first (a farm has few kinds of node), so the
    JSON tests run once per kind, and each kind counts its nodes with enough memory.
    """
    kinds = (
        "SELECT dccs, pool, os, dcc_versions, tags, gpus, gpu_memory_mb, count(*) AS nodes,"
        " coalesce(sum(memory_mb >= :memory_mb), 0) AS roomy, max(memory_mb) AS memory_mb"
        " FROM agents GROUP BY dccs, pool, os, dcc_versions, tags, gpus, gpu_memory_mb"
    )
    meets = {**_MEETS, "memory": "a.roomy > 0"}
    flags = ", ".join(f"{meets[step]} AS m_{step}" for step in STEPS)
    columns = ["coalesce(sum(nodes), 0) AS known"]
    for i, step in enumerate(STEPS):
        before = " AND ".join(f"m_{s}" for s in STEPS[:i]) or "1"
        counted = "roomy" if i >= STEPS.index("memory") else "nodes"
        if step in _FIGURES:
            columns.append(f"max(CASE WHEN {before} THEN {_FIGURES[step]} END) AS most_{step}")
        columns.append(
            f"coalesce(sum(CASE WHEN {before} AND m_{step} THEN {counted} END), 0) AS meets_{step}"
        )
    sql = (
        f"SELECT {', '.join(columns)} FROM"
        f" (SELECT a.nodes, a.roomy, a.memory_mb, a.gpus, a.gpu_memory_mb, {flags}"
        f" FROM ({kinds}) a)"
    )
    cursor = db.conn.execute(sql, _params(dcc, requirements))
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _params(dcc: str, req: Requirements) -> dict[str, Any]:
    return {
        "dcc": dcc,
        "pool": req.pool or "",
        "os": req.os or "",
        "memory_mb": req.min_memory_mb,
        "gpus": req.gpus,
        "gpu_memory_mb": req.min_gpu_memory_mb,
        "version": req.dcc_version or "",
        "tags": json.dumps(sorted(set(req.tags))),
    }
