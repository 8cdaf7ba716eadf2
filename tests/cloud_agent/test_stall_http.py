"""A real agent loop against a daemon over real HTTP: a render that goes silent is stopped at
the job's stall time, reported as ``stalled``, and the daemon requeues its task with a retry
spent; the node's capabilities reached the daemon at registration."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloud_agent.agent import Agent
from cloud_agent.identity import AgentIdentity
from cloud_agent.outbox import Outbox, OutboxStore
from common.client import DaemonClient, LeaseAnswer
from common.config import Settings
from common.credentials import StaticToken
from common.models import (
    AgentInfo,
    AgentProtocol,
    AgentRegistration,
    AgentUpdate,
    AgentUpdateReply,
    FailureClass,
    Heartbeat,
    HeartbeatReply,
    JobSpec,
    Task,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from common.states import TaskState
from tests.cloud_agent.test_agent import SILENT, ScriptRunner


class OneLease:
    """The agent's client, over HTTP, that leases one task and then says there is no work."""

    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self.leased = 0

    def register(self, registration: AgentRegistration) -> AgentInfo:
        return self.client.register(registration)

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply:
        return self.client.heartbeat(agent_id, beat)

    def agent_protocol(self) -> AgentProtocol | None:
        return self.client.agent_protocol()

    def lease_answer(self, agent_id: str) -> LeaseAnswer:
        if self.leased:
            return LeaseAnswer(None)
        answer = self.client.lease_answer(agent_id)
        self.leased += answer.assignment is not None
        return answer

    def task_data(self, agent_id: str, task_id: int) -> Any:
        return self.client.task_data(agent_id, task_id)


class Recorder:
    """The outbox's sender: delivers each update over HTTP and keeps the failures it sent."""

    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self.failures: list[TaskFailure] = []

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        self.client.progress(agent_id, task_id, update)

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        self.client.append_log(agent_id, task_id, chunk)

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> None:
        self.client.complete(agent_id, task_id, done)

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        self.client.fail(agent_id, task_id, failure)
        self.failures.append(failure)

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        return self.client.updates(agent_id, update)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def test_a_silent_render_is_stalled_and_its_task_requeued_with_a_retry_spent(
    live_url: str, admin_token: str, settings: Settings, tmp_path: Path
) -> None:
    admin = DaemonClient(live_url, auth=StaticToken(admin_token))
    state_dir = tmp_path / "agent"
    identity = AgentIdentity(state_dir, admin.enrollment_token().token)
    client = DaemonClient(live_url, auth=identity.credentials)
    recorder = Recorder(DaemonClient(live_url, retries=0, auth=identity.credentials))
    node = settings.model_copy(
        update={"daemon_url": live_url, "agent_name": "node-s", "agent_tags": ["stall-test"]}
    )
    agent = Agent(
        node, OneLease(client), Outbox(OutboxStore(state_dir / "outbox.sqlite3"), recorder),
        {"blender": ScriptRunner(SILENT, tmp_path)}, state_dir=state_dir, identity=identity,
        kill_grace_s=1.0,
    )  # fmt: skip
    job = admin.submit(
        JobSpec(
            name="silent",
            scene="/proj/shot010.blend",
            frames="1-2",
            chunk_size=2,
            output="/renders/shot010/f_####",
            max_retries=2,
            stall_timeout_s=1,
        )
    )
    runner = threading.Thread(target=agent.run, name="agent")
    runner.start()
    try:

        def requeued() -> Task | None:
            [task] = admin.tasks(job.id)
            return task if task.state is TaskState.QUEUED and task.attempts >= 1 else None

        task = wait_for(requeued, "the stalled task to be back in the queue")
    finally:
        agent.request_stop("test over")
        runner.join(timeout=30)
        for each in (client, recorder.client):
            each.close()
    assert not runner.is_alive()

    assert task.attempts == 1, "the stall spent one retry"
    assert "No progress and no log line for 1 s; killed after 0 of 2 frame(s)" in task.error
    [sent] = recorder.failures
    assert sent.error_class is FailureClass.STALLED and not sent.preempted
    assert task.error_class is FailureClass.STALLED, "the daemon keeps the class on the task"

    [info] = [a for a in admin.agents() if a.name == "node-s"]
    assert info.os == "linux" and info.cores >= 1 and info.memory_mb > 0
    assert info.dccs == ["blender"] and info.tags == ["stall-test"]
    admin.close()
