"""What the queue page shows: the query it was opened with (filters, name search, sort), read
and checked once, the links of its sortable columns and pages, and its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, url_for
from werkzeug.datastructures import MultiDict

from common.errors import InvalidInput
from common.models import MAX_INTEGER
from common.states import JobState
from daemon.container import Services, services
from daemon.job_filter import NAME_CONTAINS_MAX, JobFilter, JobSort

PAGE_SIZE = 50

#: The table's sortable columns, in the order they are shown, with their headings.
COLUMNS: tuple[tuple[JobSort, str], ...] = (
    (JobSort.RANK, "Rank"), (JobSort.NAME, "Job"), (JobSort.SHOW, "Project"),
    (JobSort.OWNER, "Owner"), (JobSort.STATE, "State"), (JobSort.PROGRESS, "Progress"),
    (JobSort.PRIORITY, "Priority"), (JobSort.SUBMITTED, "Submitted"),
)  # fmt: skip

_ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's query: the filter it lists and the parameters that say it again."""

    filters: JobFilter
    kept: dict[str, Any]
    """The query parameters (offset aside) that open the same listing."""

    def url(self, endpoint: str = "web.queue", **changes: Any) -> str:
        """The URL of ``endpoint`` with this query, changed by ``changes`` (None drops one)."""
        params = {**self.kept, "offset": self.filters.offset, **changes}
        params = {k: v for k, v in params.items() if v not in (None, "", [], 0)}
        query = urlencode(params, doseq=True)
        return url_for(endpoint) + ("?" + query if query else "")


def read_query(args: MultiDict[str, str]) -> QueueQuery:
    """The queue's query from the page's parameters. Unknown states are ignored (a link kept
    from an older version still opens); a sort, order or search the page cannot apply is
    refused.

    Raises:
        InvalidInput: an unknown sort or order, or a name search longer than the page takes.
    """
    states = tuple(JobState(s) for s in args.getlist("state") if s in JobState.__members__.values())
    project = args.get("project", "").strip() or None
    owner = args.get("owner", "").strip() or None
    name = args.get("name", "").strip() or None
    if name is not None and len(name) > NAME_CONTAINS_MAX:
        raise InvalidInput(
            f"Search for at most {NAME_CONTAINS_MAX} characters of a job's name; shorten it."
        )
    sort_name = args.get("sort", JobSort.RANK.value)
    if sort_name not in JobSort.__members__.values():
        raise InvalidInput(
            f"The queue sorts by {', '.join(s.value for s in JobSort)}; "
            f"'{sort_name[:40]}' is none of them. Click a column's heading to sort by it."
        )
    sort = JobSort(sort_name)
    order = args.get("order") or None
    if order is not None and order not in _ORDERS:
        raise InvalidInput("The order is asc or desc; click a column's heading to change it.")
    offset = min(max(0, args.get("offset", 0, type=int) or 0), MAX_INTEGER)
    descending = None if order is None else order == "desc"
    filters = JobFilter(
        states=states, project=project, owner=owner, name_contains=name, sort=sort,
        descending=descending, offset=offset, limit=PAGE_SIZE,
    )  # fmt: skip
    kept: dict[str, Any] = {
        "state": [s.value for s in states], "project": project, "owner": owner, "name": name,
        "sort": None if sort is JobSort.RANK else sort.value, "order": order,
    }  # fmt: skip
    return QueueQuery(filters, kept)


@dataclass(frozen=True)
class Heading:
    """A sortable column's heading: its link, and whether the listing is sorted by it."""

    sort: JobSort
    label: str
    url: str
    current: str
    """``ascending`` or ``descending`` for the column the listing is sorted by, else ''."""


def headings(query: QueueQuery) -> list[Heading]:
    """Each column's heading; a click sorts by it, a second click turns the order round."""
    found = []
    chosen = query.filters
    for sort, label in COLUMNS:
        descending = not chosen.reversed if sort is chosen.sort else sort.descending_first
        order = None if descending == sort.descending_first else ("desc" if descending else "asc")
        url = query.url(sort=None if sort is JobSort.RANK else sort.value, order=order, offset=0)
        current = ""
        if sort is chosen.sort:
            current = "descending" if chosen.reversed else "ascending"
        found.append(Heading(sort, label, url, current))
    return found


def queue_context(found: Services, query: QueueQuery) -> dict[str, Any]:
    """What ``queue.html`` shows for ``query``."""
    filters = query.filters
    result = found.jobs.list_jobs(filters)
    offset = filters.offset
    kept = query.kept
    return {
        "page": result, "query": query, "states": list(JobState), "chosen": set(kept["state"]),
        "project": kept["project"] or "", "owner": kept["owner"] or "", "name": kept["name"] or "",
        "headings": headings(query), "sort": filters.sort.value, "page_size": PAGE_SIZE,
        "previous": query.url(offset=max(0, offset - PAGE_SIZE)) if offset > 0 else None,
        "next_page": (
            query.url(offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < result.total else None
        ),
        "rows_url": query.url("web.queue_rows"), "back": query.url(),
        "name_max": NAME_CONTAINS_MAX,
    }  # fmt: skip


def queue_page(args: MultiDict[str, str] | None = None, notice: str = "", error: str = "",
               status: int = 200) -> tuple[str, int]:  # fmt: skip
    """The queue page for ``args`` (the request's own by default), with a notice or an error
    above the table; a query the page cannot apply gives the default listing and its error."""
    try:
        query = read_query(request.args if args is None else args)
    except InvalidInput as exc:
        query, error, status = read_query(MultiDict()), exc.message, exc.status
    page = render_template(
        "queue.html", **queue_context(services(), query), notice=notice, error=error
    )
    return page, status
