"""The ``cloudburst`` command line: validation, output shapes and errors, with a fake client."""

from __future__ import annotations

import getpass
import json
import os
import socket
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

import common.cli.main as cli_main
from common.accounts import Role
from common.cli.context import CliState
from common.cli.main import cli
from common.cli.progress import JobProgress, frames_done
from common.cli.submit import default_output, parse_due, parse_env
from common.errors import InvalidInput, NotFound
from common.models import Job, JobPage, JobSpec, JobSummary, Task, TaskLog, TaskPage
from common.states import JobState, TaskState
from daemon.app import Services
from tests.conftest import user_token

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_job(state: JobState = JobState.RUNNING, **overrides: Any) -> Job:
    spec = JobSpec(
        name="shot010", owner="ana", scene="/show/shot010.blend", frames="1-4",
        output="/renders/shot010_####", chunk_size=2,
    )  # fmt: skip
    values: dict[str, Any] = {
        "id": 7, "spec": spec, "state": state, "submitted_at": T0, "started_at": T0,
        "frame_count": 4, "task_counts": {TaskState.DONE: 1, TaskState.RUNNING: 1},
        "progress": 0.5, "errors": ["frame 3: out of memory"],
    }  # fmt: skip
    values.update(overrides)
    return Job(**values)


def summary_of(job: Job) -> JobSummary:
    """The job as ``GET /jobs`` lists it."""
    spec = job.spec
    return JobSummary(
        id=job.id, name=spec.name, owner=spec.owner, project=spec.project, dcc=spec.dcc,
        priority=spec.priority, state=job.state, submitted_at=job.submitted_at,
        started_at=job.started_at, finished_at=job.finished_at, frame_count=job.frame_count,
        task_counts=job.task_counts, progress=job.progress, message=job.message, rank=job.rank,
    )  # fmt: skip


def make_tasks() -> list[Task]:
    return [
        Task(id=70, job_id=7, index=0, frames=[1, 2], state=TaskState.DONE, attempts=1,
             progress=1.0, outputs=["/renders/shot010_0001.png", "/renders/shot010_0002.png"]),
        Task(id=71, job_id=7, index=1, frames=[3, 4], state=TaskState.RUNNING, attempts=2,
             progress=0.5, agent_id="a1", agent_name="node07", started_at=T0,
             error="out of memory"),
    ]  # fmt: skip


class FakeClient:
    """Answers like DaemonClient and records every call; no network."""

    def __init__(self, job: Job | None = None) -> None:
        self.job_model = job or make_job()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.logs = {70: ["rendering frame 1\n", "rendering frame 2\n"], 71: ["frame 3\n"]}

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def submit(self, spec: JobSpec, idempotency_key: str | None = None) -> Job:
        self._record("submit", spec, idempotency_key=idempotency_key)
        return self.job_model.model_copy(update={"spec": spec, "state": JobState.QUEUED})

    def jobs(self, **filters: Any) -> JobPage:
        self._record("jobs", **filters)
        return JobPage(items=[summary_of(self.job_model)], total=1, offset=0, limit=50)

    def job(self, job_id: int) -> Job:
        self._record("job", job_id)
        if job_id != self.job_model.id:
            raise NotFound(f"There is no job {job_id}.")
        return self.job_model

    def tasks(self, job_id: int) -> list[Task]:
        self._record("tasks", job_id)
        return make_tasks()

    def task_page(self, job_id: int, offset: int = 0, limit: int = 100) -> TaskPage:
        self._record("task_page", job_id, offset, limit)
        tasks = make_tasks()
        return TaskPage(items=tasks[offset : offset + limit], total=len(tasks), offset=offset,
                        limit=limit)  # fmt: skip

    def task_log(self, job_id: int, task_id: int, offset: int = 0) -> TaskLog:
        self._record("task_log", job_id, task_id, offset)
        pieces = self.logs.get(task_id, [])  # here an offset counts pieces, not characters
        text = pieces[offset] if offset < len(pieces) else ""
        return TaskLog(task_id=task_id, offset=offset, text=text, next_offset=offset + bool(text))

    def _act(self, name: str, job_id: int, state: JobState) -> Job:
        self._record(name, job_id)
        return self.job_model.model_copy(update={"state": state})

    def cancel(self, job_id: int) -> Job:
        return self._act("cancel", job_id, JobState.CANCELLED)

    def pause(self, job_id: int) -> Job:
        return self._act("pause", job_id, JobState.PAUSED)

    def resume(self, job_id: int) -> Job:
        return self._act("resume", job_id, JobState.QUEUED)

    def retry(self, job_id: int) -> Job:
        return self._act("retry", job_id, JobState.QUEUED)

    def set_priority(self, job_id: int, priority: int) -> Job:
        self._record("set_priority", job_id, priority)
        spec = self.job_model.spec.model_copy(update={"priority": priority})
        return self.job_model.model_copy(update={"spec": spec})


