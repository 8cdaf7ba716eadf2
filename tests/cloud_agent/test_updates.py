"""The quiet protocol's sender, with a fake clock: what one update carries, when it goes, and
that nothing is lost (rows leave the outbox only once the daemon accepted them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cloud_agent.agent import Agent
from cloud_agent.log_buffer import LogBuffer
from cloud_agent.outbox import Outbox, OutboxStore, UpdateBody
from cloud_agent.updates import QuietChannel, compose
from common.config import Settings
from common.errors import DaemonUnreachable, NotFound
from common.models import (
    AgentProtocol,
    AgentUpdate,
    AgentUpdateReply,
    Capabilities,
    Heartbeat,
    HeartbeatReply,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskLogPiece,
    TaskProgress,
    TaskUpdate,
)
from tests.cloud_agent.test_agent import RENDER, ScriptRunner, StubClient

INTERVAL = 4.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Daemon:
    """The sink of the outbox: records every call, in order; fails on demand."""

    calls: list[tuple[str, str, object]] = field(default_factory=list)
    down: bool = False
    unknown_agent: bool = False
    cancel: list[int] = field(default_factory=list)

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        if self.down:
            raise DaemonUnreachable("down")
        if self.unknown_agent:
            raise NotFound(f"no agent {agent_id}")
        self.calls.append(("updates", agent_id, update))
        return AgentUpdateReply(cancel=self.cancel, update_interval_s=INTERVAL)

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        raise AssertionError("a version-2 agent sends no progress call")

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        raise AssertionError("a version-2 agent sends no log call")

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> None:
        if self.down:
            raise DaemonUnreachable("down")
        self.calls.append(("complete", agent_id, done))

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        self.calls.append(("fail", agent_id, failure))

    def updates_sent(self) -> list[AgentUpdate]:
        return [body for kind, _, body in self.calls if isinstance(body, AgentUpdate)]


@dataclass
class Peer:
    """The agent as the channel sees it."""

    task_ids: list[int] = field(default_factory=list)
    agent_id: str = "agent-1"
    heard_cancel: list[int] = field(default_factory=list)
    forgot: list[str] = field(default_factory=list)

    def busy(self) -> bool:
        return bool(self.task_ids)

    def beat(self) -> tuple[str, Heartbeat]:
        return self.agent_id, Heartbeat(task_ids=self.task_ids)

    def heard(self, beat: Heartbeat, reply: HeartbeatReply) -> None:
        self.heard_cancel.extend(reply.cancel)

    def forgotten(self, agent_id: str) -> None:
        self.forgot.append(agent_id)


PROTOCOL = AgentProtocol(version=2, update_interval_s=INTERVAL, max_log_chars_per_update=100)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def daemon() -> Daemon:
    return Daemon()


@pytest.fixture
def peer() -> Peer:
    return Peer(task_ids=[7])


def quiet_outbox(store: OutboxStore, daemon: Daemon, peer: Peer, clock: Clock) -> Outbox:
    outbox = Outbox(store, daemon)
    outbox.quiet = QuietChannel(daemon, peer, PROTOCOL, clock=clock)
    return outbox


@pytest.fixture
def outbox(tmp_path: Path, daemon: Daemon, peer: Peer, clock: Clock) -> Outbox:
    return quiet_outbox(OutboxStore(tmp_path / "outbox.sqlite3"), daemon, peer, clock)


def put(outbox: Outbox, *bodies: UpdateBody, task_id: int = 7, agent_id: str = "agent-1") -> None:
    for body in bodies:
        outbox.put(agent_id, task_id, body)


def progress(value: float, frames: list[int] | None = None, attempt: int = 1) -> TaskProgress:
    return TaskProgress(attempt=attempt, progress=value, frames_done=frames or [])


def chunk(offset: int, text: str, attempt: int = 1) -> TaskLogChunk:
    return TaskLogChunk(attempt=attempt, offset=offset, text=text)


def sent_log(daemon: Daemon, task_id: int = 7) -> str:
    """Every log piece the daemon got for ``task_id``, checked to follow each other."""
    text = ""
    for update in daemon.updates_sent():
        for task in update.tasks:
            for piece in task.log if task.task_id == task_id else []:
                assert piece.offset == len(text), "pieces arrive in order, without gaps"
                text += piece.text
    return text


# --- compose: what one update carries ----------------------------------------------------------


def test_an_update_carries_the_newest_progress_and_the_log_joined_in_order(
    outbox: Outbox,
) -> None:
    put(outbox, progress(0.0), chunk(0, "a\n"), progress(0.5, [1]), chunk(2, "b\n"))
    put(outbox, progress(1.0, [1, 2]), TaskDone(attempt=1, outputs=[]), chunk(4, "late\n"))

    batch = compose(outbox.store.pending(), max_log_chars=1000)

    assert batch.tasks == [
        TaskUpdate(task_id=7, attempt=1, progress=1.0, frames_done=[1, 2],
                   log=[TaskLogPiece(offset=0, text="a\nb\n")])
    ]  # fmt: skip
    assert len(batch.carried) == 5, "everything before the complete; nothing after it"


def test_rows_of_another_registration_go_in_a_later_update(outbox: Outbox) -> None:
    put(outbox, chunk(0, "old\n"), agent_id="agent-1")
    put(outbox, chunk(4, "new\n"), agent_id="agent-2")

    batch = compose(outbox.store.pending(), max_log_chars=1000)

    assert batch.agent_id == "agent-1"
    assert [p.text for t in batch.tasks for p in t.log] == ["old\n"]


def test_the_log_is_bounded_per_update_and_the_rest_waits_not_dropped(
    outbox: Outbox, daemon: Daemon, clock: Clock
) -> None:
    text = "".join(f"line {n:03d}\n" for n in range(40))  # 360 characters
    for start in range(0, len(text), 50):
        put(outbox, chunk(start, text[start : start + 50]))
    put(outbox, progress(0.9, [1]))

    batch = compose(outbox.store.pending(), max_log_chars=PROTOCOL.max_log_chars_per_update)
    assert sum(len(p.text) for t in batch.tasks for p in t.log) == 100
    assert batch.tasks[0].progress == 0.9, "progress behind the waiting log still goes"

    for _ in range(4):
        assert outbox.deliver_pending()
        clock.now += INTERVAL

    updates = daemon.updates_sent()
    assert len(updates) == 4
    assert all(sum(len(p.text) for t in u.tasks for p in t.log) <= 100 for u in updates)
    assert sent_log(daemon) == text, "the whole log arrived, in order, across updates"
    assert len(outbox) == 0


# --- when updates go --------------------------------------------------------------------------


def test_one_update_per_interval_carries_everything_put_meanwhile(
    outbox: Outbox, daemon: Daemon, clock: Clock
) -> None:
    put(outbox, progress(0.0))
    assert outbox.deliver_pending()
    assert len(daemon.updates_sent()) == 1, "the first update goes at once"

    for second in range(1, 12):  # a progress value and a log chunk every second
        clock.now += 1.0
        put(outbox, progress(second / 20), chunk(second * 10 - 10, f"second {second:02d}\n"))
        assert outbox.deliver_pending()

    updates = daemon.updates_sent()
    assert len(updates) == 3, "11 seconds at a 4 s interval: updates at 0, 4 and 8 s"
    assert [u.task_ids for u in updates] == [[7]] * 3, "each update is the heartbeat too"
    assert [u.tasks[0].progress for u in updates] == [0.0, 0.2, 0.4]
    assert len(outbox) == 6, "what came after the last update waits in the outbox"


def test_a_busy_agent_with_nothing_new_still_beats_each_interval_and_an_idle_one_is_silent(
    outbox: Outbox, daemon: Daemon, peer: Peer, clock: Clock
) -> None:
    assert outbox.deliver_pending()
    clock.now += INTERVAL
    assert outbox.deliver_pending()
    assert [u.tasks for u in daemon.updates_sent()] == [[], []]

    peer.task_ids = []
    clock.now += 10 * INTERVAL
    assert outbox.deliver_pending()
    assert len(daemon.updates_sent()) == 2, "an idle agent sends no update"


def test_a_report_sends_the_pending_update_at_once_then_the_report(
    outbox: Outbox, daemon: Daemon, clock: Clock
) -> None:
    put(outbox, progress(0.0))
    assert outbox.deliver_pending()
    clock.now += 0.5  # far from the next interval
    put(outbox, chunk(0, "last lines\n"), progress(1.0, [1]))
    assert outbox.deliver_pending()
    assert len(daemon.calls) == 1, "progress and log wait for the interval"

    put(outbox, TaskDone(attempt=1, outputs=["/r/1.exr"]))
    assert outbox.deliver_pending()

    assert [kind for kind, _, _ in daemon.calls] == ["updates", "updates", "complete"]
    assert daemon.updates_sent()[-1].tasks[0].log == [TaskLogPiece(offset=0, text="last lines\n")]
    assert len(outbox) == 0


def test_the_log_reaches_the_daemon_within_5_s_of_the_render_printing_it(
    tmp_path: Path, daemon: Daemon, peer: Peer, clock: Clock
) -> None:
    """The render prints a line every 0.3 s for two minutes; the agent's loop ticks every
    0.25 s (the process runner's tick) and the sender passes each time it is woken."""
    outbox = Outbox(OutboxStore(tmp_path / "o.sqlite3"), daemon)
    protocol = PROTOCOL.model_copy(update={"max_log_chars_per_update": 65536})
    outbox.quiet = QuietChannel(daemon, peer, protocol, clock=clock)
    log = LogBuffer(outbox, "agent-1", 7, 1, clock=clock)
    printed: dict[str, float] = {}
    arrived: dict[str, float] = {}
    start = clock.now
    next_line = start
    n = 0
    while clock.now < start + 120:
        if clock.now >= next_line:
            line = f"line {n}"
            printed[line] = clock.now
            log.add(line)
            n, next_line = n + 1, next_line + 0.3
        log.flush_if_due()
        assert outbox.deliver_pending()
        for line in sent_log(daemon).split("\n")[:-1]:
            arrived.setdefault(line, clock.now)
        clock.now += 0.25

    late = {line: arrived[line] - printed[line] for line in arrived}
    assert len(arrived) > 350
    assert max(late.values()) <= 5.0 + 0.25, f"the latest line took {max(late.values())} s"
    assert len(daemon.updates_sent()) <= 120 / INTERVAL + 1, "and one update per interval"


# --- failures, cancels, restarts --------------------------------------------------------------


def test_rows_leave_the_outbox_only_once_the_daemon_accepted_them(
    outbox: Outbox, daemon: Daemon, clock: Clock
) -> None:
    put(outbox, progress(0.2), chunk(0, "kept\n"))
    daemon.down = True
    assert not outbox.deliver_pending()
    assert len(outbox) == 2

    daemon.down = False
    clock.now += INTERVAL
    assert outbox.deliver_pending()
    assert sent_log(daemon) == "kept\n" and len(outbox) == 0


def test_a_restart_resends_what_the_daemon_did_not_accept(
    tmp_path: Path, daemon: Daemon, peer: Peer, clock: Clock
) -> None:
    first = quiet_outbox(OutboxStore(tmp_path / "o.sqlite3"), daemon, peer, clock)
    put(first, progress(0.0), chunk(0, "before\n"))
    assert first.deliver_pending()  # accepted
    put(first, chunk(7, "not yet\n"), progress(0.4, [1]))
    daemon.down = True
    clock.now += INTERVAL
    assert not first.deliver_pending()
    first.store.close()  # the agent dies here

    daemon.down = False
    again = quiet_outbox(OutboxStore(tmp_path / "o.sqlite3"), daemon, peer, Clock())
    assert again.deliver_pending()

    assert sent_log(daemon) == "before\nnot yet\n"
    assert daemon.updates_sent()[-1].tasks[0].frames_done == [1]
    assert len(again) == 0


def test_a_cancelled_task_is_stopped_and_its_pending_rows_dropped(
    outbox: Outbox, daemon: Daemon, peer: Peer, clock: Clock
) -> None:
    put(outbox, progress(0.1))
    daemon.cancel = [7]
    assert outbox.deliver_pending()
    assert peer.heard_cancel == [7], "the agent is told to stop the task"

    put(outbox, chunk(0, "after the cancel\n"), TaskFailure(attempt=1, error="killed"))
    assert len(outbox) == 0, "later rows of the cancelled attempt are ignored"


def test_an_unknown_agent_registers_again_and_drops_what_it_held(
    outbox: Outbox, daemon: Daemon, peer: Peer
) -> None:
    put(outbox, progress(0.1), chunk(0, "x\n"))
    daemon.unknown_agent = True
    assert outbox.deliver_pending()
    assert peer.forgot == ["agent-1"]
    assert len(outbox) == 0


# --- the agent as the channel's peer -----------------------------------------------------------


class V2Client(StubClient):
    """A daemon of protocol 2: the agent's updates reach ``updates_sent``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[AgentUpdate] = []

    def agent_protocol(self) -> AgentProtocol | None:
        return PROTOCOL

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        self.sent.append(update)
        return AgentUpdateReply(update_interval_s=INTERVAL)

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None: ...
    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None: ...
    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> None: ...
    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None: ...


def test_an_idle_agent_whose_node_changed_tells_the_daemon_in_an_update_once(
    settings: Settings, tmp_path: Path
) -> None:
    client = V2Client()
    now = Capabilities(dccs=["script"], cores=8, memory_mb=32768, os="linux")
    agent = Agent(
        settings, client, Outbox(OutboxStore(tmp_path / "o.sqlite3"), client),
        {"script": ScriptRunner(RENDER, tmp_path)}, state_dir=tmp_path / "state",
        capabilities=lambda: now, recheck_s=0.0,
    )  # fmt: skip
    agent.register()
    assert agent.quiet
    assert agent.outbox.deliver_pending() and client.sent == [], "idle and unchanged: silent"
    assert agent.heartbeat_once() is not None and client.beats, "(the old call still works)"
    client.beats.clear()

    now = now.model_copy(update={"cores": 16})
    assert agent.outbox.deliver_pending()
    [update] = client.sent
    assert update.capabilities == now and update.task_ids == []
    assert agent.registration.cores == 16, "a later registration carries it too"
    assert agent.outbox.quiet is not None
    agent.outbox.quiet._sent_at = float("-inf")  # the interval has passed
    assert agent.outbox.deliver_pending()
    assert len(client.sent) == 1, "once told, an idle node is silent again"


@pytest.mark.parametrize(("asked", "kept"), [(0.01, 0.5), (2.5, 2.5), (3600.0, 30.0)])
def test_the_daemons_interval_is_held_between_half_a_second_and_30_s(
    asked: float, kept: float, daemon: Daemon, peer: Peer, clock: Clock
) -> None:
    """A daemon can make its agents neither hammer it nor fall silent past their leases."""
    protocol = PROTOCOL.model_copy(update={"update_interval_s": asked})
    assert QuietChannel(daemon, peer, protocol, clock=clock).interval_s == kept
