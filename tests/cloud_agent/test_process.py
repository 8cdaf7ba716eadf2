"""``ManagedProcess``: streaming, time limits, and no process left behind after a stop."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from cloud_agent.process import _DIE_WITH_AGENT, DIES_WITH_AGENT, ManagedProcess, kill_recorded

ROOT = Path(__file__).resolve().parents[2]

PY = sys.executable


def script(code: str) -> list[str]:
    return [PY, "-u", "-c", textwrap.dedent(code)]


def gone(pid: int, within: float = 15.0) -> bool:
    """Whether the process ended (a zombie waiting for its reaper counts as ended)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# A child that starts a child that starts a grandchild; each prints its pid and sleeps.
TREE = """
import subprocess, sys, time
level = int(sys.argv[1]) if len(sys.argv) > 1 else 0
print(f"pid {level} {__import__('os').getpid()}", flush=True)
if level < 2:
    subprocess.Popen([sys.executable, "-u", __file__, str(level + 1)])
time.sleep(600)
"""


@pytest.fixture
def tree_script(tmp_path: Path) -> Path:
    path = tmp_path / "tree.py"
    path.write_text(TREE)
    return path


def test_streams_stdout_and_stderr_merged_in_order() -> None:
    lines: list[str] = []
    process = ManagedProcess(
        script("""
            import sys
            print("out 1", flush=True)
            print("err 2", file=sys.stderr, flush=True)
            sys.stdout.write("out 3 without newline")
        """)
    )
    result = process.run(lines.append)
    assert result.exit_code == 0
    assert result.ok
    assert lines == ["out 1", "err 2", "out 3 without newline"]


def test_reports_exit_code_and_environment() -> None:
    lines: list[str] = []
    process = ManagedProcess(
        script("import os, sys; print(os.environ['CB_TEST']); sys.exit(3)"),
        env={**os.environ, "CB_TEST": "hello"},
    )
    result = process.run(lines.append)
    assert lines == ["hello"]
    assert result.exit_code == 3
    assert not result.ok
    assert not result.timed_out and not result.cancelled


def test_carriage_returns_split_lines() -> None:
    lines: list[str] = []
    process = ManagedProcess(script("print('a\\rb\\r\\nc', end='')"))
    process.run(lines.append)
    assert lines == ["a", "b", "c"]


def test_timeout_kills_the_command() -> None:
    lines: list[str] = []
    process = ManagedProcess(
        script("import time; print('started', flush=True); time.sleep(600)"),
        timeout_s=1.0,
    )
    result = process.run(lines.append)
    assert result.timed_out
    assert not result.cancelled
    assert result.exit_code is not None and result.exit_code < 0
    assert lines == ["started"]


def test_a_command_that_goes_silent_is_stopped_as_stalled() -> None:
    lines: list[str] = []
    process = ManagedProcess(
        script(
            """
            import time
            for n in range(3):
                print(f"tile {n}", flush=True)
                time.sleep(0.3)
            time.sleep(600)
            """
        ),
        stall_timeout_s=1.0,
        kill_grace_s=1.0,
    )
    result = process.run(lines.append)
    assert result.stalled and not result.ok
    assert not result.timed_out and not result.cancelled
    assert result.exit_code is not None and result.exit_code < 0
    assert lines == ["tile 0", "tile 1", "tile 2"], "lines closer than the stall time kept it"


def test_progress_noted_by_a_callback_keeps_a_quiet_command_alive() -> None:
    ticks: list[int] = []

    def on_tick() -> None:
        ticks.append(1)
        process.note_activity()  # as TaskRun does when the render's progress moved

    process = ManagedProcess(script("import time; time.sleep(1.5)"), stall_timeout_s=0.8)
    result = process.run(lambda line: None, on_tick=on_tick, tick_interval_s=0.2)
    assert result.ok and not result.stalled
    assert ticks


