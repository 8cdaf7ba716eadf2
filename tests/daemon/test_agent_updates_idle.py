"""Idle agents wait longer as the farm grows (the lease's 204 ``X-Poll-Interval``), never past
half the lease time, so an agent that waits that long never shows offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.agent_protocol_settings import AgentProtocolSettings
from common.config import Settings
from daemon.app import Services
from daemon.scheduling.idle_wait import idle_wait
from daemon.services.idle_wait import RECOUNT_S
from tests.conftest import FakeClock
from tests.daemon.http_farm import HttpFarm

Node = tuple[str, str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", lease_ttl_s=30, poll_interval_s=1.0,
        agents=AgentProtocolSettings(idle_polls_per_s=2.0, max_poll_interval_s=100.0),
    )  # fmt: skip


@pytest.fixture
def farm(live_url: str, admin_token: str) -> HttpFarm:
    return HttpFarm(live_url, admin_token)


def wait_told(farm: HttpFarm, node: Node) -> float:
    agent_id, token = node
    answer = farm.call("POST", f"/agents/{agent_id}/lease", token=token)
    assert answer.status_code == 204, answer.text
    return float(answer.headers["X-Poll-Interval"])


def test_the_wait_grows_with_the_live_agents_and_stays_under_the_cap(
    farm: HttpFarm, clock: FakeClock
) -> None:
    first = farm.register("n0")
    assert wait_told(farm, first) == 1.0  # a small farm: the agents' own pace, exactly
    for i in range(1, 10):
        farm.register(f"n{i}")
    assert wait_told(farm, first) == 1.0  # counted at most every RECOUNT_S, not per call
    clock.advance(RECOUNT_S)
    waits = [wait_told(farm, first) for _ in range(20)]  # 10 agents at 2 polls/s: 5 s each
    assert all(4.5 <= wait <= 5.5 for wait in waits)
    assert len(set(waits)) > 1  # spread, so agents told together do not come back together
    for i in range(10, 60):
        farm.register(f"n{i}")
    clock.advance(RECOUNT_S)
    waits = [wait_told(farm, first) for _ in range(20)]  # 60 agents: 30 s, capped at 15 s,
    assert all(15 / 1.1 * 0.9 <= wait <= 15.0 for wait in waits)  # half the lease time
    assert len(set(waits)) > 1


def test_agents_waiting_that_long_stay_online_and_keep_their_registration(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    nodes = [farm.register(f"n{i}") for i in range(60)]
    clock.advance(RECOUNT_S)
    for _ in range(6):  # a minute and more of polls, each after the wait the daemon told
        waits = [wait_told(farm, node) for node in nodes]
        assert min(waits) > 10  # the farm's pace, not the agents' own
        clock.advance(max(waits))
        services.reaper.reap()  # what shows a silent agent offline
        listed = farm.call("GET", "/agents").json()["data"]
        assert len(listed) == 60
        assert {agent["state"] for agent in listed} == {"online"}
        assert {agent["activity"] for agent in listed} == {"idle"}


@pytest.mark.parametrize(
    ("live", "poll", "per_s", "most", "ttl", "spread", "expected"),
    [
        (1, 2.0, 200.0, 15.0, 60.0, 1.0, 2.0),  # a small farm: no spread
        (1_000, 2.0, 200.0, 15.0, 60.0, 0.0, 5.0),
        (1_000, 2.0, 200.0, 15.0, 60.0, 1.0, 5.5),
        (1_000, 2.0, 200.0, 15.0, 60.0, -1.0, 4.5),
        (420, 2.0, 200.0, 15.0, 60.0, -1.0, 2.0),  # spread never below the agents' own pace
        (5_000, 2.0, 200.0, 15.0, 60.0, 1.0, 15.0),  # the cap, at most
        (5_000, 2.0, 200.0, 15.0, 60.0, -1.0, 15 / 1.1 * 0.9),  # spread below it
        (5_000, 2.0, 200.0, 15.0, 20.0, 1.0, 10.0),  # half the lease time, below the cap
        (5_000, 2.0, 200.0, 15.0, 20.0, 0.0, 10 / 1.1),
        (5_000, 20.0, 200.0, 15.0, 60.0, 0.0, 15.0),  # an agents' pace past the cap: the cap
    ],
)
def test_the_idle_wait_policy(
    live: int, poll: float, per_s: float, most: float, ttl: float, spread: float,
    expected: float,
) -> None:  # fmt: skip
    wait = idle_wait(
        live, poll_interval_s=poll, polls_per_s=per_s, max_poll_interval_s=most,
        offline_after_s=ttl, spread=spread,
    )  # fmt: skip
    assert wait == pytest.approx(expected)


def test_an_idle_poll_takes_no_write_transaction_of_its_own(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    services.group_commit.defer()
    node = farm.register("n1")
    database = services.context.database
    commits = database.commits
    clock.advance(7)
    assert wait_told(farm, node) == 1.0
    assert database.commits == commits  # its visit waits for the group commit
    unknown = farm.call("POST", "/agents/nope/lease")
    assert unknown.status_code == 404 and "register again" in unknown.json()["message"]
    services.group_commit.flush()
    assert database.commits == commits + 1
    row = database.db.execute("SELECT last_seen FROM agents WHERE id = ?", [node[0]]).fetchone()
    assert row[0] == clock.now
    farm.submit(frames="1")
    assert farm.lease(node) is not None  # work: the lease's own transaction claims it
    assert database.commits > commits + 1
