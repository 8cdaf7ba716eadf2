"""What the cloud costs each show and job, and whether a show may start more cloud work.

Pure functions over records, in the currency of the price list; nothing here reads a clock.

Inputs:

- ``PriceList``: per shape (``VM.Standard.E5.Flex``...) the price of one node-hour on demand
  and preemptible, as OCI lists them; object storage per GB-month; egress per GB. OCI bills
  compute per second, so a node costs ``seconds * hourly / 3600``.
- ``NodeUsage``: one billed interval of one cloud node (the daemon writes one per task it ran,
  and one per stretch of boot or idle time, charged to the show whose work the node ran next
  or last; ``job_id`` is None for those).
- ``StorageUsage``: gigabytes kept in object storage for a time (staged inputs, outputs not yet
  pulled back). ``EgressUsage``: gigabytes sent out of OCI (outputs coming back to the studio).

Outputs: a ``Ledger`` of ``Spend`` per show and per job (compute, storage, egress), the
``ShowBudget`` that routing reads (budget, spent, committed, the price of a cloud second and
the *room* left), and the rule that stops **new** cloud work once a show's budget is reached:
``gate`` closes when spent plus committed reaches the budget; tasks already running finish
(their cost is what ``committed`` holds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Seconds in the month that object storage prices are quoted for (365 days / 12).
MONTH_S = 365 * 86400 / 12


@dataclass(frozen=True)
class ShapePrice:
    """Price of one node of a compute shape."""

    shape: str
    on_demand_hour: float
    """Price of one node-hour on demand."""
    preemptible_hour: float
    """Price of one node-hour of preemptible capacity (about half on OCI)."""

    def per_second(self, preemptible: bool) -> float:
        """Price of one billed second of one node."""
        return (self.preemptible_hour if preemptible else self.on_demand_hour) / 3600.0


@dataclass(frozen=True)
class PriceList:
    """The prices a studio pays (from ``Settings``); amounts in one currency."""

    shapes: tuple[ShapePrice, ...]
    storage_gb_month: float = 0.0255
    """Object storage, per GB kept for a month."""
    egress_gb: float = 0.0085
    """Outbound data transfer, per GB."""

    def shape(self, name: str) -> ShapePrice:
        """The price of ``name``; ``ValueError`` naming the known shapes when it is unknown."""
        for price in self.shapes:
            if price.shape == name:
                return price
        known = ", ".join(p.shape for p in self.shapes) or "none"
        raise ValueError(f"no price for shape {name!r} (priced shapes: {known})")


@dataclass(frozen=True)
class NodeUsage:
    """One billed interval of one cloud node (a row of the daemon's usage table)."""

    project: str
    job_id: int | None
    """The job whose task ran; None for boot and idle time."""
    shape: str
    preemptible: bool
    seconds: float


@dataclass(frozen=True)
class StorageUsage:
    """Gigabytes kept in object storage for ``seconds``."""

    project: str
    job_id: int | None
    gb: float
    seconds: float


@dataclass(frozen=True)
class EgressUsage:
    """Gigabytes sent out of OCI."""

    project: str
    job_id: int | None
    gb: float


@dataclass(frozen=True)
class DesktopUsage:
    """What artists' desktop sessions of a show cost (booked as each ended), as compute."""

    project: str
    cost: float


@dataclass(frozen=True)
class Spend:
    """Money spent, by kind."""

    compute: float = 0.0
    storage: float = 0.0
    egress: float = 0.0

    @property
    def total(self) -> float:
        return self.compute + self.storage + self.egress

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.compute + other.compute, self.storage + other.storage, self.egress + other.egress
        )


@dataclass(frozen=True)
class Ledger:
    """Spend per show and per job (jobs: only what could be charged to one job)."""

    shows: Mapping[str, Spend] = field(default_factory=dict)
    jobs: Mapping[int, Spend] = field(default_factory=dict)

    def show(self, project: str) -> Spend:
        """What ``project`` spent (nothing when it has no record)."""
        return self.shows.get(project, Spend())

    def job(self, job_id: int) -> Spend:
        """What the tasks, inputs and outputs of ``job_id`` cost."""
        return self.jobs.get(job_id, Spend())

    @property
    def total(self) -> Spend:
        return sum(self.shows.values(), Spend())


def node_cost(usage: NodeUsage, prices: PriceList) -> float:
    """Cost of one billed node interval (per-second billing)."""
    return max(0.0, usage.seconds) * prices.shape(usage.shape).per_second(usage.preemptible)


def storage_cost(usage: StorageUsage, prices: PriceList) -> float:
    """Cost of keeping ``gb`` for ``seconds``, at the GB-month price."""
    return max(0.0, usage.gb) * max(0.0, usage.seconds) / MONTH_S * prices.storage_gb_month


