"""The farm over time over real HTTP: samples stored by the service APScheduler triggers, read
back as series by ``GET /api/v1/farm/history``; spend only for those who read reports."""

from __future__ import annotations

from pathlib import Path

from daemon.storage import cloud as cloud_store
from tests.daemon.farm_http import Farm, serve_farm


def book_cloud_hour(farm: Farm, project: str) -> None:
    """An hour of cloud render booked to ``project`` (as a cloud task's end books it)."""
    with farm.services.context.database.transaction() as db:
        cloud_store.record_usage(
            db,
            {"at": farm.clock.now, "project": project, "job_id": None, "task_id": None,
             "node": "cloud-1", "shape": "Sim.Standard", "preemptible": 1, "seconds": 3600.0,
             "preempted": 0},
        )  # fmt: skip


def test_samples_show_agents_busy_the_queue_frames_per_hour_and_spend(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        history = farm.services.farm_history
        failed = farm.submit(frames="1-3", chunk_size=1, max_retries=0, priority=90)
        farm.submit(frames="1-4", chunk_size=1)
        first, second = farm.agent("node01"), farm.agent("node02")
        history.sample()  # 7 queued tasks, nobody busy
        farm.clock.advance(60)
        lease = farm.lease(first)
        assert lease is not None and lease["job_id"] == failed
        farm.fail(first, lease, "boom", "crash")
        farm.data("DELETE", f"/jobs/{failed}")  # its 2 queued tasks are no longer queue depth
        done = farm.lease(first)
        assert done is not None and farm.complete(first, done).status_code == 200
        assert farm.lease(second) is not None
        book_cloud_hour(farm, "show")
        history.sample()
        answer = farm.data("GET", "/farm/history?hours=1", as_="td")
        points = answer["points"]
        assert [(p["agents_online"], p["agents_busy"], p["queue_depth"], p["frames_per_hour"])
                for p in points] == [(2, 0, 7, 0), (2, 1, 2, 1)]  # fmt: skip
        assert [p["utilisation"] for p in points] == [0.0, 0.5]
        assert answer["sample_interval_s"] == 60.0
        [show] = answer["spend"]
        assert show["project"] == "show" and len(show["points"]) == 1 and show["points"][0][1] > 0
        # an artist sees the farm but not what the shows spend
        artist = farm.data("GET", "/farm/history?hours=1", as_="artist")
        assert artist["points"] == points and artist["spend"] == []


def test_a_long_span_is_averaged_into_the_points_asked_for_and_old_samples_go(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path) as farm:
        history = farm.services.farm_history
        farm.agent("node01")
        keep = farm.services.context.settings.monitoring.history_keep_s
        for _ in range(10):  # one sample every 6 minutes: 5 in each half hour
            farm.clock.advance(360)
            history.sample()
        two = farm.data("GET", "/farm/history?hours=1&points=2", as_="artist")["points"]
        assert len(two) == 2 and all(p["agents_online"] == 1 for p in two)
        assert len(farm.data("GET", "/farm/history?hours=1")["points"]) == 10
        farm.clock.advance(keep + 1)
        history.sample()  # the first samples are now past their retention
        db = farm.services.context.database.db
        assert db.execute("SELECT count(*) FROM farm_samples").fetchone()[0] == 1


def test_a_bad_span_is_refused_with_what_to_send(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        for query in ("hours=0", "hours=100000", "hours=day", "points=1", "colour=red"):
            answer = farm.call("GET", f"/farm/history?{query}", as_="artist")
            assert answer.status_code == 400, query
            assert answer.json()["code"] == "invalid_input" and answer.json()["message"]
        assert farm.session.get(f"{farm.url}/api/v1/farm/history").status_code == 401
