"""Real agents over real HTTP: against a version-2 daemon (``fake_daemon``) a rendering agent
sends one update per interval instead of a call per progress value and log chunk; against a
version-3 one it takes its next task from a completion's answer; against a daemon without
``/agents/protocol`` it speaks the old calls."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cloud_agent.agent import Agent
from cloud_agent.identity import AgentIdentity
from cloud_agent.outbox import Outbox, OutboxStore
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.models import (
    AgentUpdate,
    AgentUpdateReply,
    JobSpec,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from common.states import TaskState
from tests.cloud_agent.fake_daemon import FakeDaemon, running
from tests.cloud_agent.test_agent import HANG, ScriptRunner, gone
from tests.serving import serve

STEADY = """
import os, sys, time
out, frames = sys.argv[1], [int(f) for f in sys.argv[2:]]
print(f"pid {os.getpid()} env -", flush=True)
for frame in frames:
    print(f"frame {frame}", flush=True)
    time.sleep(0.1)
    with open(os.path.join(out, f"{frame}.txt"), "w") as fh:
        fh.write(str(frame))
    print(f"done {frame}", flush=True)
"""

FRAMES = list(range(1, 21))
EXPECTED = [line for f in FRAMES for line in (f"frame {f}", f"done {f}")]
LEASED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def assignment(tmp: Path, frames: list[int] = FRAMES) -> TaskAssignment:
    return TaskAssignment(
        task_id=5, job_id=1, attempt=1, frames=frames, dcc="script", renderer="",
        scene="/proj/s.blend", output=f"{tmp}/f_####", output_format="", env={},
        timeout_s=None, lease_expires_at=LEASED_AT,
    )  # fmt: skip


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


class Sender:
    """The outbox's client, over HTTP, noting when each call left (the render's clock)."""

    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self.sent: list[tuple[str, float]] = []
        self.asked_next: list[bool] = []
        """Per completion sent, whether it asked for the next task."""

    def _note(self, kind: str) -> None:
        self.sent.append((kind, time.monotonic()))

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        self._note("updates")
        return self.client.updates(agent_id, update)

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        self._note("progress")
        self.client.progress(agent_id, task_id, update)

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        self._note("log")
        self.client.append_log(agent_id, task_id, chunk)

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> TaskAssignment | None:
        self._note("complete")
        self.asked_next.append(done.lease_next)
        return self.client.complete(agent_id, task_id, done)

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        self._note("fail")
        self.client.fail(agent_id, task_id, failure)


@contextmanager
def agent_at(
    url: str,
    settings: Settings,
    state_dir: Path,
    runner: ScriptRunner,
    *,
    identity: AgentIdentity | None = None,
    dcc: str = "script",
) -> Iterator[tuple[Agent, Sender]]:
    """An agent of real clients at ``url``, running on its own thread until the block ends."""
    auth = identity.credentials if identity else None
    client = DaemonClient(url, auth=auth)
    sender = Sender(DaemonClient(url, retries=0, auth=auth))
    node = settings.model_copy(update={"daemon_url": url, "agent_name": "node-q"})
    agent = Agent(
        node, client, Outbox(OutboxStore(state_dir / "outbox.sqlite3"), sender, backoff_s=0.1),
        {dcc: runner}, state_dir=state_dir, identity=identity, kill_grace_s=1.0,
        flush_timeout_s=1.0,
    )  # fmt: skip
    thread = threading.Thread(target=agent.run, name="agent")
    thread.start()
    try:
        yield agent, sender
    finally:
        agent.request_stop("test over")
        thread.join(timeout=30)
        agent.outbox.store.close()
        client.close()
        sender.client.close()
    assert not thread.is_alive()


def render_once(fake: FakeDaemon, settings: Settings, tmp: Path) -> tuple[Agent, Sender]:
    fake.tasks.append(assignment(tmp))
    runner = ScriptRunner(STEADY, tmp)
    with running(fake) as url, agent_at(url, settings, tmp / "state", runner) as (agent, sender):
        wait_for(lambda: fake.of("complete", "fail"), "the task's report")
    return agent, sender


def frame_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("frame ", "done "))]


def test_a_rendering_agent_sends_one_update_per_interval_not_a_call_per_report(
    settings: Settings, tmp_path: Path
) -> None:
    old = FakeDaemon(version=None)
    render_once(old, settings, tmp_path / "old")
    quiet = FakeDaemon(version=2, update_interval_s=1.0)
    agent, sender = render_once(quiet, settings, tmp_path / "new")

    assert agent.quiet
    assert not quiet.of("progress", "log", "heartbeat"), "version 2: updates only"
    assert sender.asked_next == [False], "a version-2 daemon is never asked for the next task"
    updates = quiet.of("updates")
    held = [u.body.task_ids for u in updates[:-1]]  # the last may go after the render ended
    assert held == [[5]] * len(held), "each update is the task's heartbeat too"
    first = next(at for kind, at in sender.sent if kind == "updates")
    done = next(at for kind, at in sender.sent if kind == "complete")
    assert len(updates) <= math.floor((done - first) / quiet.update_interval_s) + 2
    reports = [c.kind for c in quiet.of("updates", "complete")]
    assert reports[-1] == "complete", "the complete follows the update that ends the log"
    last = [t for t in updates[-1].body.tasks if t.task_id == 5][-1]
    assert (last.progress, last.frames_done) == (1.0, FRAMES)

    text = quiet.log_text(5)
    assert frame_lines(text) == frame_lines(old.log_text(5)) == EXPECTED, "the whole log"
    assert text.index("done 20") < text.index("render exited with code 0")

    old_calls = old.of("progress", "log", "heartbeat", "complete")
    new_calls = quiet.of("updates", "complete")
    assert len(old_calls) >= 2 * len(new_calls) + 10, (len(old_calls), len(new_calls))


def test_an_agent_restarted_mid_render_resends_what_the_daemon_did_not_accept(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=2, update_interval_s=1.0, updates_down=True)
    fake.tasks.append(assignment(tmp_path))
    state_dir = tmp_path / "state"
    box: list[Agent] = []

    def stop_at_frame_5(line: str) -> None:  # the agent dies mid-render
        if line == "done 5":
            threading.Thread(target=box[0].request_stop, args=("SIGTERM",)).start()

    runner = ScriptRunner(STEADY, tmp_path, stop_at_frame_5)
    with running(fake) as url:
        with agent_at(url, settings, state_dir, runner) as (agent, _):
            box.append(agent)
            wait_for(lambda: agent.stopping, "the stop")
        assert not fake.of("updates", "fail"), "the daemon accepted nothing"
        assert len(OutboxStore(state_dir / "outbox.sqlite3")) > 0, "kept on disk"

        fake.updates_down = False
        with agent_at(url, settings, state_dir, ScriptRunner(STEADY, tmp_path)):
            [failure] = wait_for(lambda: fake.of("fail"), "the preempted report")

    assert failure.body.preempted
    assert [c.kind for c in fake.calls if c.kind in ("updates", "fail")][-1] == "fail"
    text = fake.log_text(5)
    assert text.startswith("[cloudburst] agent node-q: ")
    assert "frame 1\n" in text and "done 5\n" in text
    assert "render stopped" in text, "the last lines before the stop arrived too"


def test_a_task_the_daemon_cancels_in_an_update_reply_is_killed(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=2, update_interval_s=1.0)
    fake.tasks.append(assignment(tmp_path))
    runner = ScriptRunner(HANG, tmp_path)
    with running(fake) as url, agent_at(url, settings, tmp_path / "state", runner) as (agent, _):
        wait_for(lambda: runner.renders and runner.renders[0].pids, "the render to start")
        fake.cancel = {5}  # the next update's reply says so
        assert gone(runner.renders[0].pids[0]), "the render was killed"
        wait_for(lambda: agent.current_task() is None, "the task to be dropped")
        assert len(agent.outbox) == 0, "its pending rows were dropped"
    assert fake.of("updates")
    assert not fake.of("complete", "fail"), "a cancelled task is not reported"


class RecordingStop(threading.Event):
    """The agent's stop event, noting each wait and waiting no time."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return super().wait(0)


