"""Every render node, and the cloud pool set by hand (``/resources``, ``/resources/scale``)."""

from __future__ import annotations

from common.errors import ConfigError
from common.models import Resource, ScaleRequest, ScaleResult
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.services.cloud_pool import CloudPool
from daemon.services.desktop_sessions import SessionService
from daemon.storage import cloud as cloud_store


class ResourceService:
    """Lists the farm's nodes and lets admins set the cloud pool's floor."""

    def __init__(
        self, context: Context, pool: CloudPool, sessions: SessionService | None = None
    ) -> None:
        self.ctx = context
        self.pool = pool
        self.sessions = sessions

    def resources(self) -> list[Resource]:
        """Every node: the agents (local, or cloud ones started by hand), the cloud pool's, and
        artists' live desktops."""
        db = self.ctx.database.db
        nodes = {row["name"]: row for row in cloud_store.list_nodes(db, live_only=True)}
        listed = [
            Resource(
                id=row["id"], kind="local" if row["studio_access"] else "cloud",
                name=row["name"], state=row["state"], pool=row["pool"], cpus=row["cores"],
                memory_gb=round(row["memory_mb"] / 1024, 1),
                disk_free_gb=None if row["disk_free_mb"] is None
                else round(row["disk_free_mb"] / 1024, 1),
                cpu_percent=row["cpu_percent"], running_tasks=row["running_tasks"],
                launched_at=to_datetime(row["registered_at"]),
            )
            for row in cloud_store.agents_for_resources(db)
            if row["studio_access"] or row["name"] not in nodes
        ]  # fmt: skip
        desktops = self.sessions.resources() if self.sessions is not None else []
        return listed + self.cloud_resources() + desktops

    def cloud_resources(self) -> list[Resource]:
        """The cloud pool's nodes, ended ones included, with their cost."""
        profile = self.pool.profile
        return [
            Resource(
                id=row["id"],
                kind="cloud",
                name=row["name"],
                state=row["state"],
                pool=self.ctx.settings.cloud.pool,
                cpus=profile.ocpus,
                gpus=profile.gpus,
                memory_gb=profile.memory_gb,
                running_tasks=row["busy"] or 0,
                shape=row["shape"],
                preemptible=bool(row["preemptible"]),
                price_per_hour=row["price_per_hour"],
                cost=row["cost"],
                launched_at=to_optional_datetime(row["launched_at"]),
                detail=row["detail"],
            )
            for row in cloud_store.list_nodes(self.ctx.database.db)
        ]

    def scale(self, request: ScaleRequest) -> ScaleResult:
        """Sets the pool by hand (admins): a floor of ``count`` nodes, or none.

        Raises:
            ConfigError: the farm does not burst.
        """
        if not self.pool.enabled:
            raise ConfigError('Cloud bursting is off: set [cloud] backend to "oci" or "simcloud".')
        db = self.ctx.database.db
        live = [r for r in cloud_store.list_nodes(db, live_only=True)]
        if request.state == "released" or request.count == 0:
            with self.ctx.database.transaction() as tx:
                cloud_store.set_min_nodes(tx, None)
                idle = [r["id"] for r in live if not r["busy"]]
                cloud_store.set_draining(tx, [r["id"] for r in live if r["busy"]])
            released = self.pool.release(idle)
            return ScaleResult(
                launched=[], released=released,
                message=f"Released {len(released)} idle node(s); busy ones go after their task.",
            )  # fmt: skip
        with self.ctx.database.transaction() as tx:
            cloud_store.set_min_nodes(tx, request.count)
        missing = max(0, request.count - len(live))
        launched = self.pool.launch(missing, request.preemptible, request.shape)
        return ScaleResult(
            launched=launched, released=[],
            message=f"The pool keeps at least {request.count} node(s); {len(launched)} launched.",
        )  # fmt: skip
