"""``python -m cloud_agent.desktop``: the desktop agent of one session.

Everything comes from the command line; the session's secret from ``--secret-file``, a file
its user alone may read (never argv or the environment). No Cloudburst configuration file and
no ``CLOUDBURST_*`` variable is read.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse

import click

from cloud_agent.desktop.agent import ReportLoop
from cloud_agent.desktop.broker import Broker
from cloud_agent.desktop.display import Display, Listener
from cloud_agent.desktop.files import HomeFiles
from cloud_agent.desktop.presence import Presence
from common.errors import ConfigError
from common.private_files import write_private

logger = logging.getLogger(__name__)

MAX_SECRET_CHARS = 512


def read_secret(path: Path) -> str:
    """The session's secret from its file, which must be a regular file only its owner may
    read (0600 or narrower).

    Raises:
        ConfigError: the file is missing, empty, a link, or readable by others.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the session secret {path} ({exc.strerror}): give the path of the "
            "secret file the instance was given."
        ) from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode) or mode & 0o077:
            raise ConfigError(
                f"The session secret {path} may be read by others (mode {mode & 0o777:o}): "
                "make it a file only its owner reads (chmod 600)."
            )
        secret = handle.read(MAX_SECRET_CHARS + 1).strip()
    if not secret or len(secret) > MAX_SECRET_CHARS or any(c.isspace() for c in secret):
        raise ConfigError(f"The session secret {path} holds no secret: give the right file.")
    return secret


def reported_host(bind: str, daemon_url: str) -> str:
    """The address clients reach the display at: the bound one, or for a wildcard bind the
    address this machine reaches the daemon from."""
    if bind not in ("", "0.0.0.0", "::"):
        return bind
    url = urlparse(daemon_url)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((url.hostname or "127.0.0.1", url.port or 80))  # sends nothing
            return str(probe.getsockname()[0])
        except OSError:
            return socket.gethostname()


@click.command()
@click.option("--daemon-url", required=True, help="The daemon as this desktop reaches it.")
@click.option("--session", "session_id", type=click.IntRange(min=1), required=True)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A file (0600) holding the session's secret.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The user's home folder, where a client's files live.",
)
@click.option("--bind", default="0.0.0.0", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0: a free port.")
@click.option("--protocol", type=click.Choice(["pcoip", "dcv", "rdp"]), default="dcv")
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the port the display listens on, once it does.",
)
@click.option(
    "--display-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="The port of the desktop's own display server (NICE DCV, PCoIP, RDP), as clients are "
    "told; empty: this agent's, which serves the stand-in display.",
)
@click.option(
    "--report-interval-s",
    type=click.FloatRange(min=0.05, max=300),
    default=10.0,
    help="Until the daemon's first reply says otherwise.",
)
def desktop_command(
    daemon_url: str,
    session_id: int,
    secret_file: Path,
    home: Path,
    bind: str,
    port: int,
    protocol: str,
    port_file: Path | None,
    display_port: int | None,
    report_interval_s: float,
) -> None:
    """Runs the desktop agent of one session until the daemon ends it, or SIGTERM."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        secret = read_secret(secret_file)
        home.mkdir(parents=True, exist_ok=True)
        broker = Broker(daemon_url, session_id, secret)
        presence = Presence()
        # Beside a real display server only its token checks: no stand-in /connect, /files.
        display = Display(broker, HomeFiles(home), presence, stand_in=display_port is None)
        listener = Listener(display, bind, port)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    if port_file is not None:
        write_private(port_file, f"{listener.port}\n", private_folder=False)
    loop = ReportLoop(
        broker,
        presence,
        # A real display server listens on every address; this agent only for it (loopback).
        host=reported_host("0.0.0.0" if display_port else bind, daemon_url),
        port=display_port or listener.port,
        interval_s=report_interval_s,
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("desktop: %s, stopping", signal.Signals(signum).name)
        loop.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    listener.start()
    logger.info(
        "desktop: session %d, %s display stand-in on %s:%d",
        session_id, protocol, bind, listener.port,
    )  # fmt: skip
    try:
        loop.run()
    finally:
        listener.stop()
    logger.info("desktop: stopped")