@pytest.mark.parametrize(("version", "expected"), [(2, 42.0), (None, 0.2)])
def test_an_idle_agent_waits_the_poll_interval_the_daemon_asks_of_version_2_agents(
    settings: Settings, tmp_path: Path, version: int | None, expected: float
) -> None:
    fake = FakeDaemon(version=version, poll_interval_s=42.0)
    node = settings.model_copy(update={"poll_interval_s": 0.2})
    with running(fake) as url:
        client = DaemonClient(url)
        outbox = Outbox(OutboxStore(tmp_path / "o.sqlite3"), client)
        runners = {"script": ScriptRunner(HANG, tmp_path)}
        agent = Agent(node, client, outbox, runners, state_dir=tmp_path / "state")
        agent.register()
        stop = RecordingStop()
        agent._stop = stop
        assert agent.step() is None
        client.close()
        outbox.store.close()
    assert stop.waits == [expected]
    assert [c.kind for c in fake.calls] == ["register", "protocol", "lease"]


def test_an_idle_version_2_agent_sends_no_update_and_stops_at_once(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=2, poll_interval_s=600.0)
    node = settings.model_copy(update={"heartbeat_interval_s": 0.1})
    with (
        running(fake) as url,
        agent_at(url, node, tmp_path / "state", ScriptRunner(HANG, tmp_path)),
    ):
        wait_for(lambda: fake.of("lease"), "a lease poll")
        time.sleep(0.5)  # heartbeats would have gone by now (every 0.1 s)
    assert not fake.of("updates", "heartbeat", "progress", "log")
    assert len(fake.of("lease")) == 1, "it waits the daemon's 600 s, and a stop wakes it"


