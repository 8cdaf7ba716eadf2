"""The queue page: queue order by default, sortable columns the server applies, a name search
(also in the API, over real HTTP), the rows the page polls, and bulk actions on a selection
checked job by job with each job button's own API operation."""

from __future__ import annotations

import re

import requests
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.models import AgentRegistration, JobSpec, TaskDone
from common.states import JobState
from daemon.app import Services
from daemon.job_filter import NAME_CONTAINS_MAX
from tests.daemon.calls import snapshot
from tests.daemon.web.helpers import ROOT, csrf, sign_in


def job(services: Services, name: str, owner: str = "ana", priority: int = 50,
        project: str = "show") -> int:  # fmt: skip
    spec = JobSpec(name=name, owner=owner, project=project, scene="/p/s.blend", frames="1-4",
                   chunk_size=2, output="/renders/none/f_####", priority=priority)  # fmt: skip
    return services.jobs.submit(spec).id


def rows(html: bytes) -> list[int]:
    """The job ids of the page's rows, top to bottom."""
    return [int(i) for i in re.findall(r'<tr data-job-id="(\d+)"', html.decode())]


def ranks(html: bytes) -> list[str]:
    return re.findall(r'<td data-field="rank">([^<]*)</td>', html.decode())


def test_the_queue_opens_in_queue_order_then_the_rest_newest_first(
    app: Flask, services: Services
) -> None:
    ended = job(services, "old", priority=10)
    services.jobs.cancel(ended)
    low = job(services, "low", priority=20)
    top = job(services, "top", priority=90)
    mid = job(services, "mid", priority=60)
    paused = job(services, "held", priority=95)
    services.jobs.pause(paused)
    client = sign_in(app, "ana")

    html = client.get("/jobs").data

    assert rows(html) == [top, mid, low, paused, ended]  # rank 1 first, not the newest
    assert ranks(html) == ["1", "2", "3", "—", "—"]
    assert rows(client.get("/jobs?order=desc").data) == [low, mid, top, paused, ended]
    assert 'aria-sort="ascending"><a class="sort" href="/jobs?order=desc"' in html.decode()


def test_each_column_sorts_on_the_server_and_a_second_click_turns_it_round(
    app: Flask, services: Services
) -> None:
    a = job(services, "Bravo", owner="zed", priority=30, project="alpha")
    b = job(services, "alpha", owner="amy", priority=80, project="zulu")
    c = job(services, "charlie", owner="max", priority=55, project="mike")
    services.jobs.pause(c)
    client = sign_in(app, "ana")

    def order(query: str) -> list[int]:
        answer = client.get(f"/jobs?{query}")
        assert answer.status_code == 200, answer.data
        return rows(answer.data)

    assert order("sort=name") == [b, a, c]  # in any case: alpha, Bravo, charlie
    assert order("sort=name&order=desc") == [c, a, b]
    assert order("sort=owner") == [b, c, a]
    assert order("sort=show") == [a, c, b]
    assert order("sort=priority") == [b, c, a]  # highest first on the first click
    assert order("sort=priority&order=asc") == [a, c, b]
    assert order("sort=submitted") == [c, b, a]  # newest first
    assert order("sort=state") == [a, b, c]  # queued before paused
    html = client.get("/jobs?sort=priority").data.decode()
    assert 'aria-sort="descending"><a class="sort" href="/jobs?sort=priority&amp;order=asc"' in html


def test_progress_sorts_by_frames_on_disk(app: Flask, services: Services) -> None:
    none = job(services, "none")
    half = job(services, "half")
    node = services.enrollment.register(AgentRegistration(name="n1", hostname="n1"), ROOT)
    services.jobs.pause(none)  # the node takes its task from ``half``
    task = services.agents.lease(node.id)
    assert task is not None and task.job_id == half
    services.agents.complete(node.id, task.task_id, TaskDone(attempt=task.attempt, outputs=[]))
    client = sign_in(app, "ana")

    assert rows(client.get("/jobs?sort=progress").data) == [half, none]
    assert rows(client.get("/jobs?sort=progress&order=asc").data) == [none, half]


