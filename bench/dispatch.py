"""Dispatch throughput: many simulated agents (a no-op runner) against one real daemon.

Prints leases per second, lease latency p50/p99, the double-dispatch count, the daemon's CPU
(its worker processes included) and the time to submit a 10,000-frame job. The agents play in
one asyncio process (``sim_http.py``), each with its own agent token, so that the simulator costs
the machine little next to the daemon. Usage: ``python bench/dispatch.py [--agents 500]
[--frames 5000] [--mix] [--daemon-arg ...]``; ``CLOUDBURST_SERVER_WORKERS=2`` in the environment
serves the daemon from two processes.

``--mix`` puts what production jobs need into the load: the agents register with a pool, tags,
memory and a Blender version, and the frames are shared by four kinds of job: plain; with
requirements every agent meets (pool, tags, memory, version: the lease matches them); holding a
limit whose capacity is half the agents leasing at once (``--workers``); and a chain of two jobs
where frame N of the second waits for frame N of the first (``"frames": "same"``). A watcher
reads the limit's use from the daemon all along and prints the most it saw (never above the
capacity).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from daemon_process import cpu_seconds, running_daemon_process
from sim_http import Connection, host_port

from common.cli.local_admin import local_admin
from common.client import DaemonClient
from common.models import AgentRegistration, JobSpec, LimitChange

#: What every agent has with ``--mix``, and what the jobs with requirements ask of it.
NODE = {"pool": "bench", "tags": ["usd", "ocio"], "memory_mb": 65_536,
        "dcc_versions": {"blender": "4.2.3"}}  # fmt: skip
NEEDS = {"pool": "bench", "tags": ["usd"], "min_memory_mb": 32_768, "dcc_version": "4.2"}
LIMIT = "maya"


def spec(frames: str, chunk: int = 1, **more: object) -> JobSpec:
    return JobSpec.model_validate(
        {"name": "bench", "owner": "bench", "scene": "/bench.blend", "frames": frames,
         "chunk_size": chunk, "output": "/tmp/bench/f_####", **more}
    )  # fmt: skip


def submit_mix(client: DaemonClient, frames: int, capacity: int) -> None:
    """The frames as four kinds of job (see the module's docstring)."""
    # No client method sets a limit (TDs use the API): the client's plumbing sends it.
    client._request("PUT", f"/limits/{LIMIT}", body=LimitChange(capacity=capacity))
    quarter = max(2, frames // 4)
    half = quarter // 2
    client.submit(spec(f"1-{frames - 2 * quarter - 2 * half}"))
    client.submit(spec(f"1-{quarter}", requirements=NEEDS))
    client.submit(spec(f"1-{quarter}", limits=[LIMIT]))
    sim = client.submit(spec(f"1-{half}", name="sim"))
    client.submit(spec(f"1-{half}", depends_on=[{"job": sim.id, "frames": "same"}]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--frames", type=int, default=5000, help="one task per frame")
    parser.add_argument("--workers", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--mix", action="store_true", help="requirements, a limit and dependencies in the load"
    )
    parser.add_argument(
        "--separate", action="store_true",
        help="agents of protocol 2: a lease call and a completion call per task (else the "
        "completion's answer carries the next task)",
    )  # fmt: skip
    parser.add_argument(
        "--daemon-arg", action="append", default=[], help="an argument for the daemon (repeat)"
    )
    args = parser.parse_args()
    capacity = max(1, args.workers // 2)

    with (
        tempfile.TemporaryDirectory() as tmp,
        running_daemon_process(Path(tmp), *args.daemon_arg) as (url, daemon),
    ):
        client = DaemonClient(url, timeout=60, auth=local_admin(Path(tmp)))
        started = time.perf_counter()
        big = client.submit(spec("1-10000", chunk=1))
        submit_s = time.perf_counter() - started
        client.cancel(big.id)

        if args.mix:
            submit_mix(client, args.frames, capacity)
        else:
            client.submit(spec(f"1-{args.frames}"))
        facts = NODE if args.mix else {}
        agents = []
        for i in range(args.agents):
            info = client.register(
                AgentRegistration.model_validate(
                    {"name": f"sim{i:04d}", "hostname": "bench", **facts}
                )
            )
            assert info.token is not None
            agents.append((info.id, info.token))
        latencies: list[float] = []
        handed: Counter[tuple[int, int]] = Counter()
        remaining = [args.frames]
        most_held = [0]  # the most units of the limit the daemon said were in use
        watching = threading.Event()

        def watch_limit() -> None:
            """Reads the limit's use as the daemon counts it, all along the run."""
            watcher = DaemonClient(url, timeout=60, auth=client.auth)
            try:
                while not watching.is_set():
                    for limit in watcher._request("GET", "/limits"):
                        if limit["name"] == LIMIT:
                            most_held[0] = max(most_held[0], limit["in_use"])
                    time.sleep(0.005)
            finally:
                watcher.close()

        protocol = client.agent_protocol()  # leases and completions go to its fast address
        fast = protocol.fast_url if protocol is not None else None
        host, port = host_port(fast or url)
        print(f"agents' calls to {fast or url}")

        lease_next = not args.separate

        async def play_agent(agent_id: str, token: str) -> None:
            """One agent: lease, complete at once (a no-op render), until no frame is left.
            As the real agent of protocol 3, a completion asks for the next task too."""
            conn = Connection(host, port, token, keepalive=True)
            assignment = None
            try:
                while remaining[0] > 0:
                    t0 = time.perf_counter()
                    if assignment is None:
                        status, _, assignment = await conn.request(
                            "POST", f"/agents/{agent_id}/lease"
                        )
                        if status == 204:
                            assignment = None
                            await asyncio.sleep(0.01)
                            continue
                        latencies.append(time.perf_counter() - t0)
                        handed[(assignment["task_id"], assignment["attempt"])] += 1
                        remaining[0] -= 1
                        t0 = time.perf_counter()
                    status, _, reply = await conn.request(
                        "POST", f"/agents/{agent_id}/tasks/{assignment['task_id']}/complete",
                        {"attempt": assignment["attempt"], "outputs": [],
                         **({"lease_next": True} if lease_next else {})},
                    )  # fmt: skip
                    assignment = (reply or {}).get("next") if lease_next else None
                    if assignment is not None:
                        latencies.append(time.perf_counter() - t0)
                        handed[(assignment["task_id"], assignment["attempt"])] += 1
                        remaining[0] -= 1
            finally:
                await conn.close()

        async def play_all() -> None:
            # ``--workers`` requests in flight: each worker plays many agents in turn.
            async def play(group: list[tuple[str, str]]) -> None:
                for agent_id, token in group:
                    await play_agent(agent_id, token)

            await asyncio.gather(*(play(agents[i :: args.workers]) for i in range(args.workers)))

        watcher = threading.Thread(target=watch_limit, daemon=True)
        if args.mix:
            watcher.start()
        t0 = time.perf_counter()
        cpu0 = cpu_seconds(daemon.pid)
        asyncio.run(play_all())
        wall = time.perf_counter() - t0
        daemon_cpu = (cpu_seconds(daemon.pid) - cpu0) / wall
        watching.set()
        if args.mix:
            watcher.join()
        client.close()  # no connection left open: the daemon stops at once

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
    print(f"daemon CPU                   {daemon_cpu * 100:.0f}%")
    print(f"submit 10,000-frame job      {submit_s * 1000:.0f} ms")
    mix = ""
    if args.mix:
        most = most_held[0]
        print(f"limit {LIMIT!r} capacity         {capacity} (most in use at once: {most})")
        mix = f", mix: limit {capacity}, at most {most} in use ({max(0, most - capacity)} over)"
    print(
        f"summary: {rate:.0f} dispatches/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"{doubles} double, daemon CPU {daemon_cpu * 100:.0f}%, "
        f"10k-frame submit {submit_s:.2f} s{mix}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
