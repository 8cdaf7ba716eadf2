"""Roles and the permissions each grants: pure data, one table."""

from __future__ import annotations

from enum import StrEnum

from common.accounts import Role


class Permission(StrEnum):
    """What an operation requires; every ``bp.operation(...)`` declares one."""

    PUBLIC = "public"
    """Anyone, signed in or not: health, the API description, sign-in and refresh."""
    SIGNED_IN = "signed_in"
    """Any signed-in user (sign out, one's own profile)."""
    JOBS_READ = "jobs.read"
    JOBS_SUBMIT = "jobs.submit"
    JOBS_SUBMIT_AS_OTHER = "jobs.submit_as_other"
    """Submit with another person as the owner."""
    JOBS_MANAGE = "jobs.manage"
    """Cancel, pause, resume, retry any job (an artist may on their own jobs)."""
    JOBS_PRIORITY = "jobs.priority"
    """Change any job's priority (an artist may on their own jobs)."""
    JOBS_PIN = "jobs.pin"
    JOBS_RENDER_ENV = "jobs.render_env"
    """Set the variables that decide what a renderer loads (``LD_PRELOAD``, ``PYTHONPATH``...)
    in a job's environment (``common.render_env``)."""
    SHOWS_READ = "shows.read"
    SHOWS_MANAGE = "shows.manage"
    """Hold a show, set its share."""
    REPORTS_READ = "reports.read"
    """Production's overrides and reports."""
    AGENTS_READ = "agents.read"
    AGENTS_MANAGE = "agents.manage"
    """Mint enrollment tokens, register agents."""
    AGENTS_ENROLL = "agents.enroll"
    """Register an agent: an enrollment token, an agent's own token, or ``agents.manage``."""
    AGENT_PROTOCOL = "agent.protocol"
    """Heartbeat, lease, task updates: the agent itself (or an admin)."""
    PROJECTS_READ = "projects.read"
    PROJECTS_MANAGE = "projects.manage"
    USERS_MANAGE = "users.manage"
    FILES_READ_ANY = "files.read_any"
    """Download stored files others uploaded (anyone may download their own)."""
    FILES_DELETE_ANY = "files.delete_any"
    """Delete or restore stored files others uploaded (anyone may their own)."""
    LOGS_READ = "logs.read"
    """The daemon's own log records and the metrics Prometheus scrapes."""
    AUDIT_READ = "audit.read"
    """The audit log of every file that left the building."""
    CLOUD_MANAGE = "cloud.manage"
    """Scale the cloud pool by hand."""
    LIMITS_MANAGE = "limits.manage"
    """Set and remove limits (licence counters); anyone who may read jobs reads them."""
    BACKUPS_READ = "backups.read"
    """List the daemon's backups (admins only: a backup holds every secret of the farm)."""
    WEBHOOKS = "webhooks"
    """Add, list and remove one's own webhooks (told of one's own jobs)."""
    WEBHOOKS_SHOWS = "webhooks.shows"
    """Add a webhook told of a whole show's jobs and its cloud budget."""
    WEBHOOKS_ANY = "webhooks.any"
    """List and remove anyone's webhooks."""
    SESSIONS = "sessions"
    """Start, list, see and end one's own desktop sessions and snapshots."""
    SESSIONS_MANAGE = "sessions.manage"
    """See and end anyone's desktop sessions and snapshots; start one for another person."""


#: What lets an artist act on their own jobs where the operation needs more.
OWN_JOBS = frozenset({Permission.JOBS_MANAGE, Permission.JOBS_PRIORITY})

_EVERYONE = frozenset(
    {
        Permission.SIGNED_IN,
        Permission.JOBS_READ,
        Permission.JOBS_SUBMIT,
        Permission.SHOWS_READ,
        Permission.AGENTS_READ,
        Permission.PROJECTS_READ,
        Permission.WEBHOOKS,
        Permission.SESSIONS,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ARTIST: _EVERYONE,
    Role.TD: _EVERYONE
    | {
        Permission.JOBS_SUBMIT_AS_OTHER,
        Permission.JOBS_RENDER_ENV,
        Permission.JOBS_MANAGE,
        Permission.JOBS_PRIORITY,
        Permission.AGENTS_MANAGE,
        Permission.AGENTS_ENROLL,
        Permission.LIMITS_MANAGE,
        Permission.REPORTS_READ,
        Permission.FILES_READ_ANY,
        Permission.LOGS_READ,
        Permission.AUDIT_READ,
        Permission.WEBHOOKS_SHOWS,
        Permission.SESSIONS_MANAGE,
    },
    Role.PRODUCER: _EVERYONE
    | {
        Permission.JOBS_PRIORITY,
        Permission.JOBS_PIN,
        Permission.SHOWS_MANAGE,
        Permission.REPORTS_READ,
        Permission.AUDIT_READ,
        Permission.WEBHOOKS_SHOWS,
    },
    Role.ADMIN: frozenset(Permission),
}


_GRANTED = {role: granted | {Permission.PUBLIC} for role, granted in ROLE_PERMISSIONS.items()}


def permissions_of(role: Role) -> frozenset[Permission]:
    """Every permission ``role`` grants (``public`` is implied for everyone); asked on every
    request, so made once."""
    return _GRANTED[role]