class Untouchable:
    """A client that fails the test when used: proves a command gave up before any network."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the client was used ({name}) although the input was bad")


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeps the user's config file and CLOUDBURST_* variables out of every test."""
    empty = tmp_path / "empty-config.toml"
    empty.write_text("", encoding="utf-8")
    for key in [k for k in os.environ if k.startswith("CLOUDBURST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CLOUDBURST_CONFIG", str(empty))


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    """Not a real .blend: the submits below pass --no-preflight (tests/common/cli/
    test_submit_preflight.py checks the pre-flight)."""
    path = tmp_path / "shot010.blend"
    path.write_bytes(b"BLENDER")
    return path


def invoke(args: list[str], client: Any = None) -> Result:
    state = CliState(client=client, poll_interval_s=0)
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, args, obj=state)


# --- validation before any network ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["submit", "{scene}", "--frames", "10-1"],
        ["render", "--frames", "10-1"],
        ["render", "{scene}", "--frames", "10-1"],
    ],
)
def test_backwards_frames_fail_clearly_before_any_network(args: list[str], scene: Path) -> None:
    result = invoke([a.format(scene=scene) for a in args], client=Untouchable())
    assert result.exit_code == 1
    assert "The range '10-1' runs backwards. Write it from low to high: 1-10." in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "{scene}", "-f", "1-4", "--env", "NOEQUALS"], "has no '='"),
        (["submit", "{scene}", "-f", "1-4", "--env", "1X=2"], "is not a variable name"),
        (["submit", "{scene}", "-f", "1-4", "--due", "tomorrow"], "is not a date"),
        (["submit", "{scene}", "-f", "1-4", "--priority", "101"], "--priority 101: input should"),
        (["submit", "{scene}", "-f", "1-4", "--chunk", "0"], "--chunk 0: input should"),
        (["submit", "/no/such/scene.blend", "-f", "1-4"], "does not exist"),
        (["render", "{scene}", "--samples", "4"], "set them in SCENE itself"),
        (["render", "--resolution", "64by36"], "is not WIDTHxHEIGHT"),
    ],
)
def test_bad_input_is_refused_with_its_reason(args: list[str], message: str, scene: Path) -> None:
    result = invoke([a.format(scene=scene) for a in args], client=Untouchable())
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_render_without_bpy_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("common.cli.render.bpy_installed", lambda: False)
    result = invoke(["render", "--data-dir", str(tmp_path / "data")], client=Untouchable())
    assert result.exit_code == 1
    assert "bpy" in result.stderr and "pip install 'cloudburst[blender]'" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        (["A=1"], {"A": "1"}),
        (["PATH_X=/a:/b", "EMPTY="], {"PATH_X": "/a:/b", "EMPTY": ""}),
        (["OPTS=a=b=c"], {"OPTS": "a=b=c"}),
        (["A=1", "A=2"], {"A": "2"}),
    ],
)
def test_parse_env(pairs: list[str], expected: dict[str, str]) -> None:
    assert parse_env(pairs) == expected


@pytest.mark.parametrize("pair", ["A", "=1", "A B=1", "1A=1", "A-B=1"])
def test_parse_env_refuses(pair: str) -> None:
    with pytest.raises(InvalidInput):
        parse_env([pair])


def test_parse_due_local_time_and_zones() -> None:
    assert parse_due(None) is None
    assert parse_due("2026-12-24T18:00+00:00") == datetime(2026, 12, 24, 18, tzinfo=UTC)
    local = parse_due("2026-12-24")
    assert local is not None and local.tzinfo is not None


