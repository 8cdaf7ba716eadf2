"""The outbox: order kept through an outage, persistence, and dropping a task taken back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.log_buffer import LogBuffer
from cloud_agent.outbox import Backoff, Outbox, OutboxStore, UpdateBody, UpdateKind
from common.errors import (
    CloudburstError,
    DaemonUnreachable,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TaskNotYours,
)
from common.models import TaskAssignment, TaskDone, TaskFailure, TaskLogChunk, TaskProgress


class FakeSink:
    """Records what reaches the "daemon"; fails on demand like the real client does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, UpdateBody]] = []
        self.down = False
        self.busy = False
        self.not_yours: set[int] = set()
        self.unknown: set[int] = set()
        self.refused: set[UpdateKind] = set()
        self.server_errors = 0

    def _call(self, kind: str, agent_id: str, task_id: int, body: UpdateBody) -> None:
        if self.down:
            raise DaemonUnreachable("down")
        if self.busy:
            raise ServiceUnavailable("busy")
        if task_id in self.not_yours:
            raise TaskNotYours(f"task {task_id} is not yours")
        if task_id in self.unknown:
            raise NotFound(f"no task {task_id}")
        if UpdateKind(kind) in self.refused:
            raise InvalidInput(f"bad {kind}")
        if self.server_errors:
            self.server_errors -= 1
            raise CloudburstError("internal error")
        self.calls.append((kind, agent_id, task_id, body))

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        self._call("progress", agent_id, task_id, update)

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        self._call("log", agent_id, task_id, chunk)

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> None:
        self._call("complete", agent_id, task_id, done)

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        self._call("fail", agent_id, task_id, failure)


@pytest.fixture
def store(tmp_path: Path) -> OutboxStore:
    return OutboxStore(tmp_path / "state" / "outbox.sqlite3")


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


def progress(value: float, attempt: int = 1, frames: list[int] | None = None) -> TaskProgress:
    return TaskProgress(attempt=attempt, progress=value, frames_done=frames or [])


def log(offset: int, text: str, attempt: int = 1) -> TaskLogChunk:
    return TaskLogChunk(attempt=attempt, offset=offset, text=text)


def test_order_is_kept_across_a_daemon_outage(store: OutboxStore, sink: FakeSink) -> None:
    outbox = Outbox(store, sink)
    sent: list[tuple[int, UpdateBody]] = [
        (1, progress(0.0)),
        (1, log(0, "Fra: 1\n")),
        (1, progress(0.5, frames=[1])),
    ]
    for task_id, body in sent[:2]:
        outbox.put("agent-a", task_id, body)
    sink.down = True
    assert outbox.deliver_pending() is False
    assert outbox.deliver_pending() is False
    assert sink.calls == []
    # More updates arrive while the daemon is away; none may overtake the first.
    outbox.put("agent-a", *sent[2])
    sent.append((1, TaskDone(attempt=1, outputs=["/r/f_0001.png"])))
    outbox.put("agent-a", *sent[3])
    sent.append((2, progress(0.0)))
    outbox.put("agent-a", *sent[4])
    sink.busy, sink.down = True, False
    assert outbox.deliver_pending() is False
    assert len(outbox) == 5
    sink.busy = False
    assert outbox.deliver_pending() is True
    assert [(task_id, body) for _, _, task_id, body in sink.calls] == sent
    assert [kind for kind, *_ in sink.calls] == ["progress", "log", "progress", "complete",
                                                 "progress"]  # fmt: skip
    assert {agent for _, agent, _, _ in sink.calls} == {"agent-a"}
    assert len(outbox) == 0


def test_updates_survive_reopening_the_store(tmp_path: Path, sink: FakeSink) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = OutboxStore(path)
    bodies: list[UpdateBody] = [
        log(0, "line\n"),
        TaskFailure(attempt=2, error="Blender exited with code 1", preempted=False),
        TaskDone(attempt=1, outputs=["/r/a.png", "/r/b.png"]),
    ]
    for number, body in enumerate(bodies):
        first.put(f"agent-{number}", 10 + number, body)
    first.close()

    again = OutboxStore(path)
    pending = again.pending()
    assert [u.body for u in pending] == bodies
    assert [u.agent_id for u in pending] == ["agent-0", "agent-1", "agent-2"]
    assert [u.task_id for u in pending] == [10, 11, 12]
    assert [u.kind for u in pending] == [UpdateKind.LOG, UpdateKind.FAIL, UpdateKind.COMPLETE]
    assert Outbox(again, sink).deliver_pending() is True
    assert [c[3] for c in sink.calls] == bodies
    again.close()
    assert OutboxStore(path).pending() == []


