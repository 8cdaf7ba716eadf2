"""Dispatch throughput: many simulated agents (a no-op runner) against one real daemon.

Prints leases per second, lease latency p50/p99, the double-dispatch count, and the time to
submit a 10,000-frame job. Usage: ``python bench/dispatch.py [--agents 500] [--frames 5000]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from daemon_process import running_daemon

from common.cli.local_admin import local_admin
from common.client import DaemonClient
from common.models import AgentRegistration, JobSpec, TaskDone


def spec(frames: str, chunk: int = 1) -> JobSpec:
    return JobSpec(
        name="bench", owner="bench", scene="/bench.blend", frames=frames, chunk_size=chunk,
        output="/tmp/bench/f_####",
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--frames", type=int, default=5000, help="one task per frame")
    parser.add_argument("--workers", type=int, default=16, help="requests in flight")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, running_daemon(Path(tmp)) as url:
        client = DaemonClient(url, timeout=60, auth=local_admin(Path(tmp)))
        started = time.perf_counter()
        big = client.submit(spec("1-10000", chunk=1))
        submit_s = time.perf_counter() - started
        client.cancel(big.id)

        client.submit(spec(f"1-{args.frames}"))
        agents = [
            client.register(AgentRegistration(name=f"sim{i:04d}", hostname="bench")).id
            for i in range(args.agents)
        ]
        latencies: list[float] = []
        handed: Counter[tuple[int, int]] = Counter()
        lock = threading.Lock()
        remaining = [args.frames]

        def agent_loop(agent_id: str) -> None:
            own = DaemonClient(url, timeout=60, auth=client.auth)
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                t0 = time.perf_counter()
                assignment = own.lease(agent_id)
                elapsed = time.perf_counter() - t0
                if assignment is None:
                    with lock:
                        if remaining[0] <= 0:
                            return
                    time.sleep(0.01)
                    continue
                with lock:
                    latencies.append(elapsed)
                    handed[(assignment.task_id, assignment.attempt)] += 1
                    remaining[0] -= 1
                own.complete(agent_id, assignment.task_id, TaskDone(attempt=1, outputs=[]))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            # Each worker thread plays many agents in turn.
            per = [agents[i :: args.workers] for i in range(args.workers)]

            def play(group: list[str]) -> None:
                for agent_id in group:
                    agent_loop(agent_id)

            list(pool.map(play, per))
        wall = time.perf_counter() - t0

    doubles = sum(1 for n in handed.values() if n > 1)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rate = len(latencies) / wall
    print(f"agents registered            {args.agents}")
    print(f"tasks dispatched             {len(latencies)}")
    print(f"leases/s (lease+complete)    {rate:.0f}")
    print(f"lease latency p50            {p50:.1f} ms")
    print(f"lease latency p99            {p99:.1f} ms")
    print(f"double dispatches            {doubles}")
    print(f"submit 10,000-frame job      {submit_s * 1000:.0f} ms")
    print(
        f"summary: {rate:.0f} dispatches/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"{doubles} double, 10k-frame submit {submit_s:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
