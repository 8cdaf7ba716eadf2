"""Which job an idle agent should work on next.

For now the rank is production's simplest rule: higher artist priority first, then the job
submitted earlier. A later version folds in ShotGrid priority, due dates and fair share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """What ranking needs to know about a job with queued tasks."""

    job_id: int
    priority: int
    submitted_at: float


def rank_key(candidate: Candidate) -> tuple[int, float, int]:
    """Sort key: smaller comes first."""
    return (-candidate.priority, candidate.submitted_at, candidate.job_id)


def rank(candidates: Iterable[Candidate]) -> Sequence[Candidate]:
    """Candidates in the order their tasks should be handed out."""
    return sorted(candidates, key=rank_key)