def egress_cost(usage: EgressUsage, prices: PriceList) -> float:
    """Cost of sending ``gb`` out of OCI."""
    return max(0.0, usage.gb) * prices.egress_gb


def build_ledger(
    prices: PriceList,
    nodes: Iterable[NodeUsage] = (),
    storage: Iterable[StorageUsage] = (),
    egress: Iterable[EgressUsage] = (),
    desktops: Iterable[DesktopUsage] = (),
) -> Ledger:
    """Adds up every record into spend per show and per job (desktops: per show only)."""
    shows: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    jobs: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])

    def charge(project: str, job_id: int | None, kind: int, amount: float) -> None:
        shows[project][kind] += amount
        if job_id is not None:
            jobs[job_id][kind] += amount

    for n in nodes:
        charge(n.project, n.job_id, 0, node_cost(n, prices))
    for s in storage:
        charge(s.project, s.job_id, 1, storage_cost(s, prices))
    for e in egress:
        charge(e.project, e.job_id, 2, egress_cost(e, prices))
    for d in desktops:
        charge(d.project, None, 0, max(0.0, d.cost))
    return Ledger(
        shows={project: Spend(*parts) for project, parts in shows.items()},
        jobs={job_id: Spend(*parts) for job_id, parts in jobs.items()},
    )


# --- budgets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningTask:
    """A cloud task running now: its cost to the end is committed."""

    project: str
    job_id: int
    shape: str
    preemptible: bool
    expected_end: float
    """When it should finish (start + chunk frames x measured seconds per frame)."""


def committed(running: Iterable[RunningTask], prices: PriceList, now: float) -> dict[str, float]:
    """Per show, what the running cloud tasks will still cost until they finish."""
    owed: dict[str, float] = defaultdict(float)
    for task in running:
        left = max(0.0, task.expected_end - now)
        owed[task.project] += left * prices.shape(task.shape).per_second(task.preemptible)
    return dict(owed)


@dataclass(frozen=True)
class ShowBudget:
    """A show's cloud money at the time of a pass (what routing reads)."""

    project: str
    budget: float
    """Cloud budget for the period (0: the show may not use the cloud)."""
    spent: float
    """Spent so far in the period (``Ledger.show(project).total``)."""
    committed: float
    """Owed to running tasks until they finish (``committed(...)``)."""
    price_per_s: float
    """Price of one cloud render second for this show (``price_per_cloud_s``)."""

    @property
    def room(self) -> float:
        """Money left for new cloud work (negative when over)."""
        return self.budget - self.spent - self.committed


def price_per_cloud_s(price: ShapePrice, preemptible_share: float = 1.0) -> float:
    """The expected price of one cloud second when ``preemptible_share`` of it is preemptible."""
    share = min(1.0, max(0.0, preemptible_share))
    return share * price.per_second(True) + (1.0 - share) * price.per_second(False)


def show_budget(
    project: str,
    budget: float,
    ledger: Ledger,
    owed: Mapping[str, float],
    price_per_s: float,
) -> ShowBudget:
    """The show's budget facts from the period's ledger and ``committed(...)``."""
    return ShowBudget(
        project=project,
        budget=budget,
        spent=ledger.show(project).total,
        committed=owed.get(project, 0.0),
        price_per_s=price_per_s,
    )


@dataclass(frozen=True)
class BudgetGate:
    """Whether a show may start new cloud work, and why."""

    open: bool
    reason: str


def gate(budget: ShowBudget) -> BudgetGate:
    """New cloud work stops when spent plus committed reaches the budget; running tasks finish."""
    used = budget.spent + budget.committed
    if budget.budget <= 0:
        return BudgetGate(False, f"show {budget.project} has no cloud budget")
    if budget.room <= 0:
        return BudgetGate(
            False,
            f"show {budget.project} has used its cloud budget ({money(used)} of "
            f"{money(budget.budget)}); running cloud tasks finish, no new ones start",
        )
    return BudgetGate(
        True,
        f"show {budget.project} has {money(budget.room)} of its {money(budget.budget)} "
        "cloud budget left",
    )


def affordable_seconds(budget: ShowBudget) -> float:
    """Cloud render seconds the room left buys (infinite when the cloud costs nothing)."""
    if budget.room <= 0:
        return 0.0
    if budget.price_per_s <= 0:
        return float("inf")
    return budget.room / budget.price_per_s


def money(amount: float, symbol: str = "$") -> str:
    """``$1,240``, ``$38.50``: whole units from 100 up, cents below."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 100:
        return f"{sign}{symbol}{amount:,.0f}"
    return f"{sign}{symbol}{amount:.2f}"
