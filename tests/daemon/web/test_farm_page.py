"""The farm page: each node's resources, load, current task and state; the buttons TDs press on
nodes (checked as the API checks them); the charts of the farm's history."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.models import AgentRegistration, Gpu, Heartbeat
from daemon.app import Services
from daemon.storage import agents as agent_store
from daemon.storage import cloud as cloud_store
from tests.conftest import FakeClock
from tests.daemon.calls import snapshot
from tests.daemon.web.helpers import ROOT, csrf, sign_in, submit


def buttons(html: str, agent_id: str) -> list[str]:
    row = re.search(rf'<tr data-agent-id="{agent_id}".*?</tr>', html, re.S)
    assert row is not None
    return re.findall(r'data-action="([\w-]+)"', row.group(0))


def press(client: FlaskClient, agent_id: str, action: str) -> int:
    return client.post(f"/farm/agents/{agent_id}/{action}", data={"csrf": csrf(client)}).status_code


def register(services: Services, name: str, **facts: object) -> str:
    registration = AgentRegistration(name=name, hostname=f"{name}.studio", **facts)  # type: ignore[arg-type]
    return services.enrollment.register(registration, ROOT).id


def test_each_node_shows_its_resources_load_and_current_task(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana", frames="1-4", chunk=2)
    gpu = register(
        services, "gpu01", cores=32, memory_mb=131072, os="linux",
        gpus=[Gpu(model="NVIDIA RTX A6000", memory_mb=49152)], tags=["fast"],
    )  # fmt: skip
    register(services, "cpu01", cores=8, memory_mb=16384)
    assert services.agents.lease(gpu) is not None
    services.agents.heartbeat(gpu, Heartbeat(cpu_percent=87.5, memory_percent=41.0,
                                             gpu_percent=99.0))  # fmt: skip
    html = sign_in(app, "ana").get("/farm").data.decode()
    row = re.search(r'<tr data-agent-id="' + gpu + r'".*?</tr>', html, re.S)
    assert row is not None
    gpu_row = row.group(0)
    assert "32 cores · 128 GB" in gpu_row and "GPU NVIDIA RTX A6000 · 48 GB" in gpu_row
    assert "fast" in gpu_row and "linux" in gpu_row
    assert 'data-percent="87.5"' in gpu_row and 'data-percent="99.0"' in gpu_row
    assert f'href="/jobs/{job_id}"' in gpu_row and "frames 1-2" in gpu_row
    assert 'data-activity="busy"' in gpu_row
    assert "8 cores · 16 GB" in html and "no GPU" in html and "not reported" in html
    assert "1 busy · 1 idle" in html


def test_a_td_disables_drains_and_enables_a_node_from_the_page(
    app: Flask, services: Services
) -> None:
    node = register(services, "node01")
    client = sign_in(app, "tess", Role.TD)
    assert buttons(client.get("/farm").data.decode(), node) == ["disable", "drain"]
    assert press(client, node, "disable") == 303
    html = client.get("/farm").data.decode()
    assert 'data-activity="disabled"' in html and 'title="disabled by tess"' in html
    assert buttons(html, node) == ["drain", "enable"]
    assert press(client, node, "drain") == 303
    assert 'data-activity="drained"' in client.get("/farm").data.decode()  # it runs nothing
    assert press(client, node, "enable") == 303
    assert services.agents.list_agents()[0].control == "enabled"


def test_a_td_clears_a_suspect_node_from_the_page(app: Flask, services: Services) -> None:
    node = register(services, "node01")
    with services.context.database.transaction() as db:
        agent_store.set_suspect(db, node, "failed 5 tasks in a row; last: GPU lost")
    client = sign_in(app, "tess", Role.TD)
    assert "clear-suspect" in buttons(client.get("/farm").data.decode(), node)
    assert press(client, node, "clear-suspect") == 303
    assert services.agents.list_agents()[0].suspect == ""


def test_the_server_refuses_node_buttons_to_artists_forged_posts_and_unknown_nodes(
    app: Flask, services: Services
) -> None:
    node = register(services, "node01")
    artist = sign_in(app, "ana")
    assert buttons(artist.get("/farm").data.decode(), node) == []  # nothing to press
    before = snapshot(services)
    refused = artist.post(f"/farm/agents/{node}/disable", data={"csrf": csrf(artist)})
    assert refused.status_code == 403 and b"agents.manage" in refused.data
    td = sign_in(app, "tess", Role.TD)
    td.get("/farm")
    for data in ({}, {"csrf": "forged"}):
        assert td.post(f"/farm/agents/{node}/drain", data=data).status_code == 403
    unknown = td.post("/farm/agents/nope/disable", data={"csrf": csrf(td)})
    assert unknown.status_code == 404 and b"There is no agent nope" in unknown.data
    other = td.post(f"/farm/agents/{node}/reboot", data={"csrf": csrf(td)})
    assert other.status_code == 404
    after = snapshot(services)
    assert after["agents"] == before["agents"]


def test_the_charts_draw_the_farms_samples_and_spend_only_for_those_who_read_reports(
    app: Flask, services: Services, clock: FakeClock
) -> None:
    register(services, "node01")
    submit(services, owner="ana", frames="1-4", chunk=1)
    empty = sign_in(app, "ben").get("/farm").data.decode()
    assert empty.count("No samples yet") == 3
    services.farm_history.sample()
    clock.advance(600)
    with services.context.database.transaction() as db:
        cloud_store.record_usage(
            db,
            {"at": clock.now, "project": "show", "job_id": None, "task_id": None,
             "node": "cloud-1", "shape": "Sim.Standard", "preemptible": 1, "seconds": 7200.0,
             "preempted": 0},
        )  # fmt: skip
    services.farm_history.sample()
    html = sign_in(app, "ana").get("/farm").data.decode()
    for chart in ("utilisation", "queue", "frames"):
        figure = re.search(rf'data-chart="{chart}".*?</figure>', html, re.S)
        assert figure is not None and figure.group(0).count("<polyline") == 1
    queue = re.search(r'data-chart="queue".*?</figure>', html, re.S)
    assert queue is not None and "queued: 4" in queue.group(0)
    assert 'data-chart="spend"' not in html and 'data-field="spend-hidden"' in html
    producer = sign_in(app, "pam", Role.PRODUCER).get("/farm").data.decode()
    spend = re.search(r'data-chart="spend".*?</figure>', producer, re.S)
    assert spend is not None and "<title>show</title>" in spend.group(0)
    assert "spend-hidden" not in producer