def test_task_not_yours_drops_that_attempt_and_tells_the_agent(
    store: OutboxStore, sink: FakeSink
) -> None:
    lost: list[tuple[int, int, str]] = []
    outbox = Outbox(store, sink, on_task_lost=lambda *args: lost.append(args))
    outbox.put("a", 7, progress(0.1))
    outbox.put("a", 8, progress(0.2))
    outbox.put("a", 7, log(0, "x\n"))
    outbox.put("a", 7, TaskDone(attempt=1, outputs=[]))
    outbox.put("a", 8, TaskDone(attempt=1, outputs=["/r/8.png"]))
    sink.not_yours = {7}
    assert outbox.deliver_pending() is True
    assert [(c[0], c[2]) for c in sink.calls] == [("progress", 8), ("complete", 8)]
    assert lost == [(7, 1, "task 7 is not yours")]
    # Later updates of the lost attempt are ignored; a new attempt of the task is not.
    sink.not_yours = set()
    outbox.put("a", 7, log(2, "late\n"))
    assert len(outbox) == 0
    outbox.put("a", 7, progress(0.0, attempt=2))
    assert outbox.deliver_pending() is True
    assert sink.calls[-1] == ("progress", "a", 7, progress(0.0, attempt=2))


def test_not_found_drops_the_task_too(store: OutboxStore, sink: FakeSink) -> None:
    lost: list[int] = []
    outbox = Outbox(store, sink, on_task_lost=lambda task_id, attempt, why: lost.append(task_id))
    outbox.put("old-agent", 3, TaskDone(attempt=1, outputs=[]))
    outbox.put("new-agent", 4, progress(0.3))
    sink.unknown = {3}
    assert outbox.deliver_pending() is True
    assert lost == [3]
    assert [c[2] for c in sink.calls] == [4]


def test_a_refused_update_is_given_up_alone(store: OutboxStore, sink: FakeSink) -> None:
    outbox = Outbox(store, sink)
    outbox.put("a", 1, log(0, "one\n"))
    outbox.put("a", 1, progress(0.5))
    outbox.put("a", 1, log(4, "two\n"))
    sink.refused = {UpdateKind.PROGRESS}
    assert outbox.deliver_pending() is True
    assert [c[3] for c in sink.calls] == [log(0, "one\n"), log(4, "two\n")]


def test_server_errors_are_retried_then_given_up(store: OutboxStore, sink: FakeSink) -> None:
    outbox = Outbox(store, sink, server_error_attempts=3)
    outbox.put("a", 1, TaskDone(attempt=1, outputs=[]))
    outbox.put("a", 2, TaskDone(attempt=1, outputs=[]))
    sink.server_errors = 1
    assert outbox.deliver_pending() is False  # kept first in line, to be tried again
    assert outbox.deliver_pending() is True
    assert [c[2] for c in sink.calls] == [1, 2]

    outbox.put("a", 3, TaskDone(attempt=1, outputs=[]))
    outbox.put("a", 4, TaskDone(attempt=1, outputs=[]))
    sink.server_errors = 100
    assert outbox.deliver_pending() is False
    assert outbox.deliver_pending() is False
    assert len(outbox) == 2
    sink.server_errors = 1  # the third failure gives task 3's update up; task 4's then goes
    assert outbox.deliver_pending() is True
    assert [c[2] for c in sink.calls] == [1, 2, 4]


def test_sender_thread_delivers_in_order_after_an_outage(
    store: OutboxStore, sink: FakeSink
) -> None:
    outbox = Outbox(store, sink, backoff_s=0.01, max_backoff_s=0.05)
    sink.down = True
    outbox.start()
    try:
        for number in range(20):
            outbox.put("a", 1, log(number, "x"))
        assert not outbox.wait_empty(0.2)
        sink.down = False
        assert outbox.wait_empty(30)
    finally:
        outbox.stop()
    assert [c[3].offset for c in sink.calls] == list(range(20))  # type: ignore[union-attr]


