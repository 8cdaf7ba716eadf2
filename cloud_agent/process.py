"""Runs a render command in its own session, streams its output, and kills all of it on demand.

The command gets a new session (``start_new_session=True``), so it and everything it starts share
one process group that can be signalled at once. Stopping (a cancel, a timeout, a stall: no
output line and no progress for the stall time, or the command leaving children behind when it
exits) sends SIGTERM to the group and to every descendant seen, then SIGKILL to whatever is
left after a grace period. A record file, when given, names the
running command so that an agent restarted after a crash can kill a render it left behind.

On Linux the command also dies with the agent: it starts as a tiny Python guard that asks the
kernel to SIGKILL it when the agent dies (``PR_SET_PDEATHSIG``, kept across ``exec``), checks the
agent is still its parent, then ``exec``s the command in place (same pid). A separate interpreter
rather than ``preexec_fn``: Python code run between ``fork`` and ``exec`` of a multi-threaded
process, as the agent is, may deadlock on a lock another thread held at the fork. The kernel sends
that signal when the *thread* that started the command ends, so ``run()`` keeps its thread until
the command is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

logger = logging.getLogger(__name__)

#: Seconds between SIGTERM and SIGKILL when stopping a command.
DEFAULT_KILL_GRACE_S = 5.0

#: Whether commands are started through ``_DIE_WITH_AGENT`` (Linux, with a Python to run it).
DIES_WITH_AGENT = sys.platform.startswith("linux") and bool(sys.executable)

#: The guard program: ``python -I -S -c _DIE_WITH_AGENT STATUS_FD AGENT_PID COMMAND...``. It arms
#: ``PR_SET_PDEATHSIG`` (1) with SIGKILL, exits if the agent died before that (it then has another
#: parent), and ``exec``s the command. STATUS_FD is closed by a successful ``exec``; a failed
#: one writes ``<errno> <message>`` there first, so the agent raises ``OSError`` as ``Popen``
#: would. ``-I -S``: the job's environment and folder cannot change which Python code runs here.
_DIE_WITH_AGENT = """\
import os, signal, sys
status, agent, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
try:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
except Exception as exc:
    print(f"[cloudburst] cannot tie the render to the agent's life: {exc!r}", flush=True)
if os.getppid() != agent:
    os._exit(1)
os.set_inheritable(status, False)
try:
    os.execvp(argv[0], argv)
except OSError as exc:
    os.write(status, f"{exc.errno or 0} {exc.strerror or exc}".encode())
