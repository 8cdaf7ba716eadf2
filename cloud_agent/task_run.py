"""One attempt at one leased task on this agent: prepare it, render it, queue its reports.

``TaskRun.run`` runs on the agent's main thread from lease to final report: the DCC's runner
builds the command, ``ManagedProcess`` runs it while its log and progress go to the outbox, and
the attempt ends as one ``Outcome``; a failure carries its class (``failure_class``), read from
the render's log lines and how its process ended. A render that prints nothing and makes no
progress for the assignment's ``stall_timeout_s`` is stopped as stalled. Other threads end an
attempt early through ``lose`` (the daemon took the task back) or ``preempt`` (the agent is
stopping).
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from cloud_agent.failure_class import FailureWatch, classify, lines_for, oom_kills
from cloud_agent.log_buffer import LogBuffer
from cloud_agent.outbox import Outbox, UpdateBody
from cloud_agent.process import ManagedProcess, ProcessResult
from cloud_agent.runners import Runner, TaskRender
from common.data.outputs import is_frame_of, output_folder
from common.errors import CloudburstError, RenderError, UserFacingError
from common.frames import format_frames
from common.job_paths import JobPaths
from common.models import (
    FailureClass,
    OutputBlob,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskProgress,
)
from common.render_env import check_env

if TYPE_CHECKING:
    from cloud_agent.away import AwayData, AwayTask, TaskDataSource

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """How one task ended on this agent."""

    DONE = "done"
    """Every frame is in place; ``complete`` was queued."""
    FAILED = "failed"
    """The render failed, timed out or stalled; ``fail`` was queued with its class."""
    PREEMPTED = "preempted"
    """The agent was stopping; ``fail`` with ``preempted=True`` was queued."""
    LOST = "lost"
    """The daemon took the task back (cancelled, reassigned); nothing more is sent."""


class ProgressThrottle:
    """Decides which progress values are worth an update. Main thread only.

    A new frame done is always sent; otherwise progress is sent when it moved by ``min_step``
    and ``min_interval_s`` passed since the last update.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = 1.0,
        min_step: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval_s = min_interval_s
        self.min_step = min_step
        self._clock = clock
        self._sent_progress = -1.0
        self._sent_frames = -1
        self._sent_at = float("-inf")

    def due(self, progress: float, frames_done: int) -> bool:
        """Whether an update with these values should go out now (and notes it if so)."""
        now = self._clock()
        if frames_done != self._sent_frames or (
            progress - self._sent_progress >= self.min_step
            and now - self._sent_at >= self.min_interval_s
        ):
            self._sent_progress, self._sent_frames, self._sent_at = progress, frames_done, now
            return True
        return False


