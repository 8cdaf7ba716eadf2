"""The supervisor starts real child processes and leaves none behind."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from common.cli.supervise import ChildExited, Supervisor


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for a reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    """Waits until ``condition()`` holds; a readiness wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


SLEEPER = "import time; print('ready', flush=True); time.sleep(120)"

PARENT_OF_GRANDCHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open(sys.argv[1], "w").write(str(child.pid))
print("ready", flush=True)
time.sleep(120)
"""

IGNORES_SIGTERM = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""

# Stage 0 notes on SIGTERM whether stage 1 had already been stopped.
STAGE_0 = """
import os, signal, sys, time
def stop(*_):
    open(sys.argv[1], "w").write(str(os.path.exists(sys.argv[2])))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(120)
"""

STAGE_1 = """
import signal, sys, time
def stop(*_):
    open(sys.argv[1], "w").write("stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(120)
"""


def ready(log: Path) -> bool:
    return log.exists() and "ready" in log.read_text()


def test_children_log_to_files_and_are_all_stopped_grandchildren_included(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with Supervisor(tmp_path / "logs", stop_timeout=10) as supervisor:
        a = supervisor.start("a", python(SLEEPER))
        b = supervisor.start("b", [*python(PARENT_OF_GRANDCHILD), str(pid_file)], stage=1)
        wait_for(lambda: ready(a.log_path) and ready(b.log_path), "both children")
        grandchild = int(pid_file.read_text())
        assert alive(a.pid) and alive(b.pid) and alive(grandchild)
        supervisor.check()  # all running: no error
    assert not a.running() and not b.running()
    assert a.process.returncode is not None
    wait_for(lambda: not alive(grandchild), "the grandchild to be reaped")
    assert supervisor.children == []
    assert (tmp_path / "logs" / "a.log").read_text() == "ready\n"


def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path, stop_timeout=0.5)
    stubborn = supervisor.start("stubborn", python(IGNORES_SIGTERM))
    wait_for(lambda: ready(stubborn.log_path), "the child to ignore SIGTERM")
    supervisor.stop()
    assert stubborn.process.returncode == -9
    assert not alive(stubborn.pid)


def test_higher_stages_stop_first(tmp_path: Path) -> None:
    seen, marker = tmp_path / "seen", tmp_path / "stage1-stopped"
    with Supervisor(tmp_path / "logs") as supervisor:
        daemon = supervisor.start("daemon", [*python(STAGE_0), str(seen), str(marker)], stage=0)
        agent = supervisor.start("agent", [*python(STAGE_1), str(marker)], stage=1)
        wait_for(lambda: ready(daemon.log_path) and ready(agent.log_path), "both children")
    assert seen.read_text() == "True"
    assert daemon.process.returncode == 0 and agent.process.returncode == 0


def test_check_reports_a_child_that_died(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        child = supervisor.start("crashy", python("print('boom'); raise SystemExit(3)"))
        child.process.wait()
        with pytest.raises(
            ChildExited, match=r"crashy stopped unexpectedly \(exit code 3\)"
        ) as err:
            supervisor.check()
    assert "boom" in err.value.message
    assert str(child.log_path) in err.value.message


def test_run_waits_and_reports_failure_with_the_log(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    supervisor.run("ok", python("print('made it')"), timeout=60)
    assert supervisor.children == []
    assert (tmp_path / "ok.log").read_text() == "made it\n"
    with pytest.raises(ChildExited, match=r"bad failed \(exit code 1\)[\s\S]*no scene"):
        supervisor.run("bad", python("import sys; sys.exit('no scene')"), timeout=60)


def test_run_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path, stop_timeout=5)
    with pytest.raises(ChildExited, match=r"did not finish within 0\.2 s"):
        supervisor.run("slow", python("import time; time.sleep(120)"), timeout=0.2)
    assert supervisor.children == []
