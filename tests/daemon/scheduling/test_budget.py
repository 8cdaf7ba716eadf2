"""Money: what cloud work costs each show and job, and when new cloud work stops."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.scheduling.budget import (
    MONTH_S,
    EgressUsage,
    NodeUsage,
    PriceList,
    RunningTask,
    ShapePrice,
    ShowBudget,
    Spend,
    StorageUsage,
    affordable_seconds,
    build_ledger,
    committed,
    gate,
    money,
    node_cost,
    price_per_cloud_s,
    show_budget,
)

NOW = 1_800_000_000.0
E5 = ShapePrice("VM.Standard.E5.Flex.32", on_demand_hour=2.40, preemptible_hour=1.20)
GPU = ShapePrice("VM.GPU.A10.1", on_demand_hour=2.00, preemptible_hour=1.00)
PRICES = PriceList((E5, GPU), storage_gb_month=0.0255, egress_gb=0.0085)


@pytest.mark.parametrize(
    ("usage", "cost"),
    [
        (NodeUsage("alpha", 1, E5.shape, True, 3600.0), 1.20),
        (NodeUsage("alpha", 1, E5.shape, False, 3600.0), 2.40),
        (NodeUsage("alpha", None, GPU.shape, False, 90.0), 0.05),  # per second, no rounding up
        (NodeUsage("alpha", 1, E5.shape, True, 0.0), 0.0),
        (NodeUsage("alpha", 1, E5.shape, True, -5.0), 0.0),
    ],
)
def test_nodes_are_billed_per_second_at_their_shapes_price(usage: NodeUsage, cost: float) -> None:
    assert node_cost(usage, PRICES) == pytest.approx(cost)


def test_an_unknown_shape_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no price for shape 'BM.X'.*VM.Standard.E5.Flex.32"):
        node_cost(NodeUsage("alpha", 1, "BM.X", True, 60.0), PRICES)


def test_the_ledger_adds_compute_storage_and_egress_per_show_and_job() -> None:
    ledger = build_ledger(
        PRICES,
        nodes=[
            NodeUsage("alpha", 1, E5.shape, True, 7200.0),  # $2.40
            NodeUsage("alpha", None, E5.shape, True, 1800.0),  # boot and idle: $0.60
            NodeUsage("beta", 2, GPU.shape, False, 3600.0),  # $2.00
        ],
        storage=[StorageUsage("alpha", 1, 100.0, MONTH_S)],  # $2.55
        egress=[EgressUsage("alpha", 1, 200.0), EgressUsage("beta", 2, 100.0)],  # $1.70, $0.85
    )
    assert ledger.show("alpha") == Spend(
        compute=pytest.approx(3.00), storage=pytest.approx(2.55), egress=pytest.approx(1.70)
    )
    # The idle time is the show's, not the job's.
    assert ledger.job(1).compute == pytest.approx(2.40)
    assert ledger.job(1).total == pytest.approx(2.40 + 2.55 + 1.70)
    assert ledger.show("beta").total == pytest.approx(2.85)
    assert ledger.show("gamma") == Spend()
    assert ledger.total.total == pytest.approx(3.00 + 2.55 + 1.70 + 2.85)


def test_running_tasks_commit_what_they_will_still_cost() -> None:
    owed = committed(
        [
            RunningTask("alpha", 1, E5.shape, True, NOW + 1800),  # $0.60 left
            RunningTask("alpha", 2, E5.shape, False, NOW + 1800),  # $1.20 left
            RunningTask("beta", 3, E5.shape, True, NOW - 60),  # overdue: nothing more
        ],
        PRICES,
        NOW,
    )
    assert owed == {"alpha": pytest.approx(1.80), "beta": 0.0}


@pytest.mark.parametrize(
    ("budget", "spent", "owed", "open_", "phrase"),
    [
        (100.0, 40.0, 10.0, True, "show alpha has $50.00 of its $100 cloud budget left"),
        (100.0, 90.0, 10.0, False, "has used its cloud budget ($100 of $100)"),
        (100.0, 120.0, 0.0, False, "running cloud tasks finish, no new ones start"),
        (0.0, 0.0, 0.0, False, "show alpha has no cloud budget"),
    ],
)
def test_new_cloud_work_stops_when_the_budget_is_reached(
    budget: float, spent: float, owed: float, open_: bool, phrase: str
) -> None:
    facts = ShowBudget("alpha", budget, spent, owed, price_per_s=0.001)
    verdict = gate(facts)
    assert verdict.open is open_
    assert phrase in verdict.reason


def test_a_show_budget_reads_the_ledger_and_what_is_owed() -> None:
    ledger = build_ledger(PRICES, nodes=[NodeUsage("alpha", 1, E5.shape, False, 3600.0)])
    facts = show_budget("alpha", 10.0, ledger, {"alpha": 1.5, "beta": 9.0}, 0.0004)
    assert facts == ShowBudget("alpha", 10.0, pytest.approx(2.40), 1.5, 0.0004)
    assert facts.room == pytest.approx(6.10)
    assert affordable_seconds(facts) == pytest.approx(6.10 / 0.0004)


@pytest.mark.parametrize(
    ("room", "price", "seconds"),
    [(-5.0, 0.001, 0.0), (0.0, 0.001, 0.0), (10.0, 0.0, float("inf")), (10.0, 0.01, 1000.0)],
)
def test_affordable_seconds(room: float, price: float, seconds: float) -> None:
    facts = ShowBudget("alpha", 100.0, 100.0 - room, 0.0, price)
    assert affordable_seconds(facts) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("share", "per_hour"), [(1.0, 1.20), (0.0, 2.40), (0.5, 1.80), (2.0, 1.20), (-1.0, 2.40)]
)
def test_the_price_of_a_cloud_second_blends_the_kinds(share: float, per_hour: float) -> None:
    assert price_per_cloud_s(E5, share) * 3600 == pytest.approx(per_hour)


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1240.4, "$1,240"), (38.5, "$38.50"), (0.004, "$0.00"), (-12.0, "-$12.00"), (100.0, "$100")],
)
def test_money_in_words(amount: float, text: str) -> None:
    assert money(amount) == text


records = st.lists(
    st.builds(
        NodeUsage,
        project=st.sampled_from(["alpha", "beta"]),
        job_id=st.none() | st.integers(1, 5),
        shape=st.sampled_from([E5.shape, GPU.shape]),
        preemptible=st.booleans(),
        seconds=st.floats(0.0, 1e6),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(nodes=records)
def test_the_ledger_is_the_sum_of_its_records(nodes: list[NodeUsage]) -> None:
    ledger = build_ledger(PRICES, nodes=nodes)
    assert ledger.total.compute == pytest.approx(sum(node_cost(n, PRICES) for n in nodes))
    jobs = sum(node_cost(n, PRICES) for n in nodes if n.job_id is not None)
    assert sum(s.total for s in ledger.jobs.values()) == pytest.approx(jobs)
    assert all(s.total >= 0 for s in ledger.shows.values())
