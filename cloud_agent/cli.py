"""``cloudburst agent``: runs a render-node agent until SIGTERM or Ctrl-C.

Settings come from ``common.config.load_settings``: the command line wins over ``CLOUDBURST_*``
variables, which win over the TOML file, so ``CLOUDBURST_DAEMON_URL`` works as ``--daemon``.
This module also wires the real collaborators of an ``Agent`` (``build_agent``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import IO

import click

from cloud_agent.agent import OUTBOX_FILE, Agent
from cloud_agent.enroll_cli import enroll_command, token_command
from cloud_agent.identity import AgentIdentity
from cloud_agent.outbox import Outbox, OutboxStore
from cloud_agent.runners import Runner, get_runner, known_dccs
from common.cli.context import state_of
from common.client import DaemonClient
from common.config import Settings, load_settings
from common.errors import CloudburstError, ConfigError
from common.private_files import private_dir

logger = logging.getLogger(__name__)

LOCK_FILE = "agent.lock"


def build_runners(settings: Settings) -> dict[str, Runner]:
    """A runner for every DCC this node can render; a DCC without its program is left out.

    Raises:
        ConfigError: no DCC can be rendered here; the message says what each one lacks.
    """
    runners: dict[str, Runner] = {}
    problems: list[str] = []
    for dcc in known_dccs():
        try:
            runners[dcc] = get_runner(dcc, settings)
        except ConfigError as exc:
            logger.warning("agent %s cannot render %s jobs: %s", settings.agent_name, dcc, exc)
            problems.append(exc.message)
    if not runners:
        raise ConfigError("This agent can render nothing. " + " ".join(problems))
    return runners


def default_state_dir(settings: Settings) -> Path:
    """The agent's own folder (outbox, running render): ``<data_dir>/agents/<name>``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", settings.agent_name).strip("._") or "agent"
    return settings.data_dir / "agents" / safe


def lock_state_dir(state_dir: Path) -> IO[str]:
    """Takes the state folder for this process; keep the returned file open while running.

    Raises:
        ConfigError: another agent process already uses this folder.
    """
    private_dir(state_dir)  # its token and outbox are the agent's own (0700)
    handle = open(state_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held open
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigError(
            f"Another agent is already running with the state folder {state_dir}. "
            "Give this one another --name or --state-dir."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def build_agent(settings: Settings, state_dir: Path | None = None) -> Agent:
    """Wires an agent with the real daemon client, outbox and runners.

    Raises:
        ConfigError: no DCC can be rendered here, or no object store for a node without
            studio storage.
    """
    state_dir = state_dir or default_state_dir(settings)
    runners = build_runners(settings)
    identity = AgentIdentity(state_dir, settings.enrollment_token.get_secret_value())
    auth = identity.credentials
    client = DaemonClient(settings.daemon_url, timeout=settings.request_timeout_s, auth=auth)
    # The outbox does its own patient retrying, in order, so its client gives up at once.
    sender = DaemonClient(
        settings.daemon_url, timeout=settings.request_timeout_s, retries=0, auth=auth
    )
    outbox = Outbox(OutboxStore(state_dir / OUTBOX_FILE), sender)
    away = None
    if not settings.studio_access:  # a cloud node: files from the object store
        from cloud_agent.away import AwayData

        away = AwayData.from_settings(settings, state_dir)
    return Agent(
        settings, client, outbox, runners, state_dir=state_dir, identity=identity, away=away
    )


def configure_logging(level: str) -> None:
    """Sends log records to stderr with a timestamp, at ``level``.

    Raises:
        ConfigError: ``level`` is not a logging level.
    """
    if not isinstance(logging.getLevelName(level.upper()), int):
        raise ConfigError(f"Unknown log level {level!r}. Use DEBUG, INFO, WARNING or ERROR.")
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def install_stop_signals(agent: Agent) -> None:
    """Makes SIGTERM and SIGINT stop the agent gracefully. Main thread only.

    The handler only starts a thread: stopping takes locks, which a handler must not.
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        reason = f"received {signal.Signals(signum).name}"
        threading.Thread(target=agent.request_stop, args=(reason,), name="stop").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


#: The options that set up a running agent; they mean nothing to ``enroll`` or ``token``.
_RUN_OPTIONS = ("name", "blender", "state_dir", "poll_interval", "enrollment_token", "log_level")


@click.group("agent", invoke_without_command=True)
@click.option("--daemon", "daemon_url", metavar="URL", help="The daemon (default: daemon_url).")
@click.option("--name", help="This agent's name (default: the host name).")
@click.option("--blender", metavar="EXE", help="The Blender executable (default: from PATH).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the agent keeps undelivered updates (default: <data_dir>/agents/<name>).",
)
@click.option(
    "--poll-interval", type=float, metavar="S", help="Seconds between asks for work when idle."
)
@click.option(
    "--enrollment-token", metavar="TOKEN",
    help="One-time token to enroll with the first time (else CLOUDBURST_ENROLLMENT_TOKEN).",
)  # fmt: skip
@click.option("--log-level", metavar="LEVEL", help="DEBUG, INFO, WARNING or ERROR.")
def agent_command(
    daemon_url: str | None,
    name: str | None,
    blender: str | None,
    state_dir: Path | None,
    poll_interval: float | None,
    enrollment_token: str | None,
    log_level: str | None,
) -> None:
    """Run a render agent: lease tasks from the daemon, render them, report back.

    `cloudburst agent enroll` (TDs and admins) mints the one-time token a new node enrolls with.
    """
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is not None:
        _hand_over(ctx)
        return
    root = ctx.find_root()
    if root is not ctx and root.obj is not None:  # under ``cloudburst``: its global options
        daemon_url = daemon_url or getattr(root.obj, "daemon_url", None)
        log_level = log_level or getattr(root.obj, "log_level", None)
    try:
        settings = load_settings(
            {
                "daemon_url": daemon_url,
                "agent_name": name,
                "blender": blender,
                "poll_interval_s": poll_interval,
                "log_level": log_level,
                "enrollment_token": enrollment_token,
            }
        )
        configure_logging(settings.log_level)
        state_dir = state_dir or default_state_dir(settings)
        lock = lock_state_dir(state_dir)
        try:
            agent = build_agent(settings, state_dir)
            install_stop_signals(agent)
            logger.info(
                "agent %r: daemon %s, state folder %s",
                settings.agent_name,
                settings.daemon_url,
                state_dir,
            )
            code = agent.run()
        finally:
            lock.close()
    except CloudburstError as exc:
        raise click.ClickException(exc.message) from None
    ctx.exit(code)


def _hand_over(ctx: click.Context) -> None:
    """Before a subcommand: ``--daemon`` names the daemon it talks to; the rest is refused.

    Raises:
        click.UsageError: an option that only sets up a running agent was given.
    """
    given = [name for name in _RUN_OPTIONS if ctx.params.get(name) is not None]
    if given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(
            f"{options} set up a running agent, not '{ctx.invoked_subcommand}'. "
            f"Leave them out: cloudburst agent {ctx.invoked_subcommand}."
        )
    if ctx.params.get("daemon_url"):
        state_of(ctx).daemon_url = ctx.params["daemon_url"]


agent_command.add_command(enroll_command)
agent_command.add_command(token_command)
