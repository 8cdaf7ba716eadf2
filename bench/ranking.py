"""Ranking pass over a big queue, and lease latency while passes run.

Builds a daemon database with --jobs queued jobs of --tasks-per-job queued tasks each (10,000 x
100 = 1,000,000 by default) over --shows shows, a third of them linked to ShotGrid values, a few
pinned, and --agents agents online each running a task; then times full ranking passes (the
first one, which inserts every rank, and the median of --passes later ones), and measures the
latency of leases (p50, p99, max) asked by --threads threads in the daemon's process, first with
no pass running and then while passes run back to back, as APScheduler runs them beside
waitress's threads. The goal: a pass under 200 ms, and leases that do not wait for one.

Usage: ``python bench/ranking.py [--jobs 10000] [--tasks-per-job 100] [--passes 5]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from common.config import Settings
from common.frames import chunk_frames, parse_frames
from common.models import AgentRegistration, JobSpec
from daemon.app import build_services
from daemon.container import Services
from daemon.storage import jobs as job_store
from daemon.storage import open_database
from daemon.storage import shotgrid as sg_store


def populate(services: Services, jobs: int, tasks_per_job: int, shows: int, seed: int) -> None:
    rng = random.Random(seed)
    now = services.context.now()
    chunks = chunk_frames(parse_frames(f"1-{tasks_per_job}"), 1)
    base = JobSpec(
        name="bench", owner="bench", scene="/bench.blend", frames=f"1-{tasks_per_job}",
        output="/tmp/bench/f_####",
    )  # fmt: skip
    database = services.context.database
    for start in range(0, jobs, 1000):
        with database.transaction() as db:
            for n in range(start, min(jobs, start + 1000)):
                spec = base.model_copy(
                    update={"name": f"job{n}", "project": f"show{n % shows}",
                            "priority": rng.randint(0, 100)}
                )  # fmt: skip
                job_id = job_store.insert_job(db, spec, chunks, now - rng.uniform(0, 7 * 86400))
                if n % 3 == 0:  # linked to a ShotGrid task with a priority and a due date
                    sg_store.insert_link(db, job_id, 1, "Shot", n, n)
                    record = sg_store.EntityRecord(
                        "Task", n, f"task{n}", priority=rng.choice([25.0, 50.0, 75.0, 100.0]),
                        priority_label="B", due_at=now + rng.uniform(3600, 20 * 86400),
                    )  # fmt: skip
                    sg_store.upsert_entities(db, [record], now)
                if n % 1000 == 0:
                    db.execute(
                        "INSERT INTO job_pins (job_id, by, at) VALUES (?, 'bench', ?)",
                        [job_id, now],
                    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def lease_latencies(
    services: Services, agents: list[str], threads: int, stop: threading.Event
) -> list[tuple[float, float]]:
    """Leases until ``stop``; returns (start, seconds) of each lease."""
    results: list[tuple[float, float]] = []
    lock = threading.Lock()

    def run(mine: list[str]) -> None:
        own: list[tuple[float, float]] = []
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            services.agents.lease(mine[i % len(mine)])
            own.append((started, time.perf_counter() - started))
            i += 1
            time.sleep(0.002)  # agents poll; they do not hammer
        with lock:
            results.extend(own)

    workers = [threading.Thread(target=run, args=(agents[k::threads],)) for k in range(threads)]
    for worker in workers:
        worker.start()
    stop.wait()
    for worker in workers:
        worker.join()
    return results


def describe(name: str, latencies: list[float]) -> str:
    ms = [s * 1000 for s in latencies]
    return (
        f"{name:<34} n={len(ms):<6} p50 {statistics.median(ms):6.2f} ms   "
        f"p99 {percentile(ms, 0.99):6.2f} ms   max {max(ms):6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--tasks-per-job", type=int, default=100)
    parser.add_argument("--shows", type=int, default=20)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4, help="threads asking for leases")
    parser.add_argument("--seconds", type=float, default=3.0, help="of leases without passes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        database = open_database(Path(tmp) / "cloudburst.sqlite3")
        services = build_services(settings, database)
        t0 = time.perf_counter()
        populate(services, args.jobs, args.tasks_per_job, args.shows, seed=1)
        built_s = time.perf_counter() - t0
        agents = [
            services.agents.register(AgentRegistration(name=f"n{i}", hostname="bench")).id
            for i in range(args.agents)
        ]
        for agent in agents:  # each agent runs a task: the shows' usage of the farm
            services.agents.lease(agent)
        tasks = database.db.conn.execute("SELECT count(*) FROM tasks").fetchone()[0]

        first = services.ranking.run_pass()
        reports = [services.ranking.run_pass() for _ in range(args.passes)]
        median = statistics.median(r.seconds for r in reports)
        middle = sorted(reports, key=lambda r: r.seconds)[len(reports) // 2]

        stop = threading.Event()
        timer = threading.Timer(args.seconds, stop.set)
        timer.start()
        idle = [s for _, s in lease_latencies(services, agents, args.threads, stop)]

        stop = threading.Event()
        windows: list[tuple[float, float]] = []

        def passes() -> None:
            for _ in range(args.passes):
                started = time.perf_counter()
                services.ranking.run_pass()
                windows.append((started, time.perf_counter()))
            stop.set()

        runner = threading.Thread(target=passes)
        runner.start()
        leases = lease_latencies(services, agents, args.threads, stop)
        runner.join()
        during = [s for start, s in leases if any(a <= start <= b for a, b in windows)]
        pass_under_load = statistics.median(b - a for a, b in windows)

    print(f"database                           {args.jobs} queued jobs, {tasks:,} tasks, "
          f"{args.shows} shows, {args.agents} agents (built in {built_s:.0f} s)")  # fmt: skip
    print(f"first pass (inserts every rank)    {first.seconds * 1000:.0f} ms")
    print(
        f"pass, median of {args.passes:<3}               {median * 1000:.0f} ms "
        f"(read {middle.read_s * 1000:.0f}, rank {middle.rank_s * 1000:.0f}, "
        f"write {middle.write_s * 1000:.0f})"
    )
    print(f"pass while leases run, median      {pass_under_load * 1000:.0f} ms")
    print(describe("lease, no pass running", idle))
    print(describe("lease, during a pass", during))
    print(
        f"summary: ranking pass {median * 1000:.0f} ms over {args.jobs} jobs / {tasks:,} tasks "
        f"(goal < 200 ms); lease p99 {percentile([s * 1000 for s in idle], 0.99):.1f} ms idle, "
        f"{percentile([s * 1000 for s in during], 0.99):.1f} ms during a pass"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
