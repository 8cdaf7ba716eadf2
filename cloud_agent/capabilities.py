"""What this render node has, as the daemon matches jobs' requirements against it.

The OS, cores and memory come from ``psutil``; GPUs from ``nvidia-smi`` when it is on PATH
(asked with a time limit; any failure means no GPUs); the DCCs are those the agent has runners
for, with the version of each where it is cheap to know: read from the install path of Maya,
Houdini and Nuke (``/usr/autodesk/maya2024``, ``/opt/hfs20.5.332``, ``Nuke15.1v2``), the
``bpy`` wheel's own version, or ``blender --version`` run once per executable (kept while the
file keeps its size and modification time). A DCC whose version is unknown is left out of
``dcc_versions``. ``CapabilityWatch`` re-checks now and then and says when they changed, so the
agent sends them in a heartbeat only then.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import psutil
from pydantic import TypeAdapter, ValidationError

from common.models import MAX_TAGS, Capabilities, Gpu, Label, OsName

logger = logging.getLogger(__name__)

NVIDIA_SMI = "nvidia-smi"
NVIDIA_SMI_QUERY = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
#: Seconds a probe program (``nvidia-smi``, ``blender --version``) may take.
PROBE_TIMEOUT_S = 10.0
#: Seconds between two checks of what the node has (GPUs come and go on some nodes).
RECHECK_S = 300.0

_VERSION = re.compile(r"^[0-9A-Za-z][\w.+-]{0,39}$")
_BLENDER_VERSION = re.compile(r"^Blender (\d+\.\d+(?:\.\d+)?)", re.M)
#: The version in each DCC's install path, as their installers name the folders.
_PATH_VERSIONS: dict[str, re.Pattern[str]] = {
    "maya": re.compile(r"[Mm]aya(\d{4}(?:\.\d+)?)(?![\d.])"),
    "houdini": re.compile(r"(?:hfs|Houdini ?)(\d+\.\d+(?:\.\d+)?)"),
    "nuke": re.compile(r"Nuke(\d+\.\d+(?:v\d+)?)"),
}
_LABELS = TypeAdapter(Label)
_blender_versions: dict[tuple[str, int, int], str | None] = {}
_blender_lock = threading.Lock()

Run = Callable[..., subprocess.CompletedProcess[str]]


class _Runner(Protocol):
    dcc: str


def os_name(platform: str = sys.platform) -> OsName:
    """``linux``, ``windows`` or ``macos``: this node's OS, as jobs require one."""
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def find_gpus(
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Run = subprocess.run,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> list[Gpu]:
    """This node's NVIDIA GPUs, from ``nvidia-smi``; none when it is missing or fails."""
    program = which(NVIDIA_SMI)
    if program is None:
        return []
    try:
        done = run(
            [program, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("nvidia-smi failed (%s); reporting no GPUs", exc)
        return []
    gpus: list[Gpu] = []
    for line in done.stdout.splitlines():
        name, _, memory = line.rpartition(",")
        try:
            gpus.append(Gpu(model=name.strip()[:120], memory_mb=int(float(memory.strip()))))
        except (ValueError, ValidationError):
            if line.strip():
                logger.warning("ignoring a line of nvidia-smi: %r", line)
    return gpus


def version_in_path(dcc: str, path: str) -> str | None:
    """The DCC's version named by its install folder (symbolic links followed), if any."""
    pattern = _PATH_VERSIONS.get(dcc)
    if pattern is None or not path:
        return None
    for candidate in (os.path.realpath(path), path):
        match = pattern.search(candidate)
        if match:
            return match.group(1)
    return None


def blender_version(executable: Sequence[str], *, run: Run = subprocess.run) -> str | None:
    """The version of the Blender the runner starts: the ``bpy`` wheel's, or what
    ``blender --version`` prints, asked once per executable file while it stays the same."""
    if len(executable) != 1 or os.path.basename(executable[0]) == "cloudburst-blender":
        try:  # cloudburst-blender, or python -m cloud_agent.blender_compat: the bpy wheel
            return importlib.metadata.version("bpy")
        except importlib.metadata.PackageNotFoundError:
            return None
    program = executable[0]
    try:
        stat = os.stat(program)
    except OSError:
        return None
    key = (os.path.realpath(program), stat.st_size, stat.st_mtime_ns)
    with _blender_lock:
        if key in _blender_versions:
            return _blender_versions[key]
        try:
            done = run(
                [program, "--version"],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
                check=False,
            )
            match = _BLENDER_VERSION.search(done.stdout)
            version = match.group(1) if match else None
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("%s --version failed: %s", program, exc)
            version = None
        _blender_versions[key] = version
        return version


def runner_version(runner: _Runner) -> str | None:
    """The version of the DCC a runner starts, where it is cheap to know; else None."""
    executable = getattr(runner, "executable", None)
    if runner.dcc == "blender" and isinstance(executable, list):
        version = blender_version(executable)
    else:
        path = getattr(runner, "hython", None) or executable
        version = version_in_path(runner.dcc, path) if isinstance(path, str) else None
    return version if version and _VERSION.match(version) else None


def node_tags(tags: Sequence[str]) -> list[str]:
    """The ``agent_tags`` setting's tags a job can require (others are logged and left out)."""
    kept: list[str] = []
    for tag in tags:
        try:
            label = _LABELS.validate_python(tag)
        except ValidationError:
            logger.warning("ignoring the agent tag %r: use letters, digits and _ . + -", tag)
            continue
        if label not in kept:
            kept.append(label)
    return kept[:MAX_TAGS]


def probe(
    runners: Mapping[str, _Runner], *, find: Callable[[], list[Gpu]] = find_gpus
) -> Capabilities:
    """What this node has now: OS, cores, memory, GPUs, and its DCCs with their versions."""
    versions = {}
    for dcc, runner in sorted(runners.items()):
        version = runner_version(runner)
        if version is not None:
            versions[dcc] = version
    return Capabilities(
        dccs=sorted(runners),
        dcc_versions=versions,
        cores=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        memory_mb=psutil.virtual_memory().total // (1024 * 1024),
        os=os_name(),
        gpus=find(),
    )


class CapabilityWatch:
    """Re-checks what the node has every ``every_s`` and holds what changed until it was sent.

    Used by the heartbeat thread only.
    """

    def __init__(
        self,
        sent: Capabilities,
        check: Callable[[], Capabilities],
        *,
        every_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        sent: what the daemon was last told (at registration).
        check: finds what the node has now (``probe``).
        every_s: seconds between checks.
        clock: the time, in seconds.
        """
        self._sent = sent
        self._check = check
        self.every_s = every_s
        self._clock = clock
        self._checked_at = clock()
        self._latest = sent

    def changed(self) -> Capabilities | None:
        """What the node has, when the last check found it differs from what was sent (until
        ``sent`` is called); None otherwise."""
        now = self._clock()
        if now - self._checked_at >= self.every_s:
            self._checked_at = now
            try:
                self._latest = self._check()
            except Exception:  # a probe must never stop the heartbeat
                logger.exception("checking what the node has failed")
        return None if self._latest == self._sent else self._latest

    def sent(self, capabilities: Capabilities) -> None:
        """Notes that the daemon now knows ``capabilities``."""
        self._sent = capabilities
