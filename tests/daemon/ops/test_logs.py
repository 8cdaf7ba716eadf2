"""The daemon's log records stored by the handler, their filters, paging, retention; task logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from common.config import Settings
from common.models import TaskLogChunk
from common.ops_settings import LogSettings
from daemon.app import Services
from daemon.services.logs import DatabaseLogHandler
from tests.daemon.calls import enroll_agent, submit

URL = "/api/v1/logging/logs"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", logs=LogSettings(keep_records=5, keep_s=3600))


@pytest.fixture
def handler(services: Services) -> Iterator[DatabaseLogHandler]:
    handler = DatabaseLogHandler(services.context.database)
    yield handler
    handler.close()


def emit(handler: DatabaseLogHandler, name: str, level: int, message: str, when: float,
         **extra: object) -> None:  # fmt: skip
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    record.created = when
    for key, value in extra.items():
        setattr(record, key, value)
    handler.handle(record)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def fill(handler: DatabaseLogHandler) -> None:
    emit(handler, "daemon.services.reaper", logging.WARNING,
         "task_id=4 of job_id=2: lease of agent_id=ab-12 expired", 1000.0)  # fmt: skip
    emit(handler, "daemon.services.jobs", logging.INFO, "submitted", 1010.0, job_id=2)
    emit(handler, "daemon.api.guard", logging.WARNING, "denied GET /x", 1020.0)
    emit(handler, "daemon.servicesX", logging.ERROR, "100% <b>odd</b>", 1030.0)
    emit(handler, "waitress", logging.DEBUG, "noise", 1040.0)
    handler.flush()


def messages(api: FlaskClient, query: str) -> list[str]:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 200, response.json
    return [item["message"] for item in response.json["data"]["items"]]


def test_records_are_stored_with_their_ids(api: FlaskClient, handler: DatabaseLogHandler) -> None:
    fill(handler)
    items = api.get(f"{URL}?job_id=2").json["data"]["items"]
    assert [(i["job_id"], i["task_id"], i["agent_id"]) for i in items] == [
        (2, None, None), (2, 4, "ab-12"),
    ]  # fmt: skip
    assert items[1]["level"] == "WARNING" and items[1]["service"] == "daemon.services.reaper"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("service=daemon.services", ["submitted", "task_id=4 of job_id=2: lease of agent_id=ab-12 "
                                     "expired"]),
        ("level=WARNING", ["100% <b>odd</b>", "denied GET /x",
                           "task_id=4 of job_id=2: lease of agent_id=ab-12 expired"]),
        (f"since={iso(1010)}&until={iso(1030)}", ["denied GET /x", "submitted"]),
        ("contains=100%25", ["100% <b>odd</b>"]),
        ("contains=_", ["task_id=4 of job_id=2: lease of agent_id=ab-12 expired"]),
        ("agent_id=ab-12&level=ERROR", []),
    ],
)  # fmt: skip
def test_filters(
    api: FlaskClient, handler: DatabaseLogHandler, query: str, expected: list[str]
) -> None:
    fill(handler)
    assert messages(api, query) == expected


def test_pages(api: FlaskClient, handler: DatabaseLogHandler) -> None:
    fill(handler)
    first = api.get(f"{URL}?limit=2").json["data"]
    assert (len(first["items"]), first["total"], first["next_offset"]) == (2, 5, 2)
    last = api.get(f"{URL}?limit=2&offset=4").json["data"]
    assert [i["message"] for i in last["items"]] == [
        "task_id=4 of job_id=2: lease of agent_id=ab-12 expired"
    ]
    assert last["next_offset"] is None


@pytest.mark.parametrize(
    "query", ["level=LOUD", "limit=0", "limit=5000", "offset=-1", "since=yesterday", "x=1",
              "source=task"],
)  # fmt: skip
def test_bad_filters_get_400(api: FlaskClient, query: str) -> None:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400, response.json
    assert response.json["message"]


def test_the_table_stays_bounded(
    api: FlaskClient, handler: DatabaseLogHandler, services: Services
) -> None:
    fill(handler)
    for n in range(3):
        emit(handler, "daemon", logging.INFO, f"late {n}", 5000.0)
    handler.flush()
    assert services.logs.trim(now=4000.0) == 3  # eight records, five kept: by count
    assert api.get(URL).json["data"]["total"] == 5
    assert services.logs.trim(now=8500.0) == 2  # older than an hour: by age
    assert messages(api, "") == ["late 2", "late 1", "late 0"]


def test_the_handler_writes_off_the_calling_thread(services: Services) -> None:
    handler = DatabaseLogHandler(services.context.database, interval_s=0.05)
    logger = logging.getLogger("daemon.services.test_only")
    logger.addHandler(handler)
    handler.start()
    try:
        logger.warning("job_id=9 hello")
    finally:
        logger.removeHandler(handler)
        handler.close()  # stops the writer and stores what is left
    rows = list(services.context.database.db.query("SELECT job_id, message FROM daemon_logs"))
    assert rows == [{"job_id": 9, "message": "job_id=9 hello"}]


def test_task_logs_are_searched_by_job(api: FlaskClient, services: Services) -> None:
    agent, _ = enroll_agent(api)
    job = submit(api, frames="1-2", chunk_size=1)
    task = services.agents.lease(agent)
    assert task is not None
    chunk = TaskLogChunk(attempt=task.attempt, offset=0, text="Fra:1 Mem:12M\nSaved frame 1\n")
    services.agents.append_log(agent, task.task_id, chunk)
    items = api.get(f"{URL}?source=task&job_id={job['id']}&contains=Saved").json["data"]["items"]
    assert [(i["task_id"], i["attempt"], i["source"]) for i in items] == [
        (task.task_id, task.attempt, "task")
    ]
    assert messages(api, f"source=task&job_id={job['id'] + 1}") == []
