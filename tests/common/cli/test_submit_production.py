"""``cloudburst submit``'s production options (dependencies, requirements, limits, failures),
and how ``job show`` shows a waiting job and a failed one's frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.cli.production import parse_max_failed, parse_memory
from common.errors import InvalidInput
from common.models import FailureClass, JobDependency, JobSpec, Requirements, Task, TaskPage
from common.states import JobState, TaskState
from tests.common.cli.test_cli import FakeClient, Untouchable, invoke, make_job, make_tasks
from tests.common.cli.test_cli import no_user_config as no_user_config
from tests.common.cli.test_cli import scene as scene


def submitted(scene: Path, *options: str) -> JobSpec:
    client = FakeClient()
    result = invoke(["submit", str(scene), "-f", "1-4", "--no-preflight", *options], client)
    assert result.exit_code == 0, result.output
    [(name, (spec,), _)] = client.calls
    assert name == "submit"
    assert isinstance(spec, JobSpec)
    return spec


def test_every_production_option_reaches_the_spec(scene: Path) -> None:
    spec = submitted(
        scene,
        "--after", "12,13", "--after", "14", "--after-frames", "15",
        "--pool", "gpu", "--os", "linux", "--min-memory", "16G", "--gpus", "2",
        "--min-gpu-memory", "24000", "--dcc-version", "4.2", "--tag", "nvme", "--tag", "fast",
        "--limit", "blender", "--limit", "cycles", "--limit", "blender",
        "--max-failed", "10%", "--stall-timeout", "900",
    )  # fmt: skip
    assert spec.depends_on == [12, 13, 14, JobDependency(job=15, frames="same")]
    assert spec.requirements == Requirements(
        pool="gpu", os="linux", min_memory_mb=16384, gpus=2, min_gpu_memory_mb=24000,
        dcc_version="4.2", tags=["nvme", "fast"],
    )  # fmt: skip
    assert spec.limits == ["blender", "cycles"]
    assert spec.max_failed_tasks == "10%"
    assert spec.stall_timeout_s == 900


def test_without_production_options_the_job_asks_nothing(scene: Path) -> None:
    spec = submitted(scene)
    assert spec.depends_on == [] and spec.limits == [] and spec.requirements.empty
    assert spec.max_failed_tasks is None and spec.stall_timeout_s is None
    assert submitted(scene, "--max-failed", "3").max_failed_tasks == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--after", "12,x"], "--after '12,x': 'x' is not a job id"),
        (["--after", "0"], "'0' is not a job id"),
        (["--after-frames", "-3"], "--after-frames '-3': '-3' is not a job id"),
        (["--after", "7", "--after-frames", "7"], "Job 7 is named by both --after and"),
        (["--min-memory", "16X"], "--min-memory '16X' is not an amount of memory"),
        (["--min-gpu-memory", "lots"], "--min-gpu-memory 'lots' is not an amount"),
        (["--max-failed", "0"], "--max-failed '0' is not a count of tasks"),
        (["--max-failed", "150%"], "a percentage from 1% to 100%"),
        (["--max-failed", "ten"], "Write a number of tasks (5)"),
        (["--limit", "maya 2024"], "--limit 'maya 2024' is not a limit name"),
        (["--tag", "-x"], "--tag '-x' is not a tag name"),
        (["--pool", "gpu/a"], "--pool 'gpu/a' is not a pool name"),
        (["--gpus", "65"], "--gpus 65: input should be less than or equal to"),
        (["--dcc-version", "4 2"], "--dcc-version '4 2': string should match"),
        (["--stall-timeout", "0"], "--stall-timeout 0: input should be greater than"),
    ],
)
def test_a_bad_production_option_is_refused_before_any_network(
    scene: Path, options: list[str], message: str
) -> None:
    result = invoke(["submit", str(scene), "-f", "1-4", "--no-preflight", *options], Untouchable())
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "mb"),
    [("16384", 16384), ("16G", 16384), ("16 GiB", 16384), ("512m", 512), ("1.5T", 1572864),
     ("1.5", 2), ("100K", 1)],
)  # fmt: skip
def test_parse_memory(text: str, mb: int) -> None:
    assert parse_memory(text, "--min-memory") == mb


def test_parse_max_failed() -> None:
    assert parse_max_failed("5") == 5 and parse_max_failed(" 100% ") == "100%"
    assert parse_max_failed(None) is None
    with pytest.raises(InvalidInput):
        parse_max_failed("5.5")


def test_job_show_says_what_a_waiting_job_waits_for() -> None:
    spec = make_job().spec.model_copy(
        update={"depends_on": [12, JobDependency(job=15, frames="same")],
                "requirements": Requirements(gpus=2, pool="gpu"), "limits": ["blender"]}
    )  # fmt: skip
    job = make_job(
        JobState.WAITING, spec=spec, rank_reason="waiting for job 12 (running) to succeed"
    )
    result = invoke(["job", "show", "7"], FakeClient(job))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "waiting" in out
    assert "Waiting" in out and "waiting for job 12 (running) to succeed" in out
    assert "job 12, job 15 (frame by frame)" in out
    assert "pool gpu, 2 GPUs" in out and "blender" in out
    assert "Estimated finish" not in out


def test_job_show_names_the_frames_that_failed_for_good() -> None:
    job = make_job(
        JobState.FAILED, failed_frames=[3, 4, 9], error_classes={"licence": 1, "crash": 2}
    )
    client = FakeClient(job)
    tasks = make_tasks()
    tasks[1] = Task(
        id=71, job_id=7, index=1, frames=[3, 4], state=TaskState.FAILED, attempts=4,
        error="No progress and no log line for 60 s; killed", error_class=FailureClass.STALLED,
    )  # fmt: skip
    client.task_page = lambda job_id, offset=0, limit=100: TaskPage(  # type: ignore[method-assign]
        items=tasks, total=2, offset=0, limit=limit
    )
    result = invoke(["job", "show", "7"], client)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Failed frames" in out and "3-4,9" in out and "cloudburst job retry 7" in out
    assert "crash 2, licence 1" in out
    assert "[stalled] No progress and no log line" in out


def test_jobs_lists_a_waiting_job_as_waiting() -> None:
    result = invoke(["jobs"], FakeClient(make_job(JobState.WAITING)))
    assert result.exit_code == 0, result.output
    assert "waiting" in result.stdout
