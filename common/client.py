"""``DaemonClient``: the one way the CLI, the panels and the agents talk to the daemon."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel

from common.accounts import (
    EnrollmentToken,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    TokenPair,
    User,
    UserCreate,
)
from common.credentials import Credentials
from common.envelope import decode, never_sent
from common.errors import CloudburstError, DaemonUnreachable, Unauthenticated
from common.lenient import lenient
from common.models import (
    IDEMPOTENCY_HEADER,
    POLL_INTERVAL_HEADER,
    TASK_PAGE_MAX,
    AgentInfo,
    AgentProtocol,
    AgentRegistration,
    AgentUpdate,
    AgentUpdateReply,
    AuditPage,
    Heartbeat,
    HeartbeatReply,
    Job,
    JobData,
    JobPage,
    JobRoute,
    JobSpec,
    LinkedEntity,
    OverrideRecord,
    PinChange,
    PriorityChange,
    QueuePage,
    Resource,
    Resubmission,
    ShotGridChoices,
    ShotGridStatus,
    ShowHoldChange,
    ShowPolicy,
    ShowShareChange,
    SpendReport,
    Task,
    TaskAction,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLog,
    TaskLogChunk,
    TaskPage,
    TaskProgress,
    Webhook,
    WebhookCreate,
    WebhookCreated,
)

if TYPE_CHECKING:
    from common.data.task_data import TaskData

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key``: one per submission (a Render click, a submit command)."""
    return str(uuid.uuid4())


API = "/api/v1"

STATUS_KEY = ":status"
"""Where ``headers_out`` holds an answer's status (as HTTP/2 names it: no header is so named)."""

FAST_RETRY_S = 30.0
"""After the daemon's fast address refused a connection, the agent's busiest calls go to the
main address this long before it is tried again."""


class _FastAddressDown(DaemonUnreachable):
    """The fast address refused the connection: the request never reached the daemon."""


@dataclass(frozen=True)
class LeaseAnswer:
    """What a lease request got: a task, or none and how long the daemon asks to wait."""

    assignment: TaskAssignment | None
    poll_interval_s: float | None = None
    """The 204's ``X-Poll-Interval`` in seconds; None when absent or unreadable."""


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 3600 else None


