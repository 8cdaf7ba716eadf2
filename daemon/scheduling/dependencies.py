"""Whether a job waits for the jobs it depends on, and the sentence that says why (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.states import JobState

#: Upstream states that hold every dependant until someone acts.
_HOLDING = (JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class Upstream:
    """A job another one waits for, as its dependant sees it."""

    job_id: int
    name: str
    state: JobState
    frames: str
    """``all``: the dependant waits until this job succeeded; ``same``: frame by frame."""


@dataclass(frozen=True)
class Hold:
    """What keeps a job waiting: the upstream jobs, and whether they ended badly."""

    upstreams: tuple[Upstream, ...]
    broken: bool
    """One of them failed or was cancelled: nothing of the dependant runs until someone acts."""


def hold_of(upstreams: Sequence[Upstream]) -> Hold | None:
    """What keeps a job with these ``upstreams`` waiting; None when nothing does.

    A failed or cancelled upstream holds the job whatever its ``frames``; an ``all`` upstream
    holds it until it succeeded; a live ``same`` upstream never holds the whole job (each of
    its tasks waits for the tasks holding its frames).
    """
    broken = tuple(up for up in upstreams if up.state in _HOLDING)
    if broken:
        return Hold(broken, broken=True)
    waiting = tuple(
        up for up in upstreams if up.frames == "all" and up.state is not JobState.SUCCEEDED
    )
    return Hold(waiting, broken=False) if waiting else None


def hold_sentence(hold: Hold) -> str:
    """The hold in one sentence, for the job's message and rank reason (a broken hold names
    the first upstream that ended badly: the one to act on)."""
    first = hold.upstreams[0]
    named = f"job {first.job_id} ({first.name})"
    if hold.broken and first.state is JobState.CANCELLED:
        return f"Held: {named} was cancelled; change this job's dependencies or cancel this job."
    if hold.broken:
        return f"Held: {named} failed; retry or cancel it, or change this job's dependencies."
    others = len(hold.upstreams) - 1
    if others:
        named += f" and {others} other job{'s' if others > 1 else ''}"
    return f"Waiting for {named} to succeed."
