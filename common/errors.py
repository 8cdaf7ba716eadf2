"""One small error hierarchy for every part of Cloudburst.

Each error carries a stable ``code`` (sent over the wire), the HTTP ``status`` the daemon
answers with, and whether a client may retry the same request later (``retryable``).
``UserFacingError`` messages are shown to people verbatim, so they say what to do.
"""

from __future__ import annotations

from typing import Any


class CloudburstError(Exception):
    """Root of every error Cloudburst raises on purpose."""

    code = "internal_error"
    status = 500
    retryable = False

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UserFacingError(CloudburstError):
    """An error whose message is meant for a person and says how to fix it."""

    code = "error"
    status = 400


class InvalidInput(UserFacingError):
    """The request or command line is malformed or breaks a rule."""

    code = "invalid_input"
    status = 400


class FrameSpecError(InvalidInput):
    """A frame specification such as ``10-1`` or ``a-b`` cannot be used."""

    code = "invalid_frame_spec"


class JobTooLarge(InvalidInput):
    """A job names more frames, or would be cut into more tasks, than the daemon takes."""

    code = "job_too_large"


class TooLarge(InvalidInput):
    """A request body, a file or a part over its configured size limit."""

    code = "too_large"
    status = 413


class QuotaExceeded(TooLarge):
    """Storing this would take a user or a show past their storage quota."""

    code = "quota_exceeded"


class InvalidPath(InvalidInput):
    """A job's scene or output path is relative, not normalised, or holds a control character."""

    code = "invalid_path"


class PathNotAllowed(InvalidInput):
    """A path lies outside the folders the studio allows (``[paths]``), or in the daemon's own."""

    code = "path_not_allowed"


class NoFrameToken(InvalidInput):
    """A job renders several frames to an output that names one file, so each overwrites it."""

    code = "no_frame_token"


class PreflightFailed(InvalidInput):
    """The pre-flight of ``cloudburst submit`` found errors in the scene or the options."""

    code = "preflight_failed"


class InvalidEnv(InvalidInput):
    """A job's environment is too large, or names a variable badly or one no job may set."""

    code = "invalid_env"


class OutputNotAllowed(InvalidInput):
    """An agent named a frame file outside its job's output folder (or not a regular file)."""

    code = "output_not_allowed"


class UnknownDependency(InvalidInput):
    """A job names jobs to wait for that do not exist."""

    code = "unknown_dependency"


class ConfigError(UserFacingError):
    """The configuration file, environment or command line holds a bad value."""

    code = "invalid_config"


class NotFound(UserFacingError):
    """The job, task or agent named does not exist."""

    code = "not_found"
    status = 404


class Conflict(UserFacingError):
    """The thing changed under the caller: a lost compare-and-set or a stale lease."""

    code = "conflict"
    status = 409


class IllegalStateChange(Conflict):
    """The requested state change is not allowed from the current state."""

    code = "illegal_state_change"


class TaskNotYours(Conflict):
    """The task was cancelled, reassigned or requeued; the agent must stop working on it."""

    code = "task_not_yours"


class DependencyCycle(Conflict):
    """A change of a job's dependencies would make jobs wait for each other in a loop."""

    code = "dependency_cycle"


class IdempotencyKeyReused(UserFacingError):
    """An ``Idempotency-Key`` sent again with a different request than the one it first named."""

    code = "idempotency_key_reused"
    status = 422


class Unauthenticated(UserFacingError):
    """No credentials, or credentials the daemon does not accept (expired, forged, revoked)."""

    code = "unauthenticated"
    status = 401


class Forbidden(UserFacingError):
    """The caller is known but may not do this; the message says which role or rule denies."""

    code = "forbidden"
    status = 403


class EnvNotAllowed(Forbidden):
    """The job's environment sets variables only TDs and admins may set (``LD_PRELOAD``...)."""

    code = "env_not_allowed"


class DesktopUnauthorized(Unauthenticated):
    """A desktop's report or redeem without its session's secret (or with another's)."""

    code = "unauthorized"


class ConnectionRefused(Forbidden):
    """A one-time connection token already used, expired, or of another session."""

    code = "connection_refused"


class DesktopsOff(Conflict):
    """The daemon runs no desktops (``[sessions] backend`` is none, or no profile is set)."""

    code = "desktops_off"


class TooManySessions(Conflict):
    """A user already has ``[sessions] max_sessions_per_user`` sessions that have not ended."""

    code = "too_many_sessions"


class NoRunningDesktop(Conflict):
    """The session named has no desktop running now (not started yet, ended, or lost)."""

    code = "no_running_desktop"


class SnapshotUnavailable(Conflict):
    """The snapshot is not in a state that allows this (still being made, failed, deleted)."""

    code = "snapshot_unavailable"


class RateLimited(UserFacingError):
    """Too many attempts (sign-ins) in a short time; wait and try again."""

    code = "rate_limited"
    status = 429


class ServiceUnavailable(CloudburstError):
    """The daemon is up but cannot serve now (starting, shutting down, database busy)."""

    code = "unavailable"
    status = 503
    retryable = True


class DiskFull(ServiceUnavailable):
    """The daemon's data disk (or its quota) is full: nothing of the request was stored.

    Retryable: the request changed nothing and succeeds once IT frees space.
    """

    code = "disk_full"
    status = 507


class DaemonUnreachable(CloudburstError):
    """No answer from the daemon: it is down, or the address is wrong."""

    code = "daemon_unreachable"
    status = 503
    retryable = True


class RenderError(CloudburstError):
    """A render could not be started or ended badly on a render node."""

    code = "render_error"


_BY_CODE: dict[str, type[CloudburstError]] = {
    cls.code: cls
    for cls in (
        CloudburstError,
        UserFacingError,
        InvalidInput,
        FrameSpecError,
        JobTooLarge,
        TooLarge,
        QuotaExceeded,
        InvalidPath,
        PathNotAllowed,
        NoFrameToken,
        InvalidEnv,
        OutputNotAllowed,
        UnknownDependency,
        ConfigError,
        NotFound,
        Conflict,
        IllegalStateChange,
        TaskNotYours,
        DependencyCycle,
        IdempotencyKeyReused,
        Unauthenticated,
        Forbidden,
        EnvNotAllowed,
        DesktopUnauthorized,
        ConnectionRefused,
        DesktopsOff,
        TooManySessions,
        NoRunningDesktop,
        SnapshotUnavailable,
        RateLimited,
        ServiceUnavailable,
        DiskFull,
        DaemonUnreachable,
        RenderError,
    )
}


def error_for(code: str | None, status: int, message: str, details: Any = None) -> CloudburstError:
    """Rebuilds the error a daemon answer stands for, from its ``code`` or else its status."""
    cls = _BY_CODE.get(code or "")
    if cls is None:
        if status == 404:
            cls = NotFound
        elif status == 401:
            cls = Unauthenticated
        elif status == 403:
            cls = Forbidden
        elif status == 409:
            cls = Conflict
        elif status == 507:
            cls = DiskFull
        elif status == 413:
            cls = TooLarge
        elif status in (502, 503, 504):
            cls = ServiceUnavailable
        elif 400 <= status < 500:
            cls = InvalidInput
        else:
            cls = CloudburstError
    return cls(message, details=details)
