"""``cloudburst submit``'s production options: what a job waits for, needs and holds.

``--after`` and ``--after-frames`` name the jobs it waits for (the whole job, or frame by
frame); ``--pool``, ``--os``, ``--min-memory``, ``--gpus``, ``--min-gpu-memory``,
``--dcc-version`` and ``--tag`` are the node requirements; ``--limit`` the licence and resource
limits each task holds; ``--max-failed`` and ``--stall-timeout`` how failures are contained.
Each parser refuses a bad value with a sentence that says what to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
from pydantic import TypeAdapter, ValidationError

from common.errors import InvalidInput
from common.models import Label

F = TypeVar("F", bound=Callable[..., Any])

_LABEL = TypeAdapter(Label)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?)?\s*$", re.I)
_MB_PER_UNIT = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
_MAX_FAILED = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


def parse_job_ids(values: Iterable[str], option: str) -> list[int]:
    """Job ids from repeatable, comma-separated values (``--after 12,13 --after 14``).

    Raises:
        InvalidInput: a value is not a job id.
    """
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text.isdigit() or int(text) < 1:
                raise InvalidInput(
                    f"{option} {value!r}: {text!r} is not a job id. Give job numbers, as "
                    f"`cloudburst jobs` lists them: {option} 12,13."
                )
            if int(text) not in ids:
                ids.append(int(text))
    return ids


def parse_memory(text: str | None, option: str) -> int:
    """An amount of memory in MB: ``16384``, ``16G``, ``512M``, ``1.5T``; 0 when not given.

    Raises:
        InvalidInput: the text is not an amount of memory.
    """
    if text is None:
        return 0
    match = _MEMORY.match(text)
    if match is None:
        raise InvalidInput(
            f"{option} {text!r} is not an amount of memory. Write it in MB (16384) or with a "
            "unit (16G, 512M)."
        )
    number, unit = float(match.group(1)), (match.group(2) or "m").lower()
    return int(-(-number * _MB_PER_UNIT[unit] // 1))  # rounded up: never ask for less


def parse_max_failed(text: str | None) -> int | str | None:
    """``--max-failed``: a number of tasks (``5``) or a share of them (``10%``).

    Raises:
        InvalidInput: neither, or out of range.
    """
    if text is None:
        return None
    match = _MAX_FAILED.match(text)
    number = int(match.group(1)) if match else 0
    percent = bool(match and match.group(2))
    if match is None or number < 1 or (percent and number > 100):
        raise InvalidInput(
            f"--max-failed {text!r} is not a count of tasks nor a share of them. Write a "
            "number of tasks (5) or a percentage from 1% to 100% (10%)."
        )
    return f"{number}%" if percent else number


def check_labels(values: Iterable[str], option: str, what: str) -> list[str]:
    """Pool, tag or limit names, each once, in order.

    Raises:
        InvalidInput: a name has characters no such name may have.
    """
    labels: list[str] = []
    for value in values:
        try:
            label = _LABEL.validate_python(value)
        except ValidationError:
            raise InvalidInput(
                f"{option} {value!r} is not a {what} name: use letters, digits and _ . + -, "
                "starting with a letter or a digit."
            ) from None
        if label not in labels:
            labels.append(label)
    return labels


def dependencies(after: Iterable[str], after_frames: Iterable[str]) -> list[Any]:
    """``depends_on`` from ``--after`` (whole jobs) and ``--after-frames`` (frame by frame).

    Raises:
        InvalidInput: a value is not a job id, or a job is named by both options.
    """
    whole = parse_job_ids(after, "--after")
    by_frame = parse_job_ids(after_frames, "--after-frames")
    both = sorted(set(whole) & set(by_frame))
    if both:
        raise InvalidInput(
            f"Job {both[0]} is named by both --after and --after-frames. Name it once: "
            "--after waits for the whole job, --after-frames for the same frame of it."
        )
    return [*whole, *({"job": job, "frames": "same"} for job in by_frame)]


#: The option that gives each ``JobSpec`` field ``production_fields`` fills.
PRODUCTION_OPTIONS: dict[str, str] = {
    "requirements.pool": "--pool", "requirements.os": "--os",
    "requirements.min_memory_mb": "--min-memory", "requirements.gpus": "--gpus",
    "requirements.min_gpu_memory_mb": "--min-gpu-memory",
    "requirements.dcc_version": "--dcc-version", "requirements.tags": "--tag",
    "depends_on": "--after", "limits": "--limit", "max_failed_tasks": "--max-failed",
    "stall_timeout_s": "--stall-timeout",
}  # fmt: skip


def production_fields(options: dict[str, Any]) -> dict[str, Any]:
    """The ``JobSpec`` fields the production options give (they are taken out of ``options``).

    Raises:
        InvalidInput: an option holds a bad value; the message names it and what to write.
    """
    pool = options.pop("pool")
    requirements = {
        "pool": check_labels([pool], "--pool", "pool")[0] if pool else None,
        "os": options.pop("os_name"),
        "min_memory_mb": parse_memory(options.pop("min_memory"), "--min-memory"),
        "gpus": options.pop("gpus"),
        "min_gpu_memory_mb": parse_memory(options.pop("min_gpu_memory"), "--min-gpu-memory"),
        "dcc_version": options.pop("dcc_version"),
        "tags": check_labels(options.pop("tags"), "--tag", "tag"),
    }
    return {
        "requirements": requirements,
        "depends_on": dependencies(options.pop("after"), options.pop("after_frames")),
        "limits": check_labels(options.pop("limits"), "--limit", "limit"),
        "max_failed_tasks": parse_max_failed(options.pop("max_failed")),
        "stall_timeout_s": options.pop("stall_timeout"),
    }


def production_options(command: F) -> F:
    """Adds the production options to a click command (their values go to
    ``production_fields``)."""
    options = [
        click.option("--after", multiple=True, metavar="ID[,ID]",
                     help="Start only once these jobs succeeded (repeatable)."),
        click.option("--after-frames", multiple=True, metavar="ID",
                     help="Frame by frame: frame N starts once frame N of job ID is done."),
        click.option("--pool", metavar="NAME", help="Only nodes of this pool."),
        click.option("--os", "os_name", type=click.Choice(["linux", "windows", "macos"]),
                     help="Only nodes with this OS."),
        click.option("--min-memory", metavar="MB|16G", help="Only nodes with this much memory."),
        click.option("--gpus", type=int, default=0, metavar="N",
                     help="Only nodes with at least N GPUs."),
        click.option("--min-gpu-memory", metavar="MB|16G",
                     help="Only nodes whose largest GPU has this much memory."),
        click.option("--dcc-version", metavar="VERSION",
                     help="Only nodes with this DCC version (2024 takes 2024.2)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG",
                     help="Only nodes with this tag (repeatable: every one)."),
        click.option("--limit", "limits", multiple=True, metavar="NAME",
                     help="A limit each task holds a unit of, e.g. maya, arnold (repeatable)."),
        click.option("--max-failed", metavar="N|N%",
                     help="Stop the job once this many tasks failed for good (5 or 10%)."),
        click.option("--stall-timeout", type=int, metavar="SECONDS",
                     help="Kill and retry a task silent and without progress this long."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command