class DaemonClient:
    """Talks to one daemon over HTTP; safe to share between threads of one process.

    Errors come back as Cloudburst errors: the daemon's ``code`` picks the class. A retryable
    error (the daemon unreachable, or busy with 503) is retried with exponential backoff up to
    ``retries`` times. A request that may have reached the daemon and timed out is retried only
    when it is idempotent (GET, PUT, DELETE, or a submission under its ``Idempotency-Key``), so a
    submission is never made twice.

    The agent protocol's replies are read tolerantly (``common.lenient``): keys the agent's
    models do not know are dropped before validating, so a later daemon may add fields to
    them without breaking agents that are upgraded after it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        auth: Credentials | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._session = requests.Session()
        self.keep_alive = True
        """Whether calls share a kept connection; False: each call closes its own (what a
        protocol-2 daemon may ask of its agents, ``agent_protocol``)."""
        self.fast_url: str | None = None
        """Where the agent's busiest calls go (``AgentProtocol.fast_url``); None: ``base_url``."""
        self._fast_again_at = 0.0

    def close(self) -> None:
        self._session.close()

    # --- jobs ----------------------------------------------------------------------------

    def submit(self, spec: JobSpec, idempotency_key: str | None = None) -> Job:
        """Submits a job under an ``Idempotency-Key``: ``idempotency_key``, else a fresh one.

        The key makes the submission safe to resend: this client's own retries (a timeout, a
        dropped connection) send the same key, and the daemon stores the job once. Give the
        same key to resend a submission whose answer was lost; a new one for a new job.
        """
        key = idempotency_key or new_idempotency_key()
        return self._call("POST", "/jobs", Job, body=spec, headers={IDEMPOTENCY_HEADER: key})

    def jobs(self, **filters: Any) -> JobPage:
        """Lists jobs as summaries (``job`` has the whole job), newest first unless sorted.

        Filters: state, project, owner, priority_min, priority_max, archived, name_contains,
        shot or asset (a ShotGrid shot's or asset's id), sort, order, offset, limit.
        """
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/jobs", JobPage, params=params)

    def job(self, job_id: int) -> Job:
        return self._call("GET", f"/jobs/{job_id}", Job)

    def cancel(self, job_id: int) -> Job:
        return self._call("DELETE", f"/jobs/{job_id}", Job)

    def pause(self, job_id: int) -> Job:
        return self._call("POST", f"/jobs/{job_id}/pause", Job)

    def resume(self, job_id: int) -> Job:
        return self._call("POST", f"/jobs/{job_id}/resume", Job)

    def retry(self, job_id: int) -> Job:
        return self._call("POST", f"/jobs/{job_id}/retry", Job)

    def set_priority(self, job_id: int, priority: int) -> Job:
        return self._call(
            "PUT", f"/jobs/{job_id}/priority", Job, body=PriorityChange(priority=priority)
        )

    def resubmit(self, job_id: int, *, frames: str | None = None, name: str | None = None) -> Job:
        """Submits the job again as the caller's own (other ``frames`` or ``name`` if given);
        returns the new job."""
        body = Resubmission(frames=frames, name=name)
        return self._call("POST", f"/jobs/{job_id}/resubmit", Job, body=body)

    def archive(self, job_id: int, *, archived: bool = True) -> Job:
        """Archives a finished job (``archived=False``: back in the listing)."""
        return self._call("POST", f"/jobs/{job_id}/{'archive' if archived else 'unarchive'}", Job)

    def delete_job(self, job_id: int) -> Job:
        """Deletes a finished job's records (frames on disk stay); returns it as it was."""
        return self._call("DELETE", f"/jobs/{job_id}/record", Job)

    def task_action(self, job_id: int, task_id: int, action: TaskAction) -> Task:
        """Retries, requeues, suspends or resumes one task of a job; returns the task."""
        return self._call("POST", f"/jobs/{job_id}/tasks/{task_id}/{action.value}", Task)

    def job_data(self, job_id: int) -> JobData:
        """The job's files in the object store and its frames coming home."""
        return self._call("GET", f"/jobs/{job_id}/data", JobData)

    def audit(self, **filters: Any) -> AuditPage:
        """A page of the audit log of files that left the building (``AuditQuery`` filters)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/audit", AuditPage, params=params)

    def agents(self) -> list[AgentInfo]:
        data = self._request("GET", "/agents")
        return [AgentInfo.model_validate(item, strict=False) for item in data]

    def agent_action(
        self, agent_id: str, action: Literal["disable", "drain", "enable"]
    ) -> AgentInfo:
        """Disables, drains or enables node ``agent_id`` (a TD's or admin's call)."""
        return self._call("POST", f"/agents/{agent_id}/{action}", AgentInfo)

    def resources(self) -> list[Resource]:
        """Every render node, local and cloud, with its size, load, state and cost."""
        data = self._request("GET", "/resources")
        return [Resource.model_validate(item, strict=False) for item in data]

    def route(self, job_id: int) -> JobRoute:
        """Where the job's frames may render now, and why."""
        return self._call("GET", f"/jobs/{job_id}/route", JobRoute)

    def spend(self) -> SpendReport:
        """Cloud spend per show and per job."""
        return self._call("GET", "/cloud/spend", SpendReport)

    def tasks(self, job_id: int) -> list[Task]:
        """Every task of the job, in task order, fetched a page at a time."""
        tasks: list[Task] = []
        while True:
            page = self.task_page(job_id, offset=len(tasks), limit=TASK_PAGE_MAX)
            tasks.extend(page.items)
            if not page.items or len(tasks) >= page.total:
                return tasks

    def task_page(self, job_id: int, offset: int = 0, limit: int = 100) -> TaskPage:
        """One page of the job's tasks, in task order, with how many the job has."""
        params = {"offset": offset, "limit": limit}
        return self._call("GET", f"/jobs/{job_id}/tasks", TaskPage, params=params)

    def task_log(self, job_id: int, task_id: int, offset: int = 0) -> TaskLog:
        return self._call(
            "GET", f"/jobs/{job_id}/tasks/{task_id}/log", TaskLog, params={"offset": offset}
        )

    # --- the queue and production's overrides ---------------------------------------------

    def queue(self, offset: int = 0, limit: int = 50) -> QueuePage:
        """The jobs waiting for agents, in the order they get tasks, with their reasons."""
        return self._call("GET", "/queue", QueuePage, params={"offset": offset, "limit": limit})

    def pin(self, job_id: int, *, pinned: bool = True, note: str = "") -> Job:
        """Pins a job above every unpinned one (or unpins it); recorded under the caller."""
        body = PinChange(pinned=pinned, note=note)
        return self._call("PUT", f"/jobs/{job_id}/pin", Job, body=body)

    def shows(self) -> list[ShowPolicy]:
        data = self._request("GET", "/shows")
        return [ShowPolicy.model_validate(item, strict=False) for item in data]

    def hold_show(self, project: str, *, held: bool = True, note: str = "") -> ShowPolicy:
        """Holds a show (or releases it); recorded under the caller."""
        body = ShowHoldChange(held=held, note=note)
        return self._call("PUT", f"/shows/{quote(project, safe='')}/hold", ShowPolicy, body=body)

    def set_share(self, project: str, share: float, *, note: str = "") -> ShowPolicy:
        """Sets a show's share of the farm; recorded under the caller."""
        body = ShowShareChange(share=share, note=note)
        return self._call("PUT", f"/shows/{quote(project, safe='')}/share", ShowPolicy, body=body)

    def overrides(self, offset: int = 0, limit: int = 50) -> list[OverrideRecord]:
        data = self._request("GET", "/overrides", params={"offset": offset, "limit": limit})
        return [OverrideRecord.model_validate(item, strict=False) for item in data]

    def shotgrid_status(self) -> ShotGridStatus:
        return self._call("GET", "/shotgrid/status", ShotGridStatus)

    def shotgrid_projects(self) -> ShotGridChoices:
        """The ShotGrid projects a job may link to (the daemon keeps them a sync interval)."""
        return self._call("GET", "/shotgrid/projects", ShotGridChoices)

    def shotgrid_shots(self, project: str) -> ShotGridChoices:
        """The shots of the ShotGrid project named ``project``."""
        return self._call("GET", "/shotgrid/shots", ShotGridChoices, params={"project": project})

    def shotgrid_assets(self, project: str) -> ShotGridChoices:
        """The assets of the ShotGrid project named ``project``."""
        return self._call("GET", "/shotgrid/assets", ShotGridChoices, params={"project": project})

    def shotgrid_tasks(
        self, project: str, entity_id: int, entity_type: LinkedEntity = "Shot"
    ) -> ShotGridChoices:
        """The tasks of the shot (or asset) ``entity_id``, an id from ``shotgrid_shots`` (or
        ``shotgrid_assets``), of ``project``."""
        params = {"project": project, "entity_type": entity_type, "entity_id": entity_id}
        return self._call("GET", "/shotgrid/tasks", ShotGridChoices, params=params)

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health", retries=0)

    # --- signing in, users, agents' enrollment, projects ------------------------------------

    def login(self, username: str, password: str) -> TokenPair:
        body = LoginRequest(username=username, password=password)
        return self._call("POST", "/auth/login", TokenPair, body=body, authenticate=False)

    def refresh_tokens(self, refresh_token: str) -> TokenPair:
        body = RefreshRequest(refresh_token=refresh_token)
        return self._call("POST", "/auth/refresh", TokenPair, body=body, authenticate=False)

    def logout(self, refresh_token: str | None = None) -> None:
        self._request("POST", "/auth/logout", body=LogoutRequest(refresh_token=refresh_token))

    def me(self) -> User:
        return self._call("GET", "/auth/me", User)

    def create_user(self, user: UserCreate) -> User:
        """Creates an account (admins)."""
        return self._call("POST", "/users", User, body=user)

    def enrollment_token(self) -> EnrollmentToken:
        """A one-time token an agent registers with (TDs and admins)."""
        return self._call("POST", "/agents/enrollment-tokens", EnrollmentToken)

    # --- notifications ----------------------------------------------------------------------

    def add_webhook(self, webhook: WebhookCreate) -> WebhookCreated:
        """Adds a webhook; the answer holds its signing secret, which is never shown again."""
        return self._call("POST", "/webhooks", WebhookCreated, body=webhook)

    def webhooks(self, everyone: bool = False) -> list[Webhook]:
        """One's webhooks (everyone's for an admin who asks), with their recent deliveries."""
        params = {"everyone": "true"} if everyone else None
        data = self._request("GET", "/webhooks", params=params)
        return [Webhook.model_validate(item, strict=False) for item in data]

    def remove_webhook(self, webhook_id: int) -> Webhook:
        return self._call("DELETE", f"/webhooks/{webhook_id}", Webhook)

    # --- the agent protocol ----------------------------------------------------------------
    #
    # Replies here are read with ``common.lenient``: fields this agent does not know are left
    # out before validating, so a daemon upgraded before its agents may add fields to them.

    def register(self, registration: AgentRegistration) -> AgentInfo:
        return lenient(AgentInfo, self._request("POST", "/agents", body=registration))

    def agent_protocol(self) -> AgentProtocol | None:
        """What the daemon speaks to agents; None from an old daemon, which has no such route
        (404 or 405): it takes the heartbeat, progress and log calls, not ``updates``."""
        answer: dict[str, str] = {}
        try:
            data = self._request("GET", "/agents/protocol", headers_out=answer)
        except CloudburstError:
            # No such route: 404, or 405 where another method's route takes the path (an old
            # daemon has ``PATCH /agents/<agent_id>``).
            if answer.get(STATUS_KEY) in ("404", "405"):
                return None
            raise
        protocol = lenient(AgentProtocol, data)
        self.keep_alive = protocol.keep_alive  # as the daemon asks its agents to connect
        self.fast_url = protocol.fast_url.rstrip("/") if protocol.fast_url else None
        return protocol

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply:
        data = self._request("POST", f"/agents/{agent_id}/heartbeat", body=beat)
        return lenient(HeartbeatReply, data)

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        """Sends one update: the heartbeat and each task's progress and log since the last
        (a daemon whose ``agent_protocol`` is version 2 or later)."""
        data = self._busy("POST", f"/agents/{agent_id}/updates", body=update)
        return lenient(AgentUpdateReply, data)

    def lease(self, agent_id: str) -> TaskAssignment | None:
        """Asks for a task; None when the daemon has nothing for this agent now (204)."""
        return self.lease_answer(agent_id).assignment

    def lease_answer(self, agent_id: str) -> LeaseAnswer:
        """Asks for a task; with none, the answer carries the daemon's ``X-Poll-Interval``."""
        headers: dict[str, str] = {}
        data = self._busy("POST", f"/agents/{agent_id}/lease", headers_out=headers)
        if data is None:
            return LeaseAnswer(None, _seconds(headers.get(POLL_INTERVAL_HEADER.lower())))
        return LeaseAnswer(lenient(TaskAssignment, data))

    def task_data(self, agent_id: str, task_id: int) -> TaskData:
        """The files of a held task, for a node away from studio storage (needs ``data``)."""
        from common.data.task_data import TaskData

        data = self._request("GET", f"/agents/{agent_id}/tasks/{task_id}/data")
        return lenient(TaskData, data)

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        self._request("POST", f"/agents/{agent_id}/tasks/{task_id}/progress", body=update)

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        self._request("POST", f"/agents/{agent_id}/tasks/{task_id}/log", body=chunk)

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> TaskAssignment | None:
        """Reports a task done; returns the next task when ``done.lease_next`` asked for one
        and the daemon had one (a daemon before protocol 3 answers nothing)."""
        data = self._busy("POST", f"/agents/{agent_id}/tasks/{task_id}/complete", body=done)
        following = data.get("next") if isinstance(data, dict) else None
        return lenient(TaskAssignment, following) if following is not None else None

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        self._busy("POST", f"/agents/{agent_id}/tasks/{task_id}/fail", body=failure)

    # --- plumbing -------------------------------------------------------------------------

    def _busy(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        headers_out: dict[str, str] | None = None,
    ) -> Any:
        """One of the agent's busiest calls: to the daemon's fast address when it announced
        one, else (and for ``FAST_RETRY_S`` after the fast address refused a connection) to
        the main one. Only a request that never reached the daemon is sent again elsewhere."""
        fast = self.fast_url
        if fast is not None and time.monotonic() >= self._fast_again_at:
            try:
                return self._request(method, path, body=body, headers_out=headers_out, base=fast)
            except _FastAddressDown:
                logger.warning(
                    "The daemon's fast address %s does not answer; using %s for %.0f s",
                    fast, self.base_url, FAST_RETRY_S,
                )  # fmt: skip
                self._fast_again_at = time.monotonic() + FAST_RETRY_S
        return self._request(method, path, body=body, headers_out=headers_out)

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: BaseModel | None = None,
        params: Mapping[str, Any] | None = None,
        authenticate: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        data = self._request(
            method, path, body=body, params=params, authenticate=authenticate, headers=headers
        )
        return model.model_validate(data, strict=False)

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: Mapping[str, Any] | None = None,
        retries: int | None = None,
        authenticate: bool = True,
        headers: Mapping[str, str] | None = None,
        headers_out: dict[str, str] | None = None,
        base: str | None = None,
    ) -> Any:
        """Sends one request, retrying what may be retried; returns the envelope's data.

        When the daemon says the credentials are not valid (401) and they can be renewed
        (an expired access token and a refresh token), renews them and sends it once more.
        ``headers_out``, when given, receives the headers of the answer read (names in
        lower case) and its status under ``STATUS_KEY``. ``base``: another address of the
        daemon (its fast address); a connection it refuses raises ``_FastAddressDown`` at once.
        """
        auth = self.auth if authenticate else None
        sent = (method, path, body, params, retries, auth, headers, headers_out, base)
        try:
            return self._send(*sent)
        except Unauthenticated:
            if auth is None or not auth.refresh(self):
                raise
        return self._send(*sent)

    def _send(
        self,
        method: str,
        path: str,
        body: BaseModel | None,
        params: Mapping[str, Any] | None,
        retries: int | None,
        auth: Credentials | None,
        extra_headers: Mapping[str, str] | None = None,
        headers_out: dict[str, str] | None = None,
        base: str | None = None,
    ) -> Any:
        url = f"{base or self.base_url}{API}{path}"
        payload = body.model_dump_json() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        if not self.keep_alive and base is None:  # the fast address keeps its connections
            headers["Connection"] = "close"
        headers.update(extra_headers or {})
        token = auth.bearer() if auth is not None else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A POST under an Idempotency-Key is stored once however often it is sent.
        idempotent = method in ("GET", "PUT", "DELETE", "HEAD") or IDEMPOTENCY_HEADER in headers
        attempts = (self.retries if retries is None else retries) + 1
        for attempt in range(attempts):
            try:
                response = self._session.request(
                    method, url, data=payload, params=params, headers=headers,
                    timeout=self.timeout,
                )  # fmt: skip
            except requests.ConnectionError as exc:
                if base is not None and never_sent(exc):
                    down = f"Cannot reach the daemon's fast address {base}."
                    raise _FastAddressDown(down) from None
                # A refused connection never reached the daemon: safe to resend.
                error: CloudburstError = DaemonUnreachable(
                    f"Cannot reach the Cloudburst daemon at {self.base_url}. Is it running? "
                    "Check CLOUDBURST_DAEMON_URL or the daemon_url setting."
                )
                if not idempotent and not never_sent(exc):
                    raise error from None
            except requests.Timeout:
                error = DaemonUnreachable(
                    f"The daemon at {self.base_url} did not answer within {self.timeout:g} s."
                )
                if not idempotent:
                    raise error from None
            else:
                if headers_out is not None:
                    headers_out.update((k.lower(), v) for k, v in response.headers.items())
                    headers_out[STATUS_KEY] = str(response.status_code)
                if response.status_code == 204:
                    return None
                error_or_data = decode(response)
                if not isinstance(error_or_data, CloudburstError):
                    return error_or_data
                error = error_or_data
                if not error.retryable:
                    raise error
            if attempt + 1 < attempts:
                delay = self.backoff * (2**attempt)
                logger.info("%s %s failed (%s); retrying in %.2f s", method, path, error, delay)
                self._sleep(delay)
        raise error
