"""The farm's metrics (agents' load, queue depth, throughput, leases, ShotGrid health, the
daemon's disk) and the daemon's own health."""

from __future__ import annotations

from statistics import fmean
from typing import TYPE_CHECKING, Any

from common import __version__
from common.models import AgentLoad, FarmMetrics, Health, HealthStatus, Heartbeat
from common.states import JobState
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.services.disk_space import DiskWatch, warning
from daemon.storage import monitoring as store

if TYPE_CHECKING:
    from daemon.shotgun import ShotGridSync

LOAD_FIELDS = ("cpu_percent", "memory_percent", "gpu_percent", "disk_free_mb")


def load_of(beat: Heartbeat) -> dict[str, Any] | None:
    """The load a heartbeat reports, or None when it reports none (an older agent)."""
    load = {name: getattr(beat, name) for name in LOAD_FIELDS}
    return load if any(value is not None for value in load.values()) else None


class MonitoringService:
    """Reads the metrics; the load itself is written by the heartbeat (``record_load``)."""

    def __init__(
        self, context: Context, shotgrid: ShotGridSync, disk: DiskWatch | None = None
    ) -> None:
        self.ctx = context
        self.shotgrid = shotgrid
        self.disk = disk or DiskWatch(context)

    def health(self) -> Health:
        """Whether the daemon serves, with a warning per thing that will fail soon (public)."""
        disk = self.disk.space()
        warnings = [text for text in (warning(disk),) if text is not None]
        return Health(
            status=HealthStatus.WARNING if warnings else HealthStatus.OK,
            version=__version__, disk=disk, warnings=warnings,
        )  # fmt: skip

    def metrics(self, now: float | None = None) -> FarmMetrics:
        """The farm now; load is averaged over online agents that report it."""
        now = self.ctx.now() if now is None else now
        window = self.ctx.settings.monitoring.throughput_window_s
        db = self.ctx.database.db
        agents = [_agent(row) for row in store.agents_with_load(db)]
        online = [a for a in agents if a.state == "online"]
        tasks = store.task_counts(db)
        jobs = store.job_counts(db)
        frames = store.frames_done_since(db, now - window)

        def mean(name: str) -> float | None:
            values = [getattr(a, name) for a in online if getattr(a, name) is not None]
            return round(fmean(values), 2) if values else None

        disks = [a.disk_free_mb for a in online if a.disk_free_mb is not None]
        return FarmMetrics(
            time=to_datetime(now),
            agents_online=len(online),
            agents_offline=len(agents) - len(online),
            cpu_percent=mean("cpu_percent"),
            memory_percent=mean("memory_percent"),
            gpu_percent=mean("gpu_percent"),
            disk_free_mb=sum(disks) if disks else None,
            queue_depth=tasks.get("queued", 0),
            leased_tasks=tasks.get("leased", 0),
            running_tasks=tasks.get("running", 0),
            jobs_by_state={state.value: jobs.get(state.value, 0) for state in JobState},
            frames_per_minute=round(frames * 60.0 / window, 3),
            throughput_window_s=window,
            agents=agents,
            shotgrid=self.shotgrid.status(now),
            daemon_disk=self.disk.space(),
        )


def _agent(row: dict[str, Any]) -> AgentLoad:
    return AgentLoad(
        agent_id=row["id"], name=row["name"], pool=row["pool"], state=row["state"],
        running_tasks=row["running_tasks"], cpu_percent=row["cpu_percent"],
        memory_percent=row["memory_percent"], gpu_percent=row["gpu_percent"],
        disk_free_mb=row["disk_free_mb"], reported_at=to_optional_datetime(row["reported_at"]),
    )  # fmt: skip
