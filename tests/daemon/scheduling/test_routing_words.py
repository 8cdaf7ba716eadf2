"""The sentences of routing decisions, said from their figures (``routing_words``).

The sentences are the ones the burst pass has always stored with each route (the dashboard,
the API's job pages and ``cloudburst job why`` show them): they are pinned here word for word.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from common.models import Placement
from daemon.scheduling.budget import ShowBudget
from daemon.scheduling.routing import (
    CloudNeeds,
    CloudShape,
    FarmFacts,
    JobFacts,
    Reason,
    RoomOutcome,
    RoutingPolicy,
    Verdict,
    _make_room,
    route_job,
    route_queue,
)
from daemon.scheduling.routing_words import sentence
from tests.daemon.scheduling.test_routing import (
    AHEAD,
    FARM,
    HOUR,
    NOW,
    PLAIN,
    RICH,
    SECRET,
    job,
)

VAULT = replace(RICH, project="vault")
BOTH = {"alpha": RICH, "vault": VAULT}
LATE = "local farm finishes at 14:15, 4 h 15 min after the due date; 85 of 100 frames"
SECRET_LATE = (
    "project vault is confidential: its frames never leave the building; local farm finishes "
    "at 13:06, 1 h 6 min after the due date"
)
AHEAD_ON_TIME = "local farm finishes at 11:06, 54 min before the due date"

ONE_JOB = [
    # (reason, job, budget, policy, sentence)
    (Reason.NOTHING_LEFT, job(frames_done=100), RICH, PLAIN,
     "every frame is done or running; nothing to route"),
    (Reason.PLACEMENT_LOCAL, job(placement=Placement.LOCAL), RICH, PLAIN,
     "placement is local: only the local farm renders it"),
    (Reason.PLACEMENT_NEVER_CLOUD, job(placement=Placement.NEVER_CLOUD), RICH, PLAIN,
     "placement is never-cloud: its frames never leave the building"),
    (Reason.CONFIDENTIAL, job(confidential=True), RICH, PLAIN,
     "project alpha is confidential: its frames never leave the building"),
    (Reason.NO_DUE_DATE, job(due_at=None), RICH, PLAIN, "no due date: the local farm takes it"),
    (Reason.ON_TIME, job(frame_s=720.0), RICH, PLAIN,
     "local farm finishes at 11:06, 7 h 54 min before the due date; it stays local"),
    (Reason.NO_CLOUD_BUDGET, job(due_at=NOW + HOUR), None, PLAIN,
     f"{LATE} would go to the cloud, but show alpha has no cloud budget"),
    (Reason.NO_CLOUD_BUDGET, job(due_at=NOW + HOUR), replace(RICH, budget=0.0), PLAIN,
     f"{LATE} would go to the cloud, but show alpha has no cloud budget"),
    (Reason.BUDGET_SPENT, job(due_at=NOW + HOUR), replace(RICH, spent=9_000.0, committed=1_500.0),
     PLAIN,
     f"{LATE} would go to the cloud, but show alpha's cloud budget is spent ($10,500 of $10,000)"),
    (Reason.BUDGET_SHORT, job(due_at=NOW + HOUR), replace(RICH, budget=100.0), PLAIN,
     f"{LATE} would go to the cloud, but show alpha's cloud budget has $100 left, not enough for "
     "them"),
    (Reason.AWAIT_STAGING, job(due_at=NOW + HOUR, staged=False), RICH, PLAIN,
     f"{LATE} will go to the cloud once its data is staged"),
    (Reason.BURST, job(due_at=NOW + HOUR), RICH, PLAIN, f"{LATE} may go to the cloud"),
    (Reason.BURST, job(frame_s=720.0, due_at=NOW + 2 * HOUR + 600), RICH, RoutingPolicy(),
     "local farm finishes at 11:06, only 4 min before the due date; 22 of 100 frames may go to "
     "the cloud"),
    (Reason.BURST, job(placement=Placement.CLOUD), RICH, PLAIN,
     "placement is cloud; 100 of 100 frames may go to the cloud"),
    (Reason.BURST, job(placement=Placement.CLOUD), replace(RICH, budget=100.0), PLAIN,
     "placement is cloud; 55 of 100 frames may go to the cloud, as many as show alpha's $100 "
     "left buys (100 needed)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "facts", "budget", "policy", "words"),
    ONE_JOB,
    ids=[f"{case[0].value}-{i}" for i, case in enumerate(ONE_JOB)],
)
def test_the_sentence_of_each_reason(
    reason: Reason,
    facts: JobFacts,
    budget: ShowBudget | None,
    policy: RoutingPolicy,
    words: str,
) -> None:
    decision = route_job(facts, FARM, budget, policy, NOW)
    assert decision.grounds.reason is reason
    assert sentence(decision, NOW) == words


E5 = CloudShape("VM.Standard.E5.Flex", gpus=0, memory_mb=65_536, pool="cloud")
A10 = CloudShape("VM.GPU.A10.2", gpus=2, memory_mb=245_760, pool="cloud")

#: (job's needs, cloud shape, sentence): jobs the shape cannot take, whatever their date.
MISFITS = [
    (CloudNeeds(gpus=1), E5, "needs 1 GPU; the cloud shape VM.Standard.E5.Flex has none"),
    (CloudNeeds(gpus=4), A10, "needs 4 GPUs; the cloud shape VM.GPU.A10.2 has 2"),
    (CloudNeeds(memory_mb=131_072), E5,
     "needs 131,072 MB of memory; the cloud shape VM.Standard.E5.Flex has 65,536 MB"),
    (CloudNeeds(pool="lighting"), A10,
     "needs pool lighting; the nodes of the cloud shape VM.GPU.A10.2 join pool cloud"),
]  # fmt: skip


@pytest.mark.parametrize(("needs", "shape", "words"), MISFITS)
def test_the_sentence_of_a_shape_misfit(needs: CloudNeeds, shape: CloudShape, words: str) -> None:
    facts = job(due_at=NOW + HOUR, needs=needs)  # late: it would burst but for the shape
    decision = route_job(facts, FARM, RICH, PLAIN, NOW, shape=shape)
    assert decision.verdict is Verdict.SHAPE_MISFIT
    assert decision.cloud_frames == 0
    assert sentence(decision, NOW) == words


def test_every_reason_has_its_sentence_pinned() -> None:
    assert {case[0] for case in ONE_JOB} | {Reason.SHAPE_MISFIT} == set(Reason)


def test_the_clock_is_read_in_the_studios_time_zone() -> None:
    decision = route_job(job(due_at=NOW + HOUR), FARM, RICH, PLAIN, NOW)
    words = sentence(decision, NOW, timezone(timedelta(hours=-10)))
    assert words.startswith("local farm finishes at Tue 04:15, 4 h 15 min after the due date;")


def test_a_decision_carries_the_figures_of_its_sentence() -> None:
    decision = route_job(
        job(placement=Placement.CLOUD), FARM, replace(RICH, budget=100.0), PLAIN, NOW
    )
    assert (decision.verdict, decision.cloud_frames, decision.needed_frames) == (
        Verdict.BURST, 55, 100,
    )  # fmt: skip
    grounds = decision.grounds
    assert (grounds.reason, grounds.project, grounds.placement) == (
        Reason.BURST, "alpha", Placement.CLOUD,
    )  # fmt: skip
    assert (grounds.frame_count, grounds.affordable) == (100, 55)
    assert grounds.budget == replace(RICH, budget=100.0)


# --- room for jobs that must stay local ----------------------------------------------------------


def test_the_sentences_of_room_made() -> None:
    first, second = route_queue([AHEAD, SECRET], FARM, BOTH, PLAIN, NOW)
    assert sentence(first, NOW) == (
        f"{AHEAD_ON_TIME}; 55 frames may go to the cloud to make room for job 2, paid by show vault"
    )
    assert sentence(second, NOW) == (
        f"{SECRET_LATE}: 55 frames of 1 jobs ahead go to the cloud to make room, paid by show "
        "vault ($39.60)"
    )
    assert second.room is not None
    assert (second.room.outcome, second.room.frames, second.room.jobs) == (RoomOutcome.MADE, 55, 1)
    assert second.room.cost == pytest.approx(39.6)
    assert first.grounds.reason is Reason.ON_TIME  # what it decided for its own frames


def test_a_job_that_bursts_already_sends_more_frames_for_room() -> None:
    late = job(job_id=1, frame_s=720.0, due_at=NOW + 2 * HOUR, frame_count=150)
    first, second = route_queue([late, SECRET], FARM, BOTH, PLAIN, NOW)
    assert sentence(first, NOW) == (
        "local farm finishes at 12:06, 1 h 6 min after the due date; 55 of 150 frames may go to "
        "the cloud; 50 more frames may go to the cloud to make room for job 2, paid by show vault"
    )
    assert sentence(second, NOW) == (
        "project vault is confidential: its frames never leave the building; local farm finishes "
        "at 13:00, 1 h after the due date: 50 frames of 1 jobs ahead go to the cloud to make "
        "room, paid by show vault ($36.00)"
    )


def test_one_job_makes_room_for_two() -> None:
    local = replace(
        SECRET, job_id=3, rank_position=3, confidential=False, placement=Placement.LOCAL,
        frame_count=20,
    )  # fmt: skip
    first, _, third = route_queue([AHEAD, SECRET, local], FARM, BOTH, PLAIN, NOW)
    assert sentence(first, NOW) == (
        f"{AHEAD_ON_TIME}; 55 frames may go to the cloud to make room for job 2, paid by show "
        "vault; 20 more frames may go to the cloud to make room for job 3, paid by show vault"
    )
    assert sentence(third, NOW) == (
        "placement is local: only the local farm renders it; local farm finishes at 12:24, "
        "24 min after the due date: 20 frames of 1 jobs ahead go to the cloud to make room, "
        "paid by show vault ($14.40)"
    )


@pytest.mark.parametrize(
    ("budgets_", "staged", "outcome", "tail"),
    [
        ({"alpha": RICH, "vault": replace(VAULT, budget=1.0)}, True, RoomOutcome.UNAFFORDABLE,
         ": room on the local farm would cost $39.60, show vault has $1.00"),
        ({"alpha": RICH}, True, RoomOutcome.UNAFFORDABLE,
         ": room on the local farm would cost $0.00, show vault has no budget"),
        (BOTH, False, RoomOutcome.BLOCKED, ", and the jobs ahead cannot make room in the cloud"),
    ],
)  # fmt: skip
def test_the_sentences_of_room_not_made(
    budgets_: dict[str, ShowBudget], staged: bool, outcome: RoomOutcome, tail: str
) -> None:
    first, second = route_queue([replace(AHEAD, staged=staged), SECRET], FARM, budgets_, PLAIN, NOW)
    assert sentence(first, NOW) == f"{AHEAD_ON_TIME}; it stays local"
    assert second.room is not None and second.room.outcome is outcome
    assert sentence(second, NOW) == SECRET_LATE + tail


def test_making_room_returns_new_decisions_and_leaves_its_arguments_alone() -> None:
    ahead = [route_job(AHEAD, FARM, RICH, PLAIN, NOW)]
    before = list(ahead)
    here = FarmFacts(FARM.slots, (AHEAD.pending - ahead[0].cloud_frames) * 720.0)
    stuck = route_job(SECRET, here, VAULT, PLAIN, NOW)
    room = _make_room(SECRET, stuck, [AHEAD], ahead, here, VAULT, PLAIN, NOW)
    assert ahead == before  # the decisions given are not edited
    assert stuck.room is None
    assert room.ahead[0].room_for and room.ahead[0].verdict is Verdict.BURST
    assert room.decision.room is not None and room.decision.room.outcome is RoomOutcome.MADE
    assert room.freed == pytest.approx(55 * 720.0)
