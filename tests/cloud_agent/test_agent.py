"""The agent's pieces: one task run end to end with a real process, stops, cancels, heartbeats.

The runner here is a real ``Runner`` whose command is a small Python script that "renders"
frames as text files; updates land in the real outbox store, inspected without delivering.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from cloud_agent.agent import RUNNING_FILE, Agent, describe_host
from cloud_agent.outbox import Outbox, OutboxStore, UpdateBody
from cloud_agent.runners.base import LineReport
from cloud_agent.task_run import Outcome, ProgressThrottle
from common.client import LeaseAnswer
from common.config import Settings
from common.errors import DaemonUnreachable, NotFound, RenderError
from common.models import (
    AgentInfo,
    AgentProtocol,
    AgentRegistration,
    AgentUpdate,
    AgentUpdateReply,
    Capabilities,
    FailureClass,
    Gpu,
    Heartbeat,
    HeartbeatReply,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from common.paths_settings import PathSettings

RENDER = """
import os, sys, time
out, frames = sys.argv[1], [int(f) for f in sys.argv[2:]]
print(f"pid {os.getpid()} env {os.environ.get('CB_TEST_ENV')}", flush=True)
for frame in frames:
    print(f"frame {frame}", flush=True)
    with open(os.path.join(out, f"{frame}.txt"), "w") as fh:
        fh.write(str(frame))
    print(f"done {frame}", flush=True)