def test_a_command_that_ends_before_its_stall_time_is_not_stalled() -> None:
    process = ManagedProcess(script("print('done')"), stall_timeout_s=5.0)
    result = process.run(lambda line: None)
    assert result.ok and not result.stalled


def test_sigkill_after_grace_when_sigterm_is_ignored() -> None:
    lines: list[str] = []
    process = ManagedProcess(
        script("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            time.sleep(600)
        """),
        kill_grace_s=0.5,
    )

    def on_line(line: str) -> None:
        lines.append(line)
        threading.Thread(target=process.cancel).start()

    result = process.run(on_line)
    assert result.cancelled
    assert result.exit_code == -9


def test_cancel_kills_child_and_grandchild(tree_script: Path) -> None:
    pids: dict[int, int] = {}
    process = ManagedProcess([PY, "-u", str(tree_script)], kill_grace_s=2.0)

    def on_line(line: str) -> None:
        _, level, pid = line.split()
        pids[int(level)] = int(pid)
        if len(pids) == 3:
            threading.Thread(target=process.cancel).start()

    result = process.run(on_line)
    assert result.cancelled
    assert sorted(pids) == [0, 1, 2]
    for pid in pids.values():
        assert gone(pid), f"pid {pid} survived the cancel"
    assert not any(alive(pid) for pid in pids.values())


def test_cancel_kills_a_descendant_that_left_the_process_group(tmp_path: Path) -> None:
    pids: list[int] = []
    process = ManagedProcess(
        script("""
            import subprocess, sys, time
            child = subprocess.Popen(
                [sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); "
                 "time.sleep(600)"],
                start_new_session=True,
            )
            time.sleep(600)
        """),
        kill_grace_s=1.0,
    )

    def on_line(line: str) -> None:
        pids.append(int(line))
        threading.Thread(target=process.cancel).start()

    result = process.run(on_line)
    assert result.cancelled
    assert len(pids) == 1
    assert gone(pids[0]), "a descendant in its own session survived the cancel"


def test_children_left_behind_after_a_normal_exit_are_killed() -> None:
    pids: list[int] = []
    process = ManagedProcess(
        script("""
            import subprocess, sys
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            print(child.pid, flush=True)
        """)
    )
    result = process.run(lambda line: pids.append(int(line)))
    assert result.exit_code == 0
    assert len(pids) == 1
    assert gone(pids[0]), "the exited command's child kept running"


def test_cancel_before_run_never_starts() -> None:
    process = ManagedProcess(script("print('should not run')"))
    process.cancel()
    lines: list[str] = []
    result = process.run(lines.append)
    assert result.cancelled
    assert result.exit_code is None
    assert lines == []
    assert process.pid is None


def test_a_failing_callback_kills_the_command(tree_script: Path) -> None:
    seen: list[int] = []
    process = ManagedProcess([PY, "-u", str(tree_script)], kill_grace_s=1.0)

    def on_line(line: str) -> None:
        seen.append(int(line.split()[2]))
        if len(seen) == 3:
            raise RuntimeError("callback bug")

    with pytest.raises(RuntimeError, match="callback bug"):
        process.run(on_line)
    for pid in seen:
        assert gone(pid)


def test_tick_runs_while_the_command_is_quiet() -> None:
    ticks: list[int] = []
    process = ManagedProcess(script("import time; time.sleep(0.6)"))
    process.run(lambda line: None, on_tick=lambda: ticks.append(1), tick_interval_s=0.1)
    assert ticks, "on_tick was never called while the command slept"


def test_missing_program_raises_oserror(tmp_path: Path) -> None:
    process = ManagedProcess([str(tmp_path / "no-such-blender")])
    with pytest.raises(OSError):
        process.run(lambda line: None)


def test_a_program_that_cannot_start_raises_what_popen_would(tmp_path: Path) -> None:
    missing = ManagedProcess([str(tmp_path / "no-such-blender")])
    with pytest.raises(FileNotFoundError) as caught:
        missing.run(lambda line: None)
    assert caught.value.errno == errno.ENOENT
    assert caught.value.strerror == os.strerror(errno.ENOENT)
    assert missing.pid is None
    not_executable = tmp_path / "scene.blend"
    not_executable.write_text("")
    with pytest.raises(PermissionError):
        ManagedProcess([str(not_executable)]).run(lambda line: None)


# A stand-in agent: renders through ManagedProcess on a worker thread, as the agent has threads.
AGENT = """
import sys, threading, time
from cloud_agent.process import ManagedProcess
render = ManagedProcess([sys.executable, "-u", "-c",
                         "import os, time; print(os.getpid(), flush=True); time.sleep(600)"])
threading.Thread(target=render.run, args=(lambda line: print(line, flush=True),)).start()
time.sleep(600)
"""


@pytest.mark.skipif(not DIES_WITH_AGENT, reason="PR_SET_PDEATHSIG is Linux only")
def test_the_render_dies_with_an_agent_killed_by_sigkill() -> None:
    agent = subprocess.Popen([PY, "-u", "-c", AGENT], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    render_pid = None
    try:
        assert agent.stdout is not None
        render_pid = int(agent.stdout.readline())
        render = psutil.Process(render_pid)
        assert render.ppid() == agent.pid
        assert os.getpgid(render_pid) == render_pid != os.getpgid(agent.pid)  # its own group
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
        assert gone(render_pid, within=5), "the render outlived its agent"
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        if render_pid is not None and alive(render_pid):
            os.kill(render_pid, signal.SIGKILL)


@pytest.mark.skipif(not DIES_WITH_AGENT, reason="PR_SET_PDEATHSIG is Linux only")
def test_the_guard_never_starts_a_render_whose_agent_died_first(tmp_path: Path) -> None:
    started = tmp_path / "started"
    status_r, status_w = os.pipe()
    try:
        not_the_parent = os.getppid()  # as if the agent had died and the guard were adopted
        guard = subprocess.run(
            [PY, "-I", "-S", "-c", _DIE_WITH_AGENT, str(status_w), str(not_the_parent),
             PY, "-c", f"open({str(started)!r}, 'w')"],
            pass_fds=(status_w,), timeout=30,
        )  # fmt: skip
    finally:
        os.close(status_w)
        os.close(status_r)
    assert guard.returncode == 1
    assert not started.exists()


def test_record_file_names_the_running_command_and_is_removed(tmp_path: Path) -> None:
    record = tmp_path / "state" / "running.json"
    seen: list[dict[str, object]] = []
    process = ManagedProcess(script("print('hi')"), record_path=record)
    process.run(lambda line: seen.append(json.loads(record.read_text())))
    assert seen and seen[0]["pid"] == process.pid
    assert not record.exists()


def test_kill_recorded_kills_a_render_left_by_a_crashed_agent(tmp_path: Path) -> None:
    orphan = subprocess.Popen([PY, "-c", "import time; time.sleep(600)"], start_new_session=True)
    try:
        record = tmp_path / "running.json"
        created = psutil.Process(orphan.pid).create_time()
        record.write_text(json.dumps({"pid": orphan.pid, "create_time": created, "argv": []}))
        assert kill_recorded(record)
        assert orphan.wait(timeout=10) == -9
        assert not record.exists()
    finally:
        if orphan.poll() is None:
            orphan.kill()


def test_kill_recorded_spares_a_process_that_reused_the_pid(tmp_path: Path) -> None:
    other = subprocess.Popen([PY, "-c", "import time; time.sleep(600)"], start_new_session=True)
    try:
        record = tmp_path / "running.json"
        record.write_text(json.dumps({"pid": other.pid, "create_time": 12345.0, "argv": []}))
        assert not kill_recorded(record)
        assert other.poll() is None
        assert not record.exists()
    finally:
        other.kill()
        other.wait()


def test_kill_recorded_without_a_record_does_nothing(tmp_path: Path) -> None:
    assert not kill_recorded(tmp_path / "running.json")