def test_the_name_search_finds_a_part_in_any_case_and_keeps_the_sort(
    app: Flask, services: Services
) -> None:
    hit = job(services, "SH010 Lighting")
    job(services, "sh020 comp")
    odd = job(services, "100% done_v2")
    also = job(services, "sh010 fx", priority=90)
    client = sign_in(app, "ana")

    html = client.get("/jobs?name=sh010").data
    assert rows(html) == [also, hit]  # in queue order
    assert 'value="sh010"' in html.decode()
    assert rows(client.get("/jobs?name=0%25+d").data) == [odd]  # % is a letter, not a wildcard
    assert rows(client.get("/jobs?name=_").data) == [odd]
    sorted_link = client.get("/jobs?name=sh010&sort=name").data.decode()
    assert '<input type="hidden" name="sort" value="name">' in sorted_link  # search keeps sort


def test_a_query_the_page_cannot_apply_gets_its_sentence_and_a_400(
    app: Flask, services: Services
) -> None:
    job(services, "one")
    client = sign_in(app, "ana")

    bad_sort = client.get("/jobs?sort=colour")
    assert bad_sort.status_code == 400
    assert "Click a column&#39;s heading to sort by it." in bad_sort.data.decode()
    too_long = client.get("/jobs?name=" + "x" * (NAME_CONTAINS_MAX + 1))
    assert too_long.status_code == 400 and b"shorten it" in too_long.data
    assert client.get("/jobs/rows?order=sideways").status_code == 400


def test_the_api_searches_names_and_sorts_by_rank_over_http(
    live_url: str, services: Services, admin_token: str
) -> None:
    low = job(services, "sh010 low", priority=10)
    job(services, "sh020", priority=99)
    high = job(services, "SH010 high", priority=90)
    auth = {"Authorization": f"Bearer {admin_token}"}

    def listed(query: str) -> requests.Response:
        return requests.get(f"{live_url}/api/v1/jobs?{query}", headers=auth, timeout=10)

    found = listed("name_contains=sh010&sort=rank").json()["data"]
    assert [j["id"] for j in found["items"]] == [high, low] and found["total"] == 2
    assert [j["rank"] for j in found["items"]] == [2, 3]  # sh020 is rank 1, filtered out
    assert [j["id"] for j in listed("name_contains=sh010").json()["data"]["items"]] == [high, low]
    newest = [j["id"] for j in listed("sort=submitted&order=asc").json()["data"]["items"]]
    assert newest == sorted(newest)
    too_long = listed("name_contains=" + "x" * (NAME_CONTAINS_MAX + 1))
    assert too_long.status_code in (400, 422), too_long.text
    assert too_long.json()["code"] == "invalid_input"
    assert listed("sort=colour").status_code in (400, 422)


def test_the_rows_the_page_polls_hold_a_new_job_in_the_pages_order(
    app: Flask, services: Services
) -> None:
    first = job(services, "first", priority=20)
    client = sign_in(app, "ana")
    page = client.get("/jobs?sort=priority").data.decode()
    assert 'data-rows="/jobs/rows?sort=priority"' in page
    new = job(services, "new", priority=80)

    answer = client.get("/jobs/rows?sort=priority")

    assert answer.status_code == 200
    assert rows(answer.data) == [new, first]
    assert b"<html" not in answer.data and b'form="bulk"' in answer.data
    assert client.application.test_client().get("/jobs/rows").status_code == 302  # signed out


def post_bulk(client: FlaskClient, action: str, ids: list[int], **extra: str) -> object:
    data = {"csrf": csrf(client), "action": action, "job": [str(i) for i in ids],
            "back": "/jobs?sort=name", **extra}  # fmt: skip
    return client.post("/jobs/bulk", data=data)


def test_bulk_cancel_acts_on_the_callers_jobs_and_names_the_refused(
    app: Flask, services: Services
) -> None:
    mine = [job(services, "a"), job(services, "b")]
    bens = job(services, "c", owner="ben")
    client = sign_in(app, "ana")
    client.get("/jobs")

    answer = post_bulk(client, "cancel", [*mine, bens])

    assert answer.status_code == 200  # some were done: the queue with what happened
    text = answer.data.decode()
    assert f"Cancelled 2 jobs ({mine[0]}, {mine[1]})." in text
    assert f"Refused 1: job {bens}:" in text
    assert [services.jobs.get(i).state for i in mine] == [JobState.CANCELLED] * 2
    assert services.jobs.get(bens).state is JobState.QUEUED