def without_protocol_2(app: Flask) -> Callable[..., Any]:
    """The real daemon as one older than protocol 2 answers: no ``/agents/protocol`` and no
    ``/updates`` (404); every other route is the real one."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/api/v1/agents/protocol" or path.endswith("/updates"):
            body = b'{"code": "not_found", "message": "No such endpoint."}'
            start_response("404 NOT FOUND", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body)))])  # fmt: skip
            return [body]
        return app(environ, start_response)

    return wsgi


def render_on_the_real_daemon(
    url: str, admin_token: str, settings: Settings, tmp: Path
) -> tuple[bool, list[str], str]:
    """A real agent renders a 20-frame task on a real daemon at ``url``.

    Returns:
        Whether it spoke protocol 2, the calls its outbox made, and the task's stored log.
    """
    admin = DaemonClient(url, auth=StaticToken(admin_token))
    state_dir = tmp / "agent"
    identity = AgentIdentity(state_dir, admin.enrollment_token().token)
    out = tmp / "renders"
    out.mkdir()
    job = admin.submit(
        JobSpec(name="steady", scene="/proj/shot010.blend", frames="1-20", chunk_size=20,
                output=f"{out}/f_####")
    )  # fmt: skip
    runner = ScriptRunner(STEADY, out)
    with agent_at(url, settings, state_dir, runner, identity=identity, dcc="blender") as (
        agent,
        sender,
    ):

        def finished() -> bool:
            [task] = admin.tasks(job.id)
            return task.state in (TaskState.DONE, TaskState.FAILED)

        wait_for(finished, "the task to end")
    [task] = admin.tasks(job.id)
    assert task.state is TaskState.DONE, task.error
    log = admin.task_log(job.id, task.id).text
    admin.close()
    return agent.quiet, [kind for kind, _ in sender.sent], log


def test_the_real_daemon_without_protocol_2_gets_the_old_calls(
    app: Flask, admin_token: str, settings: Settings, tmp_path: Path
) -> None:
    with serve(without_protocol_2(app), threads=8) as url:
        quiet, kinds, log = render_on_the_real_daemon(url, admin_token, settings, tmp_path)
    assert not quiet
    assert "updates" not in kinds
    assert {"progress", "log", "complete"} <= set(kinds)
    assert frame_lines(log) == EXPECTED


def test_the_real_daemon_of_protocol_3_gets_updates(
    live_url: str, admin_token: str, settings: Settings, tmp_path: Path
) -> None:
    probe = DaemonClient(live_url, auth=StaticToken(admin_token))
    protocol = probe.agent_protocol()
    probe.close()
    assert protocol is not None and protocol.version == 3
    quiet, kinds, log = render_on_the_real_daemon(live_url, admin_token, settings, tmp_path)
    assert quiet
    assert set(kinds) == {"updates", "complete"}
    assert kinds[-1] == "complete"
    assert frame_lines(log) == EXPECTED, "the whole log, from the updates"


def test_a_version_3_agent_runs_the_next_task_the_completions_answer_carries(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=3, update_interval_s=1.0, poll_interval_s=600.0)
    first, second = assignment(tmp_path, [1, 2]), assignment(tmp_path, [3, 4])
    fake.tasks += [first, second.model_copy(update={"task_id": 6})]
    runner = ScriptRunner(STEADY, tmp_path)
    with (
        running(fake) as url,
        agent_at(url, settings, tmp_path / "state", runner) as (_, sender),
    ):
        wait_for(lambda: len(fake.of("complete")) == 2, "both tasks' reports")
        wait_for(lambda: len(fake.of("lease")) == 2, "the lease after the last task")
    calls = [(c.kind, c.task_id) for c in fake.calls if c.kind in ("lease", "complete")]
    assert calls == [("lease", None), ("complete", 5), ("complete", 6), ("lease", None)], (
        "task 6 came in task 5's answer, without a lease call"
    )
    assert sender.asked_next == [True, True]
    assert [r.assignment.frames for r in runner.renders] == [[1, 2], [3, 4]]


@contextmanager
def registered_agent(url: str, settings: Settings, tmp: Path) -> Iterator[Agent]:
    """An agent of real clients, registered at ``url``; its main loop is the test's to run."""
    client = DaemonClient(url)
    agent = Agent(
        settings.model_copy(update={"daemon_url": url}), client,
        Outbox(OutboxStore(tmp / "o.sqlite3"), client), {}, state_dir=tmp / "state",
        flush_timeout_s=5.0,
    )  # fmt: skip
    agent.register()
    try:
        yield agent
    finally:
        client.close()
        agent.outbox.store.close()


