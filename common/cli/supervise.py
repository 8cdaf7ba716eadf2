"""Child processes that never outlive their parent: started with logs to files, stopped cleanly.

Each child runs in its own session (process group), so a Ctrl-C in the terminal reaches only
the parent, which decides how to stop them. On Linux each child also gets SIGTERM if the
parent dies without cleaning up. ``Supervisor.stop`` sends SIGTERM stage by stage (the
highest stage first), waits, then kills what is left, grandchildren included.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from common.errors import CloudburstError

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class ChildExited(CloudburstError):
    """A supervised process ended when it should have kept running (or failed)."""

    code = "child_exited"


@dataclass
class Child:
    """One supervised process."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stage: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.process.poll() is None


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Supervisor:
    """Starts child processes with their output in log files, and stops every one of them.

    Use it as a context manager: leaving the block stops the children, also on errors.
    Methods run on the thread that made the supervisor.
    """

    def __init__(self, log_dir: Path, *, stop_timeout: float = 15.0) -> None:
        self.log_dir = log_dir
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stage: int = 0,
    ) -> Child:
        """Starts ``argv`` with stdout and stderr in ``<log_dir>/<name>.log``.

        Args:
            name: a short name, used for the log file and in messages.
            argv: the command line.
            env: the child's whole environment (the parent's when None).
            cwd: the child's working directory.
            stage: children of a higher stage are stopped first (agents before their daemon).
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        child = Child(name, process, log_path, stage)
        self.children.append(child)
        logger.info("started %s (pid %d), log %s", name, process.pid, log_path)
        return child

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        """Runs ``argv`` to its end like ``start``; the child is stopped if this is interrupted.

        Raises:
            ChildExited: it ended with a non-zero status, or ran past ``timeout`` seconds.
        """
        child = self.start(name, argv, env=env)
        try:
            code = child.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop([child])
            raise ChildExited(
                f"{name} did not finish within {timeout:g} s. See its log: {child.log_path}"
            ) from None
        except BaseException:
            self._stop([child])
            raise
        self.children.remove(child)
        if code != 0:
            raise ChildExited(
                f"{name} failed (exit code {code}). See its log: {child.log_path}\n"
                + log_tail(child.log_path)
            )
        return child

    def check(self) -> None:
        """Raises ``ChildExited`` when a started child has exited.

        Raises:
            ChildExited: names the child, its exit code and its log.
        """
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise ChildExited(
                    f"{child.name} stopped unexpectedly (exit code {code}). "
                    f"See its log: {child.log_path}\n{log_tail(child.log_path)}"
                )

    def stop(self) -> None:
        """Stops every child, the highest stage first: SIGTERM, wait, then SIGKILL the group.

        Ctrl-C is ignored meanwhile (on the main thread), so stopping is never cut short.
        """
        with _sigint_ignored():
            for stage in sorted({c.stage for c in self.children}, reverse=True):
                self._stop([c for c in self.children if c.stage == stage])
            self.children.clear()

    def _stop(self, children: Sequence[Child]) -> None:
        for child in children:
            if child.running():
                logger.info("stopping %s (pid %d)", child.name, child.pid)
                with suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop within %g s; killing it", child.name, self.stop_timeout
                )
        for child in children:
            # The whole group: also what the child started and left behind.
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
            child.process.wait()
        self.children[:] = [c for c in self.children if c not in children]


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (else None)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return preexec