def test_bulk_pause_resume_and_priority_for_a_td_go_back_to_the_same_listing(
    app: Flask, services: Services
) -> None:
    ids = [job(services, "a"), job(services, "b", owner="ben")]
    client = sign_in(app, "tess", Role.TD)
    client.get("/jobs")

    paused = post_bulk(client, "pause", ids)
    assert paused.status_code == 303 and paused.headers["Location"] == "/jobs?sort=name"
    assert {services.jobs.get(i).state for i in ids} == {JobState.PAUSED}
    assert post_bulk(client, "resume", ids).status_code == 303
    assert {services.jobs.get(i).state for i in ids} == {JobState.QUEUED}
    assert post_bulk(client, "priority", ids, priority="77").status_code == 303
    assert {services.jobs.get(i).spec.priority for i in ids} == {77}


def test_bulk_refusals_only_give_the_refusals_status(app: Flask, services: Services) -> None:
    bens = job(services, "c", owner="ben")
    client = sign_in(app, "ana")
    client.get("/jobs")

    answer = post_bulk(client, "pause", [bens, 999])

    assert answer.status_code in (403, 404)
    text = answer.data.decode()
    assert "Nothing was changed. Refused 2:" in text and "job 999: There is no job 999" in text
    assert services.jobs.get(bens).state is JobState.QUEUED


def test_bad_bulk_input_changes_nothing(app: Flask, services: Services) -> None:
    ids = [job(services, "a"), job(services, "b")]
    client = sign_in(app, "tess", Role.TD)
    client.get("/jobs")
    before = snapshot(services)

    for action, chosen, extra, sentence in (
        ("priority", ids, {"priority": "101"}, "whole number from 0 to 100"),
        ("priority", ids, {"priority": "high"}, "whole number from 0 to 100"),
        ("cancel", [], {}, "Select at least one job"),
        ("explode", ids, {}, "Choose what to do with the selection"),
    ):
        answer = post_bulk(client, action, chosen, **extra)  # type: ignore[arg-type]
        assert answer.status_code == 400, (action, extra)
        assert sentence in answer.data.decode()
    odd = client.post("/jobs/bulk", data={"csrf": csrf(client), "action": "cancel",
                                          "job": [str(ids[0]), "1e3"]})  # fmt: skip
    assert odd.status_code == 400 and b"is not a job number" in odd.data
    for value in ("²", "9" * 30, "0" * 20 + "1" + "0" * 20, "0", "-1"):
        weird = client.post("/jobs/bulk", data={"csrf": csrf(client), "action": "cancel",
                                                "job": [value]})  # fmt: skip
        assert weird.status_code == 400, value
    no_token = client.post("/jobs/bulk", data={"action": "cancel", "job": [str(ids[0])]})
    assert no_token.status_code == 403
    assert snapshot(services) == before


def test_a_foreign_back_address_is_never_followed(app: Flask, services: Services) -> None:
    mine = job(services, "a")
    client = sign_in(app, "ana")
    client.get("/jobs")

    answer = post_bulk(client, "pause", [mine], back="https://evil.example/?sort=name")
    assert answer.headers["Location"] == "/jobs?sort=name"  # only the query is kept
    bad = post_bulk(client, "resume", [mine], back="/jobs?sort=colour")
    assert bad.headers["Location"] == "/jobs"


def test_signed_out_bulk_goes_to_sign_in_and_changes_nothing(
    app: Flask, services: Services
) -> None:
    mine = job(services, "a")
    client = app.test_client()
    client.get("/login")

    answer = post_bulk(client, "cancel", [mine])

    assert answer.status_code == 303 and "/login" in answer.headers["Location"]
    assert services.jobs.get(mine).state is JobState.QUEUED


def test_cancel_and_deactivate_ask_first(app: Flask, services: Services) -> None:
    mine = job(services, "a")
    client = sign_in(app, "ana")
    assert 'data-confirm="Cancel job' in client.get(f"/jobs/{mine}").data.decode()
    queue = client.get("/jobs").data.decode()
    assert re.search(r'value="cancel" data-action="bulk-cancel" data-confirm="Cancel the', queue)
    admin = sign_in(app, "root", Role.ADMIN)
    users = admin.get("/users").data.decode()
    assert 'data-confirm="Deactivate ana?' in users