def test_stop_keeps_undelivered_updates(store: OutboxStore, sink: FakeSink) -> None:
    outbox = Outbox(store, sink, backoff_s=0.01)
    sink.down = True
    outbox.start()
    outbox.put("a", 1, TaskDone(attempt=1, outputs=[]))
    outbox.stop()
    assert [u.body for u in store.pending()] == [TaskDone(attempt=1, outputs=[])]


def test_backoff_doubles_up_to_its_ceiling_and_resets() -> None:
    backoff = Backoff(first=0.5, most=3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def chunks(store: OutboxStore) -> list[TaskLogChunk]:
    bodies = [u.body for u in store.pending()]
    assert all(isinstance(b, TaskLogChunk) for b in bodies)
    return bodies  # type: ignore[return-value]


def test_log_buffer_batches_lines_with_running_offsets(store: OutboxStore, sink: FakeSink) -> None:
    clock = Clock()
    buffer = LogBuffer(Outbox(store, sink), "a", 5, 2, max_chars=1000, max_delay_s=1.0,
                       clock=clock)  # fmt: skip
    buffer.add("Fra: 1 | Sample 1/4")
    buffer.add("Fra: 1 | Sample 2/4")
    assert chunks(store) == []  # neither big enough nor old enough
    clock.now = 1.5
    buffer.flush_if_due()
    buffer.add("Saved: 'é.png'")
    buffer.flush()
    got = chunks(store)
    assert [c.text for c in got] == [
        "Fra: 1 | Sample 1/4\nFra: 1 | Sample 2/4\n",
        "Saved: 'é.png'\n",
    ]
    assert [c.offset for c in got] == [0, 40]
    assert {c.attempt for c in got} == {2}
    assert buffer.offset == 40 + len("Saved: 'é.png'\n")
    buffer.flush()  # nothing waiting: nothing queued
    assert len(store) == 2


def test_log_buffer_flushes_by_size_and_splits_huge_lines(
    store: OutboxStore, sink: FakeSink
) -> None:
    buffer = LogBuffer(Outbox(store, sink), "a", 5, 1, max_chars=10, clock=Clock())
    buffer.add("x" * 25)
    got = chunks(store)
    assert [len(c.text) for c in got] == [10, 10, 6]
    assert [c.offset for c in got] == [0, 10, 20]
    assert "".join(c.text for c in got) == "x" * 25 + "\n"


class Waiting:
    """The agent's side of protocol 3: wants the next task until told otherwise; keeps what
    a completion's answer carried."""

    def __init__(self) -> None:
        self.wants = True
        self.taken: list[tuple[str, TaskAssignment]] = []

    def wanted(self, agent_id: str) -> bool:
        return self.wants

    def take(self, agent_id: str, assignment: TaskAssignment) -> None:
        self.taken.append((agent_id, assignment))


class NextSink(FakeSink):
    """A daemon of protocol 3: a completion that asks is answered with the next task."""

    def __init__(self, following: TaskAssignment) -> None:
        super().__init__()
        self.following = following
        self.asked: list[bool] = []

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> TaskAssignment | None:
        self.asked.append(done.lease_next)
        self._call("complete", agent_id, task_id, done)
        return self.following if done.lease_next else None


def next_task() -> TaskAssignment:
    return TaskAssignment(
        task_id=8, job_id=1, attempt=1, frames=[2], dcc="blender", renderer="", scene="/s.blend",
        output="/r/f_####", output_format="", env={}, timeout_s=None,
        lease_expires_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def test_a_resend_of_a_completion_that_asked_asks_again_whatever_the_agent_wants_now(
    store: OutboxStore,
) -> None:
    sink = NextSink(next_task())
    outbox = Outbox(store, sink)
    agent = Waiting()
    outbox.next_work = agent
    outbox.put("agent-a", 7, TaskDone(attempt=1, outputs=[]))
    sink.server_errors = 1  # the daemon leased the next task, and its answer was lost
    assert outbox.deliver_pending() is False
    agent.wants = False  # say the agent began stopping meanwhile
    assert outbox.deliver_pending() is True
    assert sink.asked == [True, True], "the resend asks for the task leased for the lost answer"
    assert agent.taken == [("agent-a", next_task())], "handed over (given back by a stopping one)"
    outbox.put("agent-a", 8, TaskDone(attempt=1, outputs=[]))
    assert outbox.deliver_pending() is True
    assert sink.asked == [True, True, False], "a new completion asks as the agent wants"
