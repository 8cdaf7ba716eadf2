"""Runs the daemon: waitress serves the app (uvicorn the agents' fast address, when on); the
group commit writes agents' updates together; APScheduler triggers the reaper, the ranking
pass, the ShotGrid sync and write-back, the webhooks' deliveries, the desktop sessions pass,
the daily backup, the farm's samples, and the purges of what would grow without bound (stored
files' trash, log records, old task logs, idempotency keys)."""

from __future__ import annotations

import contextlib
import logging
import resource
import signal
from collections.abc import Callable
from types import FrameType

import waitress
from apscheduler.schedulers.background import BackgroundScheduler

from common.config import Settings
from common.errors import ConfigError
from daemon.app import create_app
from daemon.collector import settle_collector
from daemon.container import Services, services_of
from daemon.fast_server import fast_server, fast_socket
from daemon.listening import listening_socket
from daemon.process_services import process_services
from daemon.server_options import parse_bind, server_options
from daemon.workers import Workers

logger = logging.getLogger(__name__)


def raise_open_files_limit(connections: int) -> None:
    """Lets the process hold its connections (each a descriptor) and its files: the soft
    limit of open files rises towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < wanted:
            logger.warning(
                "Open files are limited to %d: fewer than the %d connections of "
                "server_connections; raise the limit (LimitNOFILE= in the systemd unit)",
                target, connections,
            )  # fmt: skip


def desktop_passes(
    services: Services, settings: Settings
) -> dict[str, tuple[Callable[..., object], float]]:
    """The desktop sessions pass, run once now (sessions that ended or were lost while the
    daemon was down), and the scheduler's entries of it and of the scheduled snapshots; none
    while desktops are off."""
    if services.desktop_backend is None:
        return {}
    recovered = services.snapshots.recover_archives()
    if recovered:
        logger.warning("%d snapshot(s) were being archived when the daemon stopped", recovered)
    moved = services.sessions.run_pass()
    logger.info("Desktops on %s: the sessions pass moved %d session(s) at the start",
                services.desktop_backend.name, moved)  # fmt: skip
    return {
        "desktop-sessions": (services.sessions.run_pass, settings.sessions.interval_s),
        "desktop-snapshots": (
            services.snapshots.run_schedules,
            settings.sessions.snapshot_interval_s,
        ),
    }


def serve(settings: Settings) -> None:
    """Serves until SIGTERM or SIGINT. Runs the only scheduler of this daemon."""
    host, port = parse_bind(settings.bind)
    app = create_app(settings)
    services = services_of(app)
    services.auth.ensure_local_admin()
    raise_open_files_limit(settings.server_connections)
    workers: Workers | None = None
    try:
        if settings.server_workers > 1:
            sock = listening_socket(host, port, first=True)
            server = waitress.create_server(app, sockets=[sock], **server_options(settings))
            workers = Workers(settings)
        else:
            server = waitress.create_server(app, host=host, port=port, **server_options(settings))
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Is another daemon running "
            "there? Stop it or choose another --bind."
        ) from None
    fast_sock = fast_socket(settings, first=True)
    extended = services.reaper.grace_after_start()
    if extended:
        logger.info("Gave %d leased task(s) a full lease time after the restart", extended)
    report = services.ranking.run_pass()
    logger.info("Ranked %d unfinished job(s) in %.0f ms", report.jobs, report.seconds * 1000)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # busy is not an error
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per reap is noise
    scheduler = BackgroundScheduler(timezone="UTC")
    every: dict[str, tuple[Callable[..., object], float]] = {
        "reaper": (services.reaper.reap, settings.reaper_interval_s)
    }
    every["ranking"] = (services.ranking.run_pass, settings.ranking.interval_s)
    every["storage-purge"] = (services.files.purge, settings.storage.purge_interval_s)
    every["farm-sample"] = (services.farm_history.sample, settings.monitoring.sample_interval_s)
    every["log-trim"] = (services.logs.trim, 3600.0)
    every["task-log-retention"] = (services.logs.purge_task_logs, 3600.0)
    every["idempotency-purge"] = (
        services.idempotency.purge,
        settings.idempotency.purge_interval_s,
    )
    every["webhooks"] = (services.notifier.deliver, settings.webhooks.interval_s)
    if services.staging.plane.configured:
        resumed = services.staging.resume_after_restart()
        if resumed:
            logger.info("Staging %d job(s) again after the restart", resumed)
        every["staging"] = (services.staging.stage_pending, settings.staging.interval_s)
        every["frames-home"] = (services.homecoming.bring_home, settings.staging.interval_s)
    every.update(desktop_passes(services, settings))
    if services.burst.enabled:
        every["burst"] = (services.burst.run_pass, settings.cloud.interval_s)
        logger.info("Bursting to %s (pool %s)", settings.cloud.backend, settings.cloud.pool)
    if settings.shotgrid.configured:
        every["shotgrid-sync"] = (services.shotgrid.sync, settings.shotgrid.sync_interval_s)
        every["shotgrid-writeback"] = (
            services.writeback.flush,
            settings.shotgrid.writeback_interval_s,
        )
        logger.info(
            "ShotGrid: %s as script %r", settings.shotgrid.site, settings.shotgrid.script_name
        )
    if workers is not None:
        workers.start()
        every["workers"] = (workers.check, 5.0)
    for name, (call, seconds) in every.items():
        scheduler.add_job(
            call, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True
        )
    if services.backups.enabled:
        backup = settings.backup
        hour, minute = backup.hour_minute
        scheduler.add_job(
            services.backups.run_scheduled, "cron", hour=hour, minute=minute,
            timezone=backup.timezone, id="backup", max_instances=1, coalesce=True,
            misfire_grace_time=3600,
        )  # fmt: skip
        logger.info("Backing up to %s daily at %s %s (full on %s)", backup.destination,
                    backup.time, backup.timezone, backup.full_day)  # fmt: skip

    def stop(signum: int, frame: FrameType | None) -> None:
        """Stops at once, however many agents keep idle connections open: the serving loop
        would otherwise wait for each to time out. Raised in the loop's thread, SystemExit is
        how waitress stops: it gives requests in flight a few seconds to end, then returns."""
        logger.info("Signal %d: stopping", signum)
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    settle_collector()
    try:
        with (
            process_services(services, settings),  # stopped after the scheduler and workers
            fast_server(services, settings, fast_sock) as fast_url,
        ):
            scheduler.start()
            if fast_url is not None:
                logger.info("Agents' fast address on %s", fast_url)
            logger.info(
                "Cloudburst daemon on http://%s:%d (data in %s)", host, port, settings.data_dir
            )
            try:
                with contextlib.suppress(OSError):  # the listening socket closed by stop()
                    server.run()
            finally:
                scheduler.shutdown(wait=False)
                if workers is not None:
                    workers.stop()
    finally:
        services.pool.close()
        services.sessions.close()
        if services.desktop_backend is not None:
            services.desktop_backend.close()
        logger.info("Daemon stopped")