"""

HANG = """
import os, sys, time
print(f"pid {os.getpid()} env -", flush=True)
print("ready", flush=True)
time.sleep(600)
"""

FAIL = """
import sys
print("pid 0 env -", flush=True)
print("Error: cannot read scene", flush=True)
sys.exit(2)
"""

SILENT = """
import os, sys, time
print(f"pid {os.getpid()} env -", flush=True)
print("frame 1", flush=True)
time.sleep(600)
"""

NO_LICENCE = """
import sys
print("pid 0 env -", flush=True)
print("[14:02.11] ERROR: Foundry licensing error: no licence for nuke_r", flush=True)
print("Foundry license error: No license available for nuke_r (-1)", flush=True)
sys.exit(100)
"""

SEGFAULT = """
import os, signal
print(f"pid {os.getpid()} env -", flush=True)
print("Error: [Redshift] Out of VRAM", flush=True)
os.kill(os.getpid(), signal.SIGSEGV)
"""


class ScriptRender:
    """A ``TaskRender`` whose renderer is a Python script writing ``<frame>.txt`` files."""

    def __init__(self, assignment: TaskAssignment, code: str, out: Path, hook: Hook) -> None:
        self.assignment = assignment
        self.out = out
        self.hook = hook
        self.command = [sys.executable, "-u", "-c", textwrap.dedent(code), str(out),
                        *map(str, assignment.frames)]  # fmt: skip
        self.env = {"CB_TEST_ENV": "from-runner"}
        self.pids: list[int] = []
        self._done: list[int] = []
        self.cleaned = False

    def interpret(self, line: str) -> LineReport:
        if line.startswith("pid "):
            self.pids.append(int(line.split()[1]))
        self.hook(line)
        if line.startswith("done "):
            self._done.append(int(line.split()[1]))
            return LineReport(progress=self.progress(), frames_done=(self._done[-1],))
        if line.startswith("Error:"):
            return LineReport(error=line)
        return LineReport()

    def frames_done(self) -> list[int]:
        return list(self._done)

    def progress(self) -> float:
        return len(self._done) / len(self.assignment.frames)

    def finish(self, exit_code: int | None) -> list[str]:
        if exit_code != 0:
            raise RenderError(f"the script exited with code {exit_code}")
        paths = [self.out / f"{frame}.txt" for frame in self.assignment.frames]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise RenderError(f"missing {missing}")
        return [str(p) for p in paths]

    def cleanup(self) -> None:
        self.cleaned = True


Hook = Callable[[str], None]


class ScriptRunner:
    dcc = "script"

    def __init__(self, code: str, out: Path, hook: Hook = lambda line: None) -> None:
        self.code, self.out, self.hook = code, out, hook
        self.renders: list[ScriptRender] = []

    def prepare(self, assignment: TaskAssignment) -> ScriptRender:
        render = ScriptRender(assignment, self.code, self.out, self.hook)
        self.renders.append(render)
        return render


class NullSink:
    """The outbox is not started in these tests; updates stay in its store to be read."""

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None: ...
    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None: ...
    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> None: ...
    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None: ...
    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        raise AssertionError("an old daemon is never sent updates")


class StubClient:
    """Answers register, heartbeat and lease with what a test sets; records the calls.

    It speaks the old agent protocol (no ``agent_protocol``), like a daemon older than the
    quiet updates.
    """

    def __init__(self) -> None:
        self.registrations: list[AgentRegistration] = []
        self.beats: list[tuple[str, Heartbeat]] = []
        self.heartbeat_reply: HeartbeatReply | Exception = HeartbeatReply()
        self.lease_reply: TaskAssignment | Exception | None = None
        self.register_error: Exception | None = None
        self.on_register: Callable[[], None] = lambda: None

    def register(self, registration: AgentRegistration) -> AgentInfo:
        self.on_register()
        if self.register_error is not None:
            raise self.register_error
        self.registrations.append(registration)
        return AgentInfo(
            id=f"agent-{len(self.registrations)}", name=registration.name,
            hostname=registration.hostname, dccs=registration.dccs, pool=registration.pool,
            state="idle", last_seen=datetime.now(UTC), heartbeat_interval_s=1.0,
            lease_ttl_s=30.0,
        )  # fmt: skip

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply:
        self.beats.append((agent_id, beat))
        if isinstance(self.heartbeat_reply, Exception):
            raise self.heartbeat_reply
        return self.heartbeat_reply

    def agent_protocol(self) -> AgentProtocol | None:
        return None

    def lease_answer(self, agent_id: str) -> LeaseAnswer:
        if isinstance(self.lease_reply, Exception):
            raise self.lease_reply
        return LeaseAnswer(self.lease_reply, poll_interval_s=600.0)


def task(
    frames: list[int],
    *,
    dcc: str = "script",
    timeout_s: int | None = None,
    stall_timeout_s: int | None = None,
    output: str = "/r/f_####",
    scene: str = "/s.blend",
    env: dict[str, str] | None = None,
) -> TaskAssignment:
    return TaskAssignment(
        task_id=21, job_id=3, attempt=2, frames=frames, dcc=dcc, renderer="", scene=scene,
        output=output, output_format="", env=env or {}, timeout_s=timeout_s,
        lease_expires_at=datetime.now(UTC), stall_timeout_s=stall_timeout_s,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> OutboxStore:
    return OutboxStore(tmp_path / "state" / "outbox.sqlite3")


@pytest.fixture
def client() -> StubClient:
    return StubClient()


def make_agent(
    settings: Settings,
    client: StubClient,
    store: OutboxStore,
    runner: ScriptRunner,
    tmp: Path,
    dcc: str = "script",
) -> Agent:
    agent = Agent(
        settings, client, Outbox(store, NullSink()), {dcc: runner},
        state_dir=tmp / "state", kill_grace_s=2.0,
        progress_throttle=lambda: ProgressThrottle(min_interval_s=0.0),
    )  # fmt: skip
    agent.register()
    return agent


def bodies(store: OutboxStore) -> list[UpdateBody]:
    return [update.body for update in store.pending()]


def log_text(store: OutboxStore) -> str:
    chunks = [b for b in bodies(store) if isinstance(b, TaskLogChunk)]
    offset = 0
    for chunk in chunks:
        assert chunk.offset == offset, "log chunks must follow each other without gaps"
        offset += len(chunk.text)
    return "".join(chunk.text for chunk in chunks)


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def in_thread(action: Callable[[], object]) -> Hook:
    """A hook that runs ``action`` on another thread when the script says it is ready."""

    def hook(line: str) -> None:
        if line == "ready":
            threading.Thread(target=action).start()

    return hook


def test_a_task_reports_progress_log_and_done_in_order(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    runner = ScriptRunner(RENDER, tmp_path)
    agent = make_agent(settings, client, store, runner, tmp_path)

    assert agent.run_task(task([1, 2, 3], output=f"{tmp_path}/f_####"), agent.agent_id) is (
        Outcome.DONE
    )

    updates = store.pending()
    assert {u.agent_id for u in updates} == {"agent-1"}
    assert {u.task_id for u in updates} == {21}
    assert {u.attempt for u in updates} == {2}
    first, last = updates[0].body, updates[-1].body
    assert first == TaskProgress(attempt=2, progress=0.0)
    assert last == TaskDone(attempt=2, outputs=[str(tmp_path / f"{f}.txt") for f in (1, 2, 3)])
    progress = [b for b in bodies(store) if isinstance(b, TaskProgress)]
    assert [p.frames_done for p in progress][-1] == [1, 2, 3]
    assert [p.progress for p in progress] == sorted(p.progress for p in progress)
    text = log_text(store)
    assert "frame 1\ndone 1\nframe 2\n" in text
    assert "env from-runner" in text, "the runner's environment reaches the command"
    assert text.index("frame 3") < text.index("render exited with code 0")
    assert runner.renders[0].cleaned
    assert agent.current_task() is None
    assert not (tmp_path / "state" / RUNNING_FILE).exists()


def test_a_failed_render_reports_why(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = make_agent(settings, client, store, ScriptRunner(FAIL, tmp_path), tmp_path)
    assert agent.run_task(task([1]), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert last.error == "the script exited with code 2"
    assert not last.preempted
    assert last.error_class is FailureClass.RENDER_ERROR
    assert "Error: cannot read scene" in log_text(store)


def test_a_task_past_its_time_limit_is_killed_and_failed(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    runner = ScriptRunner(HANG, tmp_path)
    agent = make_agent(settings, client, store, runner, tmp_path)
    assert agent.run_task(task([1], timeout_s=1), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert "time limit of 1 s" in last.error
    assert not last.preempted
    assert last.error_class is FailureClass.TIMEOUT
    assert gone(runner.renders[0].pids[0])


def test_a_render_that_goes_silent_is_stopped_and_reported_stalled(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    runner = ScriptRunner(SILENT, tmp_path)
    agent = make_agent(settings, client, store, runner, tmp_path)
    assert agent.run_task(task([1, 2], stall_timeout_s=1), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure) and not last.preempted
    assert last.error_class is FailureClass.STALLED
    assert "No progress and no log line for 1 s; killed after 0 of 2 frame(s)" in last.error
    assert "render stalled and was stopped" in log_text(store)
    assert gone(runner.renders[0].pids[0])


def test_a_licence_line_makes_the_failure_a_licence_one(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = make_agent(
        settings, client, store, ScriptRunner(NO_LICENCE, tmp_path), tmp_path, "nuke"
    )
    assert agent.run_task(task([1], dcc="nuke"), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert last.error_class is FailureClass.LICENCE


def test_a_render_killed_by_a_segfault_is_a_crash(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    runner = ScriptRunner(SEGFAULT, tmp_path)
    agent = make_agent(settings, client, store, runner, tmp_path, "maya")
    assert agent.run_task(task([1], dcc="maya"), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert last.error_class is FailureClass.CRASH, "the signal wins over the VRAM line"


def test_a_task_whose_scene_is_missing_fails_as_a_missing_file(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    class Unpreparable(ScriptRunner):
        def prepare(self, assignment: TaskAssignment) -> ScriptRender:
            raise RenderError("cannot prepare")

    agent = make_agent(settings, client, store, Unpreparable(RENDER, tmp_path), tmp_path)
    scene = tmp_path / "shot.blend"
    assert agent.run_task(task([1], scene=str(scene)), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure) and last.error_class is FailureClass.MISSING_FILE
    scene.write_text("a scene")
    assert agent.run_task(task([1], scene=str(scene)), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure) and last.error_class is FailureClass.RENDER_ERROR


def test_stopping_the_agent_kills_the_render_and_reports_it_preempted(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent_box: list[Agent] = []
    runner = ScriptRunner(HANG, tmp_path, in_thread(lambda: agent_box[0].request_stop("SIGTERM")))
    agent = make_agent(settings, client, store, runner, tmp_path)
    agent_box.append(agent)
    assert agent.run_task(task([1, 2]), agent.agent_id) is Outcome.PREEMPTED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert last.preempted
    assert last.error_class is None, "a preempted render was not at fault"
    assert "SIGTERM" in last.error
    assert agent.stopping
    assert gone(runner.renders[0].pids[0])


def test_a_task_cancelled_by_heartbeat_is_killed_and_its_updates_dropped(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    client.heartbeat_reply = HeartbeatReply(cancel=[21])
    agent_box: list[Agent] = []
    runner = ScriptRunner(HANG, tmp_path, in_thread(lambda: agent_box[0].heartbeat_once()))
    agent = make_agent(settings, client, store, runner, tmp_path)
    agent_box.append(agent)
    assert agent.run_task(task([1]), agent.agent_id) is Outcome.LOST
    assert [(agent_id, beat.task_ids) for agent_id, beat in client.beats] == [("agent-1", [21])]
    assert bodies(store) == [], "nothing more may be sent about a task taken back"
    assert gone(runner.renders[0].pids[0])
    assert not agent.stopping


def test_an_unknown_dcc_fails_the_task_with_what_the_agent_renders(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = make_agent(settings, client, store, ScriptRunner(RENDER, tmp_path), tmp_path)
    assert agent.run_task(task([1], dcc="maya"), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert "no runner for 'maya'" in last.error
    assert "script" in last.error


#: Tasks a node refuses before it writes or runs anything, and the words of its refusal.
REFUSED_TASKS: dict[str, tuple[dict[str, Any], str]] = {
    "a relative output": ({"output": "renders/f_####"}, "is not absolute"),
    "an output climbing out": ({"output": "/r/../../etc/f_####"}, "'..'"),
    "a scene with a NUL": ({"scene": "/s.blend\x00"}, "NUL"),
    "a relative scene": ({"scene": "s.blend"}, "is not absolute"),
    "an output outside the node's roots": ({"output": "/etc/cron.d/f_####"}, "is outside"),
    "a scene outside the node's roots": ({"scene": "/home/ana/s.blend"}, "is outside"),
    "the node's token in the env": ({"env": {"CLOUDBURST_TOKEN": "x"}}, "render node itself"),
    "a NUL in the env": ({"env": {"SHOT": "a\x00"}}, "NUL"),
    "too many variables": ({"env": {f"V{i}": "" for i in range(201)}}, "at most 200"),
}


@pytest.mark.parametrize("name", REFUSED_TASKS)
def test_a_task_breaking_the_nodes_rules_is_refused_before_anything_runs(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path, name: str
) -> None:
    roots = PathSettings(scene_roots=["/s.blend", "/shows"], output_roots=["/r", "/renders"])
    runner = ScriptRunner(RENDER, tmp_path)
    agent = make_agent(
        settings.model_copy(update={"paths": roots}), client, store, runner, tmp_path
    )
    changes, words = REFUSED_TASKS[name]
    assert agent.run_task(task([1], **changes), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure) and not last.preempted
    assert "refuses this task" in last.error and words in last.error
    assert last.error_class is FailureClass.BAD_SCENE
    assert runner.renders == [], "nothing may be prepared, written or run"
    assert not list(tmp_path.glob("*.txt"))


def test_files_outside_the_output_folder_are_not_reported(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    runner = ScriptRunner(RENDER, tmp_path)  # writes next to the job's output folder, not in it
    agent = make_agent(settings, client, store, runner, tmp_path)
    output = f"{tmp_path}/beauty/f_####"
    assert agent.run_task(task([1, 2], output=output), agent.agent_id) is Outcome.DONE
    assert bodies(store)[-1] == TaskDone(attempt=2, outputs=[])
    assert f"{tmp_path}/1.txt is not directly in the job's output folder" in log_text(store)


def test_heartbeat_for_a_forgotten_agent_registers_again(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = make_agent(settings, client, store, ScriptRunner(RENDER, tmp_path), tmp_path)
    client.heartbeat_reply = NotFound("no agent agent-1")
    assert agent.heartbeat_once() is None
    assert agent.agent_id == "agent-2"
    assert len(client.registrations) == 2
    client.heartbeat_reply = DaemonUnreachable("down")
    assert agent.heartbeat_once() is None  # logged, not raised
    assert agent.agent_id == "agent-2"


def test_an_unreachable_daemon_does_not_stop_the_main_loop(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = make_agent(settings, client, store, ScriptRunner(RENDER, tmp_path), tmp_path)
    client.lease_reply = DaemonUnreachable("down")
    assert agent.step() is None
    client.lease_reply = NotFound("no agent agent-1")
    assert agent.step() is None
    assert agent.agent_id == "agent-2"
    client.lease_reply = None
    assert agent.step() is None


def test_run_returns_0_when_stopped_while_the_daemon_is_unreachable(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    agent = Agent(
        settings, client, Outbox(store, NullSink()), {"script": ScriptRunner(RENDER, tmp_path)},
        state_dir=tmp_path / "state",
    )  # fmt: skip
    client.register_error = DaemonUnreachable("down")
    client.on_register = lambda: agent.request_stop("test over")
    assert agent.run() == 0
    assert agent.stopping


def test_describe_host(settings: Settings) -> None:
    found = Capabilities(
        dccs=["blender"], dcc_versions={"blender": "4.2.3"}, cores=32, memory_mb=131072,
        os="linux", gpus=[Gpu(model="NVIDIA RTX A6000", memory_mb=49140)],
    )  # fmt: skip
    node = settings.model_copy(update={"agent_name": "node-7", "agent_tags": ["nvme", "bad tag"]})
    registration = describe_host(node, found)
    assert registration.name == "node-7"
    assert registration.dccs == ["blender"]
    assert registration.dcc_versions == {"blender": "4.2.3"}
    assert registration.pool == "local"
    assert (registration.cores, registration.memory_mb, registration.os) == (32, 131072, "linux")
    assert registration.gpus == found.gpus
    assert registration.tags == ["nvme"], "a tag no job could name is left out"
    assert registration.hostname


def test_the_registration_and_a_changed_node_reach_the_daemon(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    gpu = Gpu(model="NVIDIA L40S", memory_mb=46068)
    now = Capabilities(dccs=["script"], cores=8, memory_mb=32768, os="linux", gpus=[gpu])
    agent = Agent(
        settings.model_copy(update={"agent_tags": ["gpu", "lighting"]}), client,
        Outbox(store, NullSink()), {"script": ScriptRunner(RENDER, tmp_path)},
        state_dir=tmp_path / "state", capabilities=lambda: now, recheck_s=0.0,
    )  # fmt: skip
    agent.register()
    sent = client.registrations[0]
    assert (sent.gpus, sent.cores, sent.tags, sent.os) == ([gpu], 8, ["gpu", "lighting"], "linux")
    agent.heartbeat_once()
    assert client.beats[-1][1].capabilities is None, "nothing changed: nothing sent"

    now = now.model_copy(update={"gpus": [gpu, gpu]})  # a second card came up
    client.heartbeat_reply = DaemonUnreachable("down")
    agent.heartbeat_once()
    assert client.beats[-1][1].capabilities == now
    client.heartbeat_reply = HeartbeatReply()
    agent.heartbeat_once()  # the failed beat's news goes again
    assert client.beats[-1][1].capabilities == now
    agent.heartbeat_once()
    assert client.beats[-1][1].capabilities is None
    agent.register()
    assert client.registrations[-1].gpus == [gpu, gpu], "registering again tells the news too"


def test_progress_throttle() -> None:
    now = [0.0]
    throttle = ProgressThrottle(min_interval_s=1.0, min_step=0.05, clock=lambda: now[0])
    assert throttle.due(0.0, 0)
    assert not throttle.due(0.01, 0)  # too small a step
    now[0] = 0.5
    assert not throttle.due(0.2, 0)  # too soon
    assert throttle.due(0.25, 1)  # a frame done always goes
    now[0] = 2.0
    assert throttle.due(0.35, 1)


def test_the_running_record_is_cleaned_at_start(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    record = tmp_path / "state" / RUNNING_FILE
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text('{"pid": 999999999, "create_time": 1.0, "argv": []}')
    agent = Agent(
        settings, client, Outbox(store, NullSink()), {"script": ScriptRunner(RENDER, tmp_path)},
        state_dir=tmp_path / "state",
    )  # fmt: skip
    client.on_register = lambda: agent.request_stop("test over")
    client.register_error = DaemonUnreachable("down")
    agent.run()
    assert not record.exists()
    assert os.path.isdir(tmp_path / "state")


def test_a_bug_in_a_runner_fails_the_task_and_kills_the_render(
    settings: Settings, client: StubClient, store: OutboxStore, tmp_path: Path
) -> None:
    def broken(line: str) -> None:
        if line == "ready":
            raise KeyError("frame")

    runner = ScriptRunner(HANG, tmp_path, broken)
    agent = make_agent(settings, client, store, runner, tmp_path)
    assert agent.run_task(task([1]), agent.agent_id) is Outcome.FAILED
    last = bodies(store)[-1]
    assert isinstance(last, TaskFailure)
    assert last.error == "The agent failed: KeyError('frame')"
    assert gone(runner.renders[0].pids[0])
    assert agent.current_task() is None
