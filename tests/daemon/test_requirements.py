"""A job's requirements, matched by the lease over real HTTP: a node that lacks one gets nothing
of the job, a node that has them all gets its task; and a job no known node can run says so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.daemon.http_farm import HttpFarm
from tests.daemon.web.helpers import sign_in

A6000 = {"model": "NVIDIA RTX A6000", "memory_mb": 49_140}
T4 = {"model": "Tesla T4", "memory_mb": 15_360}

#: (requirements, facts of a node that lacks one, facts of a node that has them).
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "pool": ({"pool": "lighting"}, {"pool": "fx"}, {"pool": "lighting"}),
    "os": ({"os": "windows"}, {"os": "linux"}, {"os": "windows"}),
    "min-memory": ({"min_memory_mb": 65_536}, {"memory_mb": 32_768}, {"memory_mb": 131_072}),
    "gpus": ({"gpus": 1}, {"gpus": []}, {"gpus": [A6000]}),
    "two-gpus": ({"gpus": 2}, {"gpus": [A6000]}, {"gpus": [T4, A6000]}),
    "min-gpu-memory": ({"gpus": 1, "min_gpu_memory_mb": 40_000}, {"gpus": [T4, T4]},
                       {"gpus": [T4, A6000]}),
    "dcc-version-equal": ({"dcc_version": "4.2.3"}, {"dcc_versions": {"blender": "4.2.1"}},
                          {"dcc_versions": {"blender": "4.2.3"}}),
    "dcc-version-release": ({"dcc_version": "4.2"}, {"dcc_versions": {"blender": "4.20.1"}},
                            {"dcc_versions": {"blender": "4.2.3"}}),
    "dcc-version-other-dcc": ({"dcc_version": "4.2"}, {"dcc_versions": {"maya": "4.2"}},
                              {"dcc_versions": {"blender": "4.2", "maya": "2025"}}),
    "tags": ({"tags": ["ocio", "usd"]}, {"tags": ["ocio", "gpu"]},
             {"tags": ["usd", "ocio", "fast-disk"]}),
}  # fmt: skip


@pytest.fixture
def farm(live_url: str, admin_token: str) -> HttpFarm:
    return HttpFarm(live_url, admin_token)


@pytest.mark.parametrize("case", CASES)
def test_a_node_gets_a_job_only_when_it_meets_every_requirement(farm: HttpFarm, case: str) -> None:
    requirements, lacking, fitting = CASES[case]
    job = farm.submit(requirements=requirements)
    lacks = farm.register("lacks", **lacking)
    assert farm.lease(lacks) is None
    fits = farm.register("fits", **fitting)
    task = farm.lease(fits)
    assert task is not None and task["job_id"] == job["id"]
    assert farm.lease(lacks) is None  # still nothing, with tasks of the job queued
    assert farm.job(job["id"])["task_counts"]["queued"] >= 1


def test_a_gpu_job_never_goes_to_a_cpu_node_while_cpu_nodes_take_the_rest(
    farm: HttpFarm,
) -> None:
    gpu_job = farm.submit(name="gpu", frames="1-6", chunk_size=1, requirements={"gpus": 1},
                          priority=90)  # fmt: skip
    cpu_job = farm.submit(name="cpu", frames="1-6", chunk_size=1, priority=10)
    cpu_nodes = [farm.register(f"cpu{i}", memory_mb=65_536) for i in range(4)]
    gpu_node = farm.register("gpu0", gpus=[A6000])
    taken: dict[str, list[int]] = {"cpu": [], "gpu": []}
    for node in cpu_nodes:
        while (task := farm.lease(node)) is not None:
            taken["cpu"].append(task["job_id"])
            farm.complete(node, task)
    while (task := farm.lease(gpu_node)) is not None:
        taken["gpu"].append(task["job_id"])
        farm.complete(gpu_node, task)
    assert taken["cpu"] == [cpu_job["id"]] * 6
    assert taken["gpu"] == [gpu_job["id"]] * 6
    assert farm.job(gpu_job["id"])["state"] == "succeeded"


# --- a job no known node can run ----------------------------------------------------------------


def test_a_job_no_known_node_can_run_is_accepted_and_says_why_until_one_registers(
    farm: HttpFarm, app: Any
) -> None:
    farm.register("cpu0", memory_mb=65_536)
    job = farm.submit(requirements={"gpus": 2})
    words = (
        "No known node can run this job: it needs 2 GPUs; the farm's blender nodes have at most 0."
    )
    assert job["state"] == "queued"
    assert job["message"] == words
    assert job["rank_reason"] == words
    assert farm.job(job["id"])["rank_reason"] == words
    page = sign_in(app, "ana").get(f"/jobs/{job['id']}").data.decode()
    assert "No known node can run this job: it needs 2 GPUs" in page
    farm.register("gpu0", gpus=[A6000, A6000])
    now = farm.job(job["id"])
    assert now["message"] == ""
    assert not now["rank_reason"].startswith("No known node")


@pytest.mark.parametrize(
    ("requirements", "nodes", "words"),
    [
        ({}, [{"dccs": ["maya"]}], "no registered node has blender"),
        ({"pool": "lighting"}, [{"pool": "fx"}],
         "it needs pool lighting; none of the farm's blender nodes is in it"),
        ({"pool": "lighting", "os": "windows"}, [{"pool": "lighting", "os": "linux"}],
         "it needs windows; none of the farm's blender nodes in pool lighting runs it"),
        ({"min_memory_mb": 200_000}, [{"memory_mb": 65_536}, {"memory_mb": 131_072}],
         "it needs 200,000 MB of memory; the farm's blender nodes have at most 131,072 MB"),
        ({"gpus": 1, "min_gpu_memory_mb": 80_000}, [{"gpus": [T4]}, {"gpus": [A6000]}],
         "it needs a GPU with 80,000 MB; the farm's blender nodes with 1 GPU have at most "
         "49,140 MB on one GPU"),
        ({"gpus": 2, "min_memory_mb": 65_536},
         [{"memory_mb": 262_144}, {"memory_mb": 16_384, "gpus": [A6000, A6000]}],
         "it needs 2 GPUs; the farm's blender nodes with 65,536 MB of memory have at most 0"),
        ({"gpus": 1, "pool": "gpu"}, [{"gpus": [A6000], "pool": "cpu"}, {"pool": "gpu"}],
         "it needs 1 GPU; the farm's blender nodes in pool gpu have at most 0"),
        ({"dcc_version": "4.2"}, [{"dcc_versions": {"blender": "4.1.0"}}],
         "it needs blender 4.2; none of the farm's blender nodes that fit it has that version"),
        ({"tags": ["usd", "ocio"]}, [{"tags": ["usd"]}, {"tags": ["ocio"]}],
         "it needs the tags ocio, usd; none of the farm's blender nodes that fit it has them all"),
    ],
)  # fmt: skip
def test_the_sentence_names_the_first_requirement_no_node_meets(
    farm: HttpFarm, requirements: dict[str, Any], nodes: list[dict[str, Any]], words: str
) -> None:
    for i, facts in enumerate(nodes):
        farm.register(f"n{i}", **facts)
    job = farm.submit(requirements=requirements)
    assert job["message"] == f"No known node can run this job: {words}."


def test_a_limit_of_capacity_zero_makes_a_job_unrunnable(farm: HttpFarm) -> None:
    farm.register("n0")
    assert farm.put_limit("maya", 0).status_code == 200
    job = farm.submit(limits=["maya"])
    assert job["rank_reason"] == (
        "No known node can run this job: it needs a unit of limit 'maya', whose capacity is 0; "
        "a TD raises it (PUT /api/v1/limits/maya)."
    )
    farm.put_limit("maya", 1)
    assert farm.job(job["id"])["message"] == ""


def test_a_farm_without_any_node_says_nothing_of_the_sort(farm: HttpFarm) -> None:
    job = farm.submit(requirements={"gpus": 2})
    assert job["message"] == ""
    assert not job["rank_reason"].startswith("No known node")
