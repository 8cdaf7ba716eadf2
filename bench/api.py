"""Read API under load: ``GET /jobs`` pages and ``GET /jobs/{id}`` with 10,000 jobs stored.

The jobs are written straight into a new database with the daemon's own storage code (one
transaction), then a real daemon process serves it; 16 client threads ask for random pages (of
job summaries) and random jobs. Prints requests per second and latency percentiles for each,
the daemon's CPU time per request (which other work on a shared machine changes least) and
the load average (how much other work there was).
Usage: ``python bench/api.py [--jobs 10000] [--seconds 15] [--workers 16]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from daemon_process import running_daemon

from common.cli.local_admin import local_admin
from common.frames import chunk_frames, parse_frames
from common.models import JobSpec
from daemon.storage import open_database
from daemon.storage.jobs import insert_job


def seed(data_dir: Path, count: int) -> None:
    database = open_database(data_dir / "cloudburst.sqlite3")
    chunks = chunk_frames(parse_frames("1-10"), 5)
    now = time.time() - count
    with database.transaction() as db:
        for i in range(count):
            spec = JobSpec(
                name=f"shot{i:05d}", owner=f"artist{i % 40}", project=f"show{i % 7}",
                scene=f"/shows/s/shot{i:05d}.blend", frames="1-10", chunk_size=5,
                output=f"/renders/shot{i:05d}/f_####", priority=i % 101,
            )  # fmt: skip
            insert_job(db, spec, chunks, now + i)
    database.close()


def load(url: str, token: str, paths: list[str], seconds: float, workers: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(_: int) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            while time.monotonic() < deadline:
                path = random.choice(paths)
                t0 = time.perf_counter()
                response = session.get(url + path, timeout=30)
                elapsed = time.perf_counter() - t0
                response.raise_for_status()
                with lock:
                    latencies.append(elapsed)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(worker, range(workers)))
    return latencies


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(
    name: str,
    daemon: psutil.Process,
    url: str,
    token: str,
    paths: list[str],
    args: argparse.Namespace,
) -> str:
    """Loads the daemon with ``paths``; prints and returns the figures."""
    cpu = cpu_seconds(daemon)
    latencies = load(url, token, paths, args.seconds, args.workers)
    cpu = cpu_seconds(daemon) - cpu
    latencies.sort()
    rate = len(latencies) / args.seconds
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    per_request = cpu / len(latencies) * 1000
    print(
        f"{name:28s} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
        f"   daemon CPU {per_request:4.2f} ms/req   load {os.getloadavg()[0]:4.2f}"
    )
    return f"{name} {rate:.0f} req/s p99 {p99:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        seed(data, args.jobs)
        with running_daemon(data) as url:
            (daemon,) = psutil.Process().children()
            token = local_admin(data).bearer() or ""
            time.sleep(6)  # let the first ranking pass rank the seeded jobs
            pages = [f"/api/v1/jobs?limit=50&offset={50 * i}" for i in range(args.jobs // 50)]
            filtered = [f"/api/v1/jobs?project=show{i}&limit=50" for i in range(7)]
            jobs = [f"/api/v1/jobs/{i}" for i in range(1, args.jobs + 1)]
            print(
                f"{args.jobs} jobs, {args.workers} requests in flight, {args.seconds:g} s each;"
                f" {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
            )
            parts = [
                measure("GET /jobs (pages)", daemon, url, token, pages, args),
                measure("GET /jobs?project= (filter)", daemon, url, token, filtered, args),
                measure("GET /jobs/{id}", daemon, url, token, jobs, args),
            ]
    print("summary: " + "; ".join(parts) + " (goal >= 500 req/s, p99 <= 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