class TaskRun:
    """One attempt at one leased task, from ``prepare`` to the final report.

    ``run`` runs on the agent's main thread; ``lose`` and ``preempt`` on any other thread (not a
    signal handler's: they take a lock).
    """

    def __init__(
        self,
        assignment: TaskAssignment,
        agent_id: str,
        *,
        agent_name: str,
        outbox: Outbox,
        runners: Mapping[str, Runner],
        record_path: Path,
        kill_grace_s: float = 5.0,
        throttle: ProgressThrottle | None = None,
        away: AwayData | None = None,
        daemon: TaskDataSource | None = None,
        paths: JobPaths | None = None,
    ) -> None:
        """Wires the attempt; nothing runs before ``run()``.

        Args:
            assignment: the leased task.
            agent_id: the agent id that holds the lease.
            agent_name: the agent's name, as shown in the task's log and errors.
            outbox: where the task's updates go.
            runners: the runner of each DCC the agent renders.
            record_path: the JSON file naming the running render (see ``kill_recorded``).
            kill_grace_s: seconds between SIGTERM and SIGKILL when the render is stopped.
            throttle: which progress values are sent; a default ``ProgressThrottle`` if None.
            away: the node's object store and cache when it has no studio storage (the task's
                files are fetched into a workspace, its frames sent back); None on studio nodes.
            daemon: where ``away`` asks for the task's files.
            paths: the node's rules for a job's scene and output (its ``[paths]``); any
                absolute, normalised path when None.
        """
        self.assignment = assignment
        self.agent_id = agent_id
        self.agent_name = agent_name
        self.outbox = outbox
        self.runners = runners
        self.record_path = record_path
        self.kill_grace_s = kill_grace_s
        self.throttle = throttle or ProgressThrottle()
        self.away = away
        self.daemon = daemon
        self.paths = paths or JobPaths()
        self._away_task: AwayTask | None = None
        self._lock = threading.Lock()
        self._process: ManagedProcess | None = None
        self._lost_reason: str | None = None
        self._stop_reason: str | None = None

    @property
    def lost_reason(self) -> str | None:
        """Why the daemon took the task back, once ``lose`` was called."""
        return self._lost_reason

    # --- control from other threads ---------------------------------------------------------

    def lose(self, reason: str) -> bool:
        """Kills the render of a task the daemon took back, and drops its pending updates.

        Runs on any thread; nothing more is sent for this attempt afterwards.

        Returns:
            Whether this was the first call (which logs the reason).
        """
        task_id, attempt = self.assignment.task_id, self.assignment.attempt
        with self._lock:
            first = self._lost_reason is None
            if first:
                self._lost_reason = reason
            process = self._process
        if first:
            logger.warning(
                "agent %s: stopping task %s of job %s: %s",
                self.agent_id,
                task_id,
                self.assignment.job_id,
                reason,
            )
        self.outbox.drop_task(task_id, attempt)
        if process is not None:
            process.cancel()
        return first

    def preempt(self, reason: str) -> None:
        """Kills the render because the agent is stopping; it is reported as preempted.

        Runs on any thread.
        """
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            process = self._process
        if process is not None:
            process.cancel()

    # --- the attempt -----------------------------------------------------------------------

    def run(self) -> Outcome:
        """Runs the attempt to its end and queues its updates. Main thread."""
        assignment, agent_id = self.assignment, self.agent_id
        task_id, attempt = assignment.task_id, assignment.attempt
        logger.info(
            "agent %s: task %s of job %s (attempt %s, frames %s)",
            agent_id,
            task_id,
            assignment.job_id,
            attempt,
            format_frames(assignment.frames),
        )
        render: TaskRender | None = None
        log = LogBuffer(self.outbox, agent_id, task_id, attempt)
        try:
            try:
                render = self._prepare()
            except _Refused as exc:
                return self._end(log, Outcome.FAILED, exc.message, FailureClass.BAD_SCENE)
            except CloudburstError as exc:
                return self._end(log, Outcome.FAILED, exc.message, self._prepare_failure())
            self._put(TaskProgress(attempt=attempt, progress=0.0))
            return self._render(render, log)
        except Exception as exc:  # a bug here must not leave the task leased and silent
            logger.exception("agent %s: task %s failed inside the agent", agent_id, task_id)
            message = f"The agent failed: {exc!r}"
            return self._end(log, Outcome.FAILED, message, FailureClass.RENDER_ERROR)
        finally:
            if render is not None:
                render.cleanup()
            if self._away_task is not None:
                self._away_task.cleanup()

    # --- helpers -------------------------------------------------------------------------------

    def _prepare(self) -> TaskRender:
        dcc = self.assignment.dcc
        runner = self.runners.get(dcc)
        if runner is None:
            known = ", ".join(sorted(self.runners)) or "none"
            raise RenderError(
                f"Agent {self.agent_name!r} has no runner for {dcc!r} jobs (it renders: {known})."
            )
        self._check_assignment()
        if self.away is None:
            return runner.prepare(self.assignment)
        assert self.daemon is not None, "an agent away from studio storage needs its daemon"
        self._away_task = self.away.prepare(self.assignment, self.agent_id, self.daemon)
        return runner.prepare(self._away_task.local)

    def _check_assignment(self) -> None:
        """The node's own check of the task's paths and environment, before anything is
        written or run (the daemon checked them too, maybe under older rules).

        Raises:
            RenderError: a path or a variable breaks the rules; the message says which.
        """
        try:
            self.paths.check(self.assignment.scene, self.assignment.output)
            check_env(self.assignment.env)
        except UserFacingError as exc:
            raise _Refused(f"Agent {self.agent_name!r} refuses this task: {exc.message}") from None

    def _prepare_failure(self) -> FailureClass:
        """The class of a task that could not be prepared: its scene is missing from studio
        storage, else an error a retry (maybe on another node) may not meet again."""
        known = self.assignment.dcc in self.runners
        if known and self.away is None and not os.path.isfile(self.assignment.scene):
            return FailureClass.MISSING_FILE
        return FailureClass.RENDER_ERROR

    def _render(self, render: TaskRender, log: LogBuffer) -> Outcome:
        """Runs the render's command, streaming its log and progress; then reports."""
        assignment = self.assignment
        watch = FailureWatch(lines_for(assignment.dcc))
        moved = [render.progress()]

        def send_progress() -> None:
            done = render.frames_done()
            progress = render.progress()
            if self.throttle.due(progress, len(done)):
                self._put(
                    TaskProgress(attempt=assignment.attempt, progress=progress, frames_done=done)
                )

        def on_line(line: str) -> None:
            log.add(line)
            watch.feed(line)
            report = render.interpret(line)
            if report.frames_done and self._away_task is not None:
                self._away_task.collect_new()  # frames leave the node as soon as they exist
            if report.progress is not None or report.frames_done:
                send_progress()

        def on_tick() -> None:
            log.flush_if_due()
            send_progress()
            if render.progress() != moved[0]:  # progress without a line is no stall either
                moved[0] = render.progress()
                process.note_activity()

        process = ManagedProcess(
            render.command,
            env={**os.environ, **render.env},
            timeout_s=assignment.timeout_s,
            stall_timeout_s=assignment.stall_timeout_s,
            kill_grace_s=self.kill_grace_s,
            record_path=self.record_path,
        )
        log.add(f"[cloudburst] agent {self.agent_name}: {shlex.join(render.command)}")
        with self._lock:
            self._process = process
            cancel_now = self._stop_reason is not None or self._lost_reason is not None
        if cancel_now:
            process.cancel()
        oom_before = oom_kills()
        try:
            result = process.run(on_line, on_tick=on_tick)
        except OSError as exc:
            message = f"Cannot start {render.command[0]}: {exc.strerror or exc}"
            log.add(f"[cloudburst] {message}")
            return self._end(log, Outcome.FAILED, message, FailureClass.RENDER_ERROR)
        oom_after = oom_kills()
        failure = classify(
            watch.strongest(),
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            stalled=result.stalled,
            oom_killed=oom_before is not None and oom_after is not None and oom_after > oom_before,
        )
        log.add(f"[cloudburst] {_describe(result)}")
        if self._lost_reason is not None:
            return self._end(log, Outcome.LOST, self._lost_reason)
        if self._stop_reason is not None and not result.ok:
            message = (
                f"Agent {self.agent_name} stopped ({self._stop_reason}) while rendering; "
                "the task goes back to the queue."
            )
            return self._end(log, Outcome.PREEMPTED, message)
        if result.timed_out:
            done = render.frames_done()
            message = (
                f"The task ran past its time limit of {assignment.timeout_s} s and was killed "
                f"after {len(done)} of {len(assignment.frames)} frame(s)."
            )
            return self._end(log, Outcome.FAILED, message, failure)
        if result.stalled:
            done = render.frames_done()
            message = (
                f"No progress and no log line for {assignment.stall_timeout_s} s; killed after "
                f"{len(done)} of {len(assignment.frames)} frame(s). The task goes back to the "
                "queue; if it stalls again, check the scene on a workstation."
            )
            return self._end(log, Outcome.FAILED, message, failure)
        blobs: list[OutputBlob] = []
        try:
            outputs = render.finish(result.exit_code)
            if self._away_task is not None:
                outputs, blobs = self._away_task.finish(outputs)
            else:
                outputs = self._in_output_folder(outputs, log)
        except RenderError as exc:
            return self._end(log, Outcome.FAILED, exc.message, failure)
        send_progress()
        return self._end(log, Outcome.DONE, "", outputs=outputs, blobs=blobs)

    def _in_output_folder(self, outputs: list[str], log: LogBuffer) -> list[str]:
        """The files the daemon accepts in a report: those directly in the output folder."""
        output, scene = self.assignment.output, self.assignment.scene
        kept = [path for path in outputs if is_frame_of(path, output, scene)]
        for path in outputs:
            if path not in kept:
                log.add(
                    f"[cloudburst] {path} is not directly in the job's output folder "
                    f"{output_folder(output, scene)}; it stays where it is, unreported."
                )
        return kept

    def _end(
        self,
        log: LogBuffer,
        outcome: Outcome,
        message: str,
        failure: FailureClass | None = None,
        outputs: list[str] | None = None,
        blobs: list[OutputBlob] | None = None,
    ) -> Outcome:
        """Queues the task's last log lines and its final report (a failure with its class;
        a preempted attempt has none: the render was not at fault)."""
        assignment = self.assignment
        task_id, attempt = assignment.task_id, assignment.attempt
        if outcome is Outcome.LOST:
            logger.info("agent %s: task %s dropped: %s", self.agent_id, task_id, message)
            self.outbox.drop_task(task_id, attempt)
            return outcome
        if message:
            log.add(f"[cloudburst] {message}")
        log.flush()
        body: UpdateBody
        if outcome is Outcome.DONE:
            body = TaskDone(attempt=attempt, outputs=outputs or [], blobs=blobs or [])
            logger.info(
                "agent %s: task %s of job %s done (%d file(s))",
                self.agent_id,
                task_id,
                assignment.job_id,
                len(body.outputs),
            )
        else:
            preempted = outcome is Outcome.PREEMPTED
            body = TaskFailure(
                attempt=attempt,
                error=message[:10_000],
                preempted=preempted,
                error_class=None if preempted else failure or FailureClass.RENDER_ERROR,
            )
            logger.warning(
                "agent %s: task %s of job %s %s (%s): %s",
                self.agent_id,
                task_id,
                assignment.job_id,
                outcome.value,
                body.error_class or "preempted",
                message,
            )
        self._put(body)
        return outcome

    def _put(self, body: UpdateBody) -> None:
        if self._lost_reason is None:
            self.outbox.put(self.agent_id, self.assignment.task_id, body)


class _Refused(RenderError):
    """The node's own rules refuse the task's paths or environment."""


def _describe(result: ProcessResult) -> str:
    if result.cancelled:
        return f"render stopped (exit code {result.exit_code})"
    if result.timed_out:
        return f"render timed out (exit code {result.exit_code})"
    if result.stalled:
        return f"render stalled and was stopped (exit code {result.exit_code})"
    return f"render exited with code {result.exit_code}"