os._exit(127)
"""

_EXITED = object()
_EOF = object()
_WAKE = object()


@dataclass(frozen=True)
class ProcessResult:
    """How a command ended."""

    exit_code: int | None
    """The exit status; negative for a signal (as ``subprocess``); None if it never started."""
    timed_out: bool = False
    """The command ran past its time limit and was killed."""
    cancelled: bool = False
    """``cancel()`` was called before the command ended on its own."""
    stalled: bool = False
    """The command printed nothing and made no progress for its stall time, and was killed."""

    @property
    def ok(self) -> bool:
        """Whether the command exited 0 on its own."""
        return (
            self.exit_code == 0 and not self.timed_out and not self.cancelled and not self.stalled
        )


class ManagedProcess:
    """One run of a command whose whole process tree can be stopped from any thread.

    ``run()`` blocks the calling thread until the command and its process group are gone; the
    line and tick callbacks run on that same thread. ``cancel()`` may be called from any other
    thread (not from a signal handler: start a thread there).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout_s: float | None = None,
        stall_timeout_s: float | None = None,
        kill_grace_s: float = DEFAULT_KILL_GRACE_S,
        record_path: Path | None = None,
    ) -> None:
        """Prepares the command; nothing starts before ``run()``.

        Args:
            argv: the program and its arguments.
            env: the whole environment of the command (the agent's own when None).
            cwd: the working folder of the command.
            timeout_s: the time limit from start; None for none.
            stall_timeout_s: how long the command may go without an output line or a call to
                ``note_activity`` (progress) before it is stopped as stalled; None for never.
            kill_grace_s: seconds between SIGTERM and SIGKILL.
            record_path: a JSON file naming the running command, removed when it ends.
        """
        if not argv:
            raise ValueError("ManagedProcess needs a command to run.")
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.timeout_s = timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.kill_grace_s = kill_grace_s
        self.record_path = record_path
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._popen: subprocess.Popen[str] | None = None
        self._cancelled = False
        self._stop_started: float | None = None
        self._kill_sent = False
        self._descendants: dict[int, psutil.Process] = {}
        self._active_at = 0.0

    @property
    def pid(self) -> int | None:
        """The command's process id (also its process group id), once started."""
        return self._popen.pid if self._popen is not None else None

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""
        return self._cancelled

    def note_activity(self) -> None:
        """Tells the stall watch that the command moved on (its progress changed).

        Runs on the thread of ``run()`` (from a callback); output lines count by themselves.
        """
        self._active_at = time.monotonic()

    def cancel(self) -> None:
        """Stops the command and its whole process group; ``run()`` then returns.

        Runs on any thread. Harmless when the command has ended or has not started (it then
        never starts).
        """
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            self._begin_stop_locked("cancelled")
        self._events.put(_WAKE)

    def run(
        self,
        on_line: Callable[[str], None],
        *,
        on_tick: Callable[[], None] | None = None,
        tick_interval_s: float = 1.0,
    ) -> ProcessResult:
        """Starts the command and streams its merged stdout and stderr until it ends.

        Runs on the calling thread, which also runs the callbacks. If a callback raises, the
        command is killed and the exception propagates.

        Args:
            on_line: called with each line of output, without its line ending.
            on_tick: called about every ``tick_interval_s`` seconds while the command runs.
            tick_interval_s: the period of ``on_tick``.

        Returns:
            The exit code, and whether the command timed out or was cancelled.

        Raises:
            OSError: the program could not be started (missing, not executable).
        """
        status_fd: int | None = None
        with self._lock:
            if self._cancelled:
                return ProcessResult(exit_code=None, cancelled=True)
            self._popen, status_fd = self._start()
        popen = self._popen
        if status_fd is not None:
            self._check_exec(popen, status_fd)
        assert popen.stdout is not None
        self._write_record(popen.pid)
        started = self._active_at = time.monotonic()
        threading.Thread(
            target=self._read, args=(popen.stdout,), name=f"output-{popen.pid}", daemon=True
        ).start()
        threading.Thread(
            target=self._wait, args=(popen,), name=f"wait-{popen.pid}", daemon=True
        ).start()
        timed_out = stalled = False
        exited_at: float | None = None
        eof = False
        next_tick = started + tick_interval_s
        try:
            while True:
                now = time.monotonic()
                if exited_at is not None and eof:
                    break
                if exited_at is not None and now - exited_at > self.kill_grace_s:
                    # A descendant that left the process group still holds the pipe open.
                    logger.warning("pid %s exited; no longer waiting for its output", popen.pid)
                    break
                if (
                    self.timeout_s is not None
                    and exited_at is None
                    and not timed_out
                    and now - started >= self.timeout_s
                ):
                    timed_out = True
                    logger.warning(
                        "pid %s ran past its %g s limit; stopping it", popen.pid, self.timeout_s
                    )
                    with self._lock:
                        self._begin_stop_locked("timed out")
                if not stalled and self._stall_due(now, exited_at):
                    stalled = True
                    logger.warning(
                        "pid %s printed nothing and made no progress for %g s; stopping it",
                        popen.pid,
                        self.stall_timeout_s,
                    )
                    with self._lock:
                        self._begin_stop_locked("stalled")
                self._escalate_if_due(now)
                if on_tick is not None and now >= next_tick:
                    on_tick()
                    next_tick = now + tick_interval_s
                try:
                    item = self._events.get(timeout=self._wait_time(started, next_tick, exited_at))
                except queue.Empty:
                    continue
                if item is _EXITED:
                    exited_at = time.monotonic()
                    self._kill_leftovers(popen.pid)
                elif item is _EOF:
                    eof = True
                elif isinstance(item, str):
                    self._active_at = time.monotonic()
                    on_line(item)
        finally:
            if popen.poll() is None:  # a callback raised: take everything down with it
                with self._lock:
                    self._begin_stop_locked("abandoned")
                self._kill_leftovers(popen.pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=self.kill_grace_s + 1)
            self._remove_record()
        with self._lock:
            cancelled = self._cancelled
        return ProcessResult(
            exit_code=popen.returncode,
            timed_out=timed_out,
            cancelled=cancelled,
            stalled=stalled,
        )

    # --- helpers ---------------------------------------------------------------------------

    def _start(self) -> tuple[subprocess.Popen[str], int | None]:
        """Starts the command in a new session. Holds ``_lock``.

        Returns:
            The process, and on Linux the read end of the guard's status pipe.
        """
        argv, status_r, status_w = self.argv, None, None
        if DIES_WITH_AGENT:
            status_r, status_w = os.pipe()
            guard = [sys.executable, "-I", "-S", "-c", _DIE_WITH_AGENT]
            argv = [*guard, str(status_w), str(os.getpid()), *self.argv]
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                pass_fds=() if status_w is None else (status_w,),
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except BaseException:
            if status_r is not None:
                os.close(status_r)
            raise
        finally:
            if status_w is not None:
                os.close(status_w)
        return popen, status_r

    def _check_exec(self, popen: subprocess.Popen[str], status_fd: int) -> None:
        """Waits until the guard has ``exec``ed the command (or died), and closes ``status_fd``.

        Raises:
            OSError: the command could not be started (missing, not executable).
        """
        chunks: list[bytes] = []
        try:
            while chunk := os.read(status_fd, 4096):
                chunks.append(chunk)
        finally:
            os.close(status_fd)
        if not chunks:
            return
        code, _, message = b"".join(chunks).decode("utf-8", "replace").partition(" ")
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=self.kill_grace_s + 1)  # the guard exits at once
        if popen.stdout is not None:
            popen.stdout.close()
        with self._lock:
            self._popen = None  # as when Popen raises: no pid, nothing to stop
        raise OSError(int(code) if code.isdigit() else 0, message, self.argv[0])

    def _stall_due(self, now: float, exited_at: float | None) -> bool:
        """Whether the running command has been silent and still past its stall time."""
        if self.stall_timeout_s is None or exited_at is not None or self._stop_started is not None:
            return False
        return now - self._active_at >= self.stall_timeout_s

    def _wait_time(self, started: float, next_tick: float, exited_at: float | None) -> float:
        """How long the run loop may sleep before it has something to check."""
        now = time.monotonic()
        deadlines = [next_tick]
        if self.timeout_s is not None and exited_at is None and self._stop_started is None:
            deadlines.append(started + self.timeout_s)
        if self.stall_timeout_s is not None and exited_at is None and self._stop_started is None:
            deadlines.append(self._active_at + self.stall_timeout_s)
        if self._stop_started is not None and not self._kill_sent:
            deadlines.append(self._stop_started + self.kill_grace_s)
        if exited_at is not None:
            deadlines.append(exited_at + self.kill_grace_s)
        return max(0.01, min(deadlines) - now)

    def _read(self, stream: IO[str]) -> None:
        """Reader thread: forwards each output line to the run loop."""
        try:
            for line in stream:
                self._events.put(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            self._events.put(_EOF)
            with contextlib.suppress(OSError):
                stream.close()

    def _wait(self, popen: subprocess.Popen[str]) -> None:
        """Waiter thread: reports the command's exit to the run loop."""
        popen.wait()
        self._events.put(_EXITED)

    def _begin_stop_locked(self, why: str) -> None:
        """Sends SIGTERM to the group and every known descendant (once). Holds ``_lock``."""
        popen = self._popen
        if popen is None or self._stop_started is not None:
            return
        self._stop_started = time.monotonic()
        logger.info("stopping pid %s and its process group (%s)", popen.pid, why)
        self._snapshot_descendants(popen.pid)
        self._signal_all(popen.pid, signal.SIGTERM)

    def _escalate_if_due(self, now: float) -> None:
        """SIGKILLs the group once the grace period after SIGTERM has passed."""
        with self._lock:
            popen = self._popen
            if popen is None or self._stop_started is None or self._kill_sent:
                return
            if now - self._stop_started < self.kill_grace_s:
                return
            self._kill_sent = True
            if popen.poll() is None or _group_alive(popen.pid):
                logger.warning("pid %s outlived SIGTERM; sending SIGKILL", popen.pid)
            self._signal_all(popen.pid, signal.SIGKILL)

    def _kill_leftovers(self, pgid: int) -> None:
        """After the command exits, kills whatever it left behind in its group at once."""
        with self._lock:
            self._signal_all(pgid, signal.SIGKILL)

    def _snapshot_descendants(self, pid: int) -> None:
        """Remembers the command's descendants, even those that left its process group."""
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            self._descendants[child.pid] = child

    def _signal_all(self, pgid: int, sig: signal.Signals) -> None:
        """Signals the process group and every remembered descendant still alive."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        for child in list(self._descendants.values()):
            try:
                child.send_signal(sig)  # psutil checks the pid was not reused
            except psutil.Error:
                self._descendants.pop(child.pid, None)

    def _write_record(self, pid: int) -> None:
        if self.record_path is None:
            return
        try:
            created = psutil.Process(pid).create_time()
        except psutil.Error:
            created = 0.0
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": pid, "create_time": created, "argv": self.argv}))
        os.replace(tmp, self.record_path)

    def _remove_record(self) -> None:
        if self.record_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.record_path.unlink()


def _group_alive(pgid: int) -> bool:
    """Whether any process is left in the process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_recorded(record_path: Path) -> bool:
    """Kills a command left running by an earlier agent, as named by its record file.

    Runs on the calling thread (at agent start). The record's pid must still belong to the same
    process (same start time), so an unrelated process that reused the pid is left alone.

    Returns:
        Whether a leftover process group was found and killed.
    """
    try:
        record = json.loads(record_path.read_text())
        pid, created = int(record["pid"]), float(record["create_time"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("ignoring unreadable process record %s", record_path)
        record_path.unlink(missing_ok=True)
        return False
    killed = False
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - created) < 1.0:
            logger.warning("killing pid %s left running by a previous agent: %s", pid, record)
            descendants = proc.children(recursive=True)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            for child in (*descendants, proc):
                with contextlib.suppress(psutil.Error):
                    child.kill()
            killed = True
    except psutil.Error:
        pass
    record_path.unlink(missing_ok=True)
    return killed