def test_a_next_task_an_agent_never_started_is_given_back_when_it_stops(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=3)
    with running(fake) as url, registered_agent(url, settings, tmp_path) as agent:
        assert agent.wanted("agent-1") and not agent.wanted("an-id-it-no-longer-has")
        agent.take("agent-1", assignment(tmp_path))
        assert not agent.wanted("agent-1"), "one task kept at a time"
        agent.request_stop("SIGTERM")
        assert agent.run() == 0
    [failure] = fake.of("fail")
    assert (failure.task_id, failure.body.attempt, failure.body.preempted) == (5, 1, True)
    assert "stopped before starting it (SIGTERM)" in failure.body.error
    assert not fake.of("lease"), "a stopping agent asks for nothing"


def test_a_next_task_that_arrives_after_the_stop_is_given_back_at_once(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeDaemon(version=3)
    with running(fake) as url, registered_agent(url, settings, tmp_path) as agent:
        agent.request_stop("SIGTERM")
        assert agent.run() == 0  # the main loop left while a completion was on its way
        agent.take("agent-1", assignment(tmp_path))  # its answer comes now
        pending = agent.outbox.store.pending()
    [given_back] = pending  # kept on disk: the next start sends it
    assert (given_back.task_id, given_back.kind, given_back.body.preempted) == (5, "fail", True)


@pytest.mark.parametrize("status", [404, 405])
def test_a_daemon_without_the_protocol_route_is_an_old_one(status: int) -> None:
    with running(FakeDaemon(version=None, old_status=status)) as url:
        client = DaemonClient(url)
        assert client.agent_protocol() is None
        client.close()


def test_agent_replies_with_fields_this_agent_does_not_know_are_read(tmp_path: Path) -> None:
    fake = FakeDaemon(version=2, update_interval_s=2.5, max_log_chars=1000)
    fake.tasks.append(assignment(tmp_path))
    with running(fake) as url:
        client = DaemonClient(url)
        protocol = client.agent_protocol()
        answer = client.lease_answer("agent-1")
        idle = client.lease_answer("agent-1")
        reply = client.updates("agent-1", AgentUpdate(task_ids=[5]))
        client.close()
    assert protocol is not None
    assert (protocol.version, protocol.update_interval_s, protocol.max_log_chars_per_update) == (
        2, 2.5, 1000,
    )  # fmt: skip
    assert answer.assignment == assignment(tmp_path)
    assert (idle.assignment, idle.poll_interval_s) == (None, 42.0)
    assert reply == AgentUpdateReply(cancel=[], update_interval_s=2.5)