# --- submit --------------------------------------------------------------------------------


def test_submit_builds_the_spec(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = FakeClient()
    result = invoke(
        ["submit", str(scene), "-f", "1-10x2", "--chunk", "2", "--env", "A=1", "--env", "B=x=y",
         "--priority", "80", "--placement", "never-cloud", "--due", "2026-12-24T18:00Z",
         "--timeout", "600", "--retries", "1", "--project", "show", "--format", "PNG",
         "--description", "final lighting pass", "--paused", "--no-preflight"],
        client,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [(name, (spec,), _)] = client.calls
    assert name == "submit"
    assert spec.env == {"A": "1", "B": "x=y"}
    assert spec.name == "shot010" and spec.scene == str(scene)
    assert spec.frames == "1-10x2" and spec.chunk_size == 2
    assert spec.priority == 80 and spec.placement == "never-cloud" and spec.max_retries == 1
    assert spec.output == str(tmp_path / "renders" / "shot010" / "shot010_####")
    assert spec.due == datetime(2026, 12, 24, 18, tzinfo=UTC)
    assert spec.description == "final lighting pass" and spec.paused is True
    assert "5 frames in 3 tasks" in result.stdout


def test_each_submit_command_sends_its_own_idempotency_key(scene: Path) -> None:
    client = FakeClient()
    for _ in range(2):
        assert invoke(["submit", str(scene), "-f", "1", "--no-preflight"], client).exit_code == 0
    keys = [kwargs["idempotency_key"] for name, _, kwargs in client.calls if name == "submit"]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert all(len(key) == 36 for key in keys)  # a UUID


def test_submit_relative_output_becomes_absolute(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = FakeClient()
    result = invoke(["submit", str(scene), "-f", "1", "-o", "out/f_####", "--no-preflight"], client)
    assert result.exit_code == 0, result.output
    assert client.calls[0][1][0].output == str(tmp_path / "out" / "f_####")


def test_default_output_is_absolute_under_renders(tmp_path: Path) -> None:
    assert default_output(Path("a/b/shot.blend"), tmp_path) == str(
        tmp_path / "renders" / "shot" / "shot_####"
    )


# --- --json prints exactly the model -------------------------------------------------------


def test_submit_json_is_the_job_model(scene: Path) -> None:
    client = FakeClient()
    result = invoke(["submit", str(scene), "-f", "1-4", "--json", "--no-preflight"], client)
    assert result.exit_code == 0, result.output
    expected = client.submit(client.calls[0][1][0]).model_dump(mode="json")
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["jobs", "--json"], lambda c: c.jobs().model_dump(mode="json")),
        (["job", "show", "7", "--json"], lambda c: c.job(7).model_dump(mode="json")),
        (["job", "cancel", "7", "--json"], lambda c: c.cancel(7).model_dump(mode="json")),
        (
            ["job", "priority", "7", "90", "--json"],
            lambda c: c.set_priority(7, 90).model_dump(mode="json"),
        ),
    ],
)
def test_json_output_is_model_dump(args: list[str], expected: Any) -> None:
    client = FakeClient()
    result = invoke(args, client)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected(FakeClient())


