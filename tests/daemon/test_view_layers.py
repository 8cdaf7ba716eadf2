"""Views call services only, and reach them one way.

Read from the source with ``ast``: no view (``daemon.api``, ``daemon.web``) opens a transaction
or reaches the database through the context; the services are reached through
``daemon.container`` (never by the key of ``Flask.extensions``); the ShotGrid sync stands beside
the services, not on them. The reads that moved from views into services are checked again
through real HTTP.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import requests

from common.models import JobSpec
from daemon.container import Services
from tests.test_import_layers import ROOT, import_graph, is_within

VIEWS = ("daemon/api", "daemon/web")


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def attribute_uses(path: Path, name: str) -> list[str]:
    """Where ``path`` reads an attribute called ``name`` (``x.name``), as ``file:line``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == name
    ]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("transaction", "services own the transactions"),
        ("database", "views reach storage through services only"),
        ("extensions", "views reach the services through daemon.container.services()"),
    ],
)
def test_views_leave_transactions_and_storage_to_the_services(name: str, why: str) -> None:
    found = [use for path in sources(*VIEWS) for use in attribute_uses(path, name)]
    assert not found, f"{why}:\n" + "\n".join(found)


def test_the_services_are_kept_on_the_app_in_one_place() -> None:
    found = [
        use
        for path in sources("daemon")
        if path != ROOT / "daemon" / "container.py"
        for use in attribute_uses(path, "extensions")
    ]
    assert not found, "use daemon.container (services, services_of, attach):\n" + "\n".join(found)


def test_the_shotgrid_sync_does_not_stand_on_the_services() -> None:
    graph = import_graph()
    broken = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if is_within(module, "daemon.shotgun")
        for target in targets
        if is_within(target, "daemon.services")
    )
    assert not broken, "the Context is daemon.context:\n" + "\n".join(broken)


def test_the_finder_sees_an_attribute() -> None:
    probe = ROOT / "daemon" / "context.py"
    assert attribute_uses(probe, "database") == []
    assert attribute_uses(ROOT / "daemon" / "container.py", "extensions")


def get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_jobs_data_over_http(live_url: str, admin_token: str, services: Services) -> None:
    spec = JobSpec(name="shot", owner="admin", project="show", scene="/p/s.blend", frames="1-3",
                   chunk_size=1, output="/r/f_####")  # fmt: skip
    job_id = services.jobs.submit(spec).id

    known = get(f"{live_url}/api/v1/jobs/{job_id}/data", admin_token)
    assert known.status_code == 200, known.text
    data = known.json()["data"]
    assert (data["job_id"], data["state"], data["frames_home"]) == (job_id, None, 0)

    unknown = get(f"{live_url}/api/v1/jobs/{job_id + 1}/data", admin_token)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
    assert "cloudburst jobs" in unknown.json()["message"]


def test_the_audit_log_over_http(live_url: str, admin_token: str) -> None:
    page = get(f"{live_url}/api/v1/audit?limit=5", admin_token)
    assert page.status_code == 200, page.text
    assert page.json()["data"] | {"items": []} == {"items": [], "total": 0, "offset": 0, "limit": 5}

    refused = get(f"{live_url}/api/v1/audit?colour=blue", admin_token)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_input"