def test_jobs_passes_filters() -> None:
    client = FakeClient()
    result = invoke(
        ["jobs", "--state", "running", "--project", "show", "--owner", "ana",
         "--priority-min", "10", "--priority-max", "90", "--offset", "5", "--limit", "20"],
        client,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert client.calls == [
        ("jobs", (), {"state": "running", "project": "show", "owner": "ana", "priority_min": 10,
                      "priority_max": 90, "archived": None, "name_contains": None, "shot": None,
                      "asset": None, "sort": None, "order": None, "offset": 5, "limit": 20}),
    ]  # fmt: skip
    assert "shot010" in result.stdout and "running" in result.stdout


# --- human output --------------------------------------------------------------------------


def test_job_show_has_state_counts_errors_and_tasks() -> None:
    result = invoke(["job", "show", "7"], FakeClient())
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "running" in out and "50% of 4 frames" in out
    assert "running 1, done 1" in out
    assert "frame 3: out of memory" in out
    assert "1-2" in out and "3-4" in out
    # tasks go by their number in the job and agents by name, as on the page and in errors
    assert "node07" in out and " a1 " not in out and "70" not in out and "71" not in out
    assert "Tasks 1-" not in out  # every task is on the page: no pointer to others


def test_job_show_lists_a_page_of_tasks_and_says_where_the_others_are() -> None:
    client = FakeClient()
    result = invoke(["job", "show", "7", "--tasks-from", "2", "--tasks", "1"], client)
    assert result.exit_code == 0, result.output
    assert ("task_page", (7, 1, 1), {}) in client.calls
    assert "tasks" not in [name for name, _, _ in client.calls]  # never every task at once
    out = result.stdout
    assert "│    2 │ 3-4" in out
    assert "Tasks 2-2 of 2. Others: --tasks-from N" in out


@pytest.mark.parametrize(
    ("command", "state"),
    [("cancel", "cancelled"), ("pause", "paused"), ("resume", "queued"), ("retry", "queued")],
)
def test_job_actions_call_the_daemon(command: str, state: str) -> None:
    client = FakeClient()
    result = invoke(["job", command, "7"], client)
    assert result.exit_code == 0, result.output
    assert client.calls == [(command, (7,), {})]
    assert f"it is now {state}" in result.stdout


def test_job_priority_range_is_checked_before_any_network() -> None:
    result = invoke(["job", "priority", "7", "101"], Untouchable())
    assert result.exit_code == 2
    assert "101" in result.stderr


def test_job_log_prints_every_started_task_with_headers() -> None:
    result = invoke(["job", "log", "7"], FakeClient())
    assert result.exit_code == 0, result.output
    assert "==> task 1 (frames 1-2) <==\nrendering frame 1\nrendering frame 2\n" in result.stdout
    assert "==> task 2 (frames 3-4) <==\nframe 3\n" in result.stdout


def test_job_log_of_one_task_and_follow_until_finished() -> None:
    client = FakeClient(make_job(JobState.SUCCEEDED))
    result = invoke(["job", "log", "7", "--task", "2", "--follow"], client)
    assert result.exit_code == 0, result.output
    assert result.stdout == "frame 3\n"


def test_job_log_unknown_task_names_the_tasks() -> None:
    result = invoke(["job", "log", "7", "--task", "99"], FakeClient())
    assert result.exit_code == 1
    assert "Job 7 has no task 99; its tasks are numbered 1 to 2." in result.stderr


def test_not_found_from_the_daemon_is_shown_verbatim() -> None:
    result = invoke(["job", "show", "8"], FakeClient())
    assert result.exit_code == 1
    assert result.stderr.strip() == "There is no job 8."


def test_a_bug_is_not_dressed_up_as_a_user_error() -> None:
    class Broken(FakeClient):
        def jobs(self, **filters: Any) -> JobPage:
            raise RuntimeError("bug")

    result = invoke(["jobs"], Broken())
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_unreachable_daemon_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr("common.client.time.sleep", lambda _: None)
    result = CliRunner().invoke(cli, ["--daemon-url", f"http://127.0.0.1:{port}", "jobs"])
    assert result.exit_code == 1
    assert f"Cannot reach the Cloudburst daemon at http://127.0.0.1:{port}." in result.stderr
    assert "Traceback" not in result.output


def test_daemon_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDBURST_DAEMON_URL", "http://farm.example:1234")
    state = CliState()
    assert state.get_client().base_url == "http://farm.example:1234"
    assert CliState(daemon_url="http://other:1").get_client().base_url == "http://other:1"


def test_bad_config_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDBURST_NO_SUCH_KEY", "1")
    result = CliRunner().invoke(cli, ["jobs"])
    assert result.exit_code == 1
    assert "Unknown setting(s) no_such_key" in result.stderr


# --- plugin commands -----------------------------------------------------------------------


def test_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint("daemon", "daemon.no_such_module_here:cmd", "cloudburst.commands")
    monkeypatch.setattr(cli_main, "plugin_entry_points", lambda: {"daemon": broken})
    monkeypatch.setattr(cli, "_loaded", {})
    result = CliRunner().invoke(cli, ["daemon", "--bind", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "The 'daemon' command cannot be loaded" in result.stderr
    assert "pip install 'cloudburst[daemon]'" in result.stderr
    listing = CliRunner().invoke(cli, ["--help"])
    assert listing.exit_code == 0
    assert "not installed: pip install 'cloudburst[daemon]'" in listing.stdout


def test_plugin_commands_are_listed_and_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    hello = EntryPoint("hello", "tests.common.cli.plugin:hello", "cloudburst.commands")
    monkeypatch.setattr(cli_main, "plugin_entry_points", lambda: {"hello": hello})
    monkeypatch.setattr(cli, "_loaded", {})
    result = CliRunner().invoke(cli, ["hello"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello from a plugin\n"


# --- progress view -------------------------------------------------------------------------


def test_progress_counts_frames_done() -> None:
    tasks = make_tasks()
    assert [frames_done(t) for t in tasks] == [2, 1]
    console = Console(file=StringIO(), width=120)
    with JobProgress(console) as view:
        view.update(make_job(), tasks)
    total = view.progress.tasks[0]
    assert (total.completed, total.total) == (3, 4)
    assert [t.completed for t in view.progress.tasks[1:]] == [2, 1]


# --- against the real daemon app ------------------------------------------------------------


def test_commands_against_the_real_daemon(live_url: str, services: Services, scene: Path) -> None:
    # An artist acting on their own job: the owner is the submitter's login name.
    token = user_token(services, getpass.getuser(), Role.ARTIST)
    runner = CliRunner(env={"COLUMNS": "200", "CLOUDBURST_TOKEN": token})

    def run(*args: str) -> Result:
        result = runner.invoke(cli, ["--daemon-url", live_url, *args])
        assert result.exit_code == 0, result.output
        return result

    job = json.loads(
        run("submit", str(scene), "-f", "1-6", "--chunk", "2", "--json", "--no-preflight").stdout
    )
    assert job["frame_count"] == 6 and job["state"] == "queued"
    job_id = str(job["id"])
    page = json.loads(run("jobs", "--owner", job["spec"]["owner"], "--json").stdout)
    assert [item["id"] for item in page["items"]] == [job["id"]]
    assert "queued 3" in run("job", "show", job_id).stdout
    assert (
        json.loads(run("job", "priority", job_id, "75", "--json").stdout)["spec"]["priority"] == 75
    )
    assert "it is now paused" in run("job", "pause", job_id).stdout
    assert "it is now cancelled" in run("job", "cancel", job_id).stdout
    assert run("job", "log", job_id).stdout == ""
    missing = runner.invoke(cli, ["--daemon-url", live_url, "job", "show", "999"])
    assert missing.exit_code == 1 and "999" in missing.stderr


def test_submit_makes_the_signed_in_account_the_owner_not_the_os_login(
    live_url: str, services: Services, scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "root")  # the machine's login
    ana = user_token(services, "ana", Role.ARTIST)
    tess = user_token(services, "tess", Role.TD)

    def submit(token: str, *extra: str) -> Result:
        runner = CliRunner(env={"CLOUDBURST_TOKEN": token})
        args = ["--daemon-url", live_url, "submit", str(scene), "-f", "1-2", "--json",
                "--no-preflight", *extra]  # fmt: skip
        return runner.invoke(cli, args)

    own = submit(ana)
    assert own.exit_code == 0, own.output
    job = json.loads(own.stdout)
    assert (job["spec"]["owner"], job["submitted_by"]) == ("ana", "ana")
    for_ana = json.loads(submit(tess, "--owner", "ana").stdout)
    assert (for_ana["spec"]["owner"], for_ana["submitted_by"]) == ("ana", "tess")
    shown = CliRunner(env={"CLOUDBURST_TOKEN": tess, "COLUMNS": "200"}).invoke(
        cli, ["--daemon-url", live_url, "job", "show", str(for_ana["id"])]
    )
    assert "Submitted by" in shown.stdout and "tess" in shown.stdout
    refused = submit(ana, "--owner", "root")
    assert refused.exit_code == 1
    assert "signed in as 'ana'" in refused.stderr and "Leave the owner out" in refused.stderr
