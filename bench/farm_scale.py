"""The farm's steady chatter: N simulated agents in one asyncio process against a real daemon.

Each simulated agent follows the real agent's cadence over real HTTP on 127.0.0.1, with its own
agent token:

* ``legacy`` protocol (what agents before the quiet protocol send): idle, a lease poll every
  ``--poll`` seconds; always, a heartbeat every 10 s; rendering, a progress update and a log
  chunk about every second each; at the end of a task, complete and lease again at once.
* ``quiet`` protocol: rendering, one update every ``update_interval_s`` (the daemon says how
  long) carrying the heartbeat, the newest progress and the log lines since the last one; idle,
  a lease poll after the ``X-Poll-Interval`` the daemon's 204 names; complete, then lease (from
  protocol 3, the completion asks for the next task and leases only when its answer has none).
* ``auto``: quiet when the daemon answers ``GET /api/v1/agents/protocol``, else legacy.

Renders are no-ops that last ``--task-s`` seconds (the first one of each agent a random part of
it, so that completions spread out) and print a log line every second. Statistics are taken
after ``--warmup`` seconds, over ``--seconds``: per request kind the count, p50 and p99 latency
and errors; requests offered (what the cadence asked for in the window) against served
(answered); leases lost (a task the daemon took back from a live agent); how far behind the
daemon the progress and log lines were (from the line's time to the answer that accepted it);
and the CPU of the daemon and of this simulator. Usage:

    python bench/farm_scale.py --agents 275 --task-s 60 [--protocol auto] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon_process import cpu_seconds, running_daemon_process
from sim_http import Connection, HttpError, host_port

from common.cli.local_admin import local_admin
from daemon.collector import settle_collector

HEARTBEAT_S = 10.0
LEGACY_FLUSH_S = 1.0  # the legacy agent's progress and log chunk cadence
LINE = "Fra:{frame} Mem:412.7M (Peak 498.2M) | Time:00:{sec:02d}.41 | Sample {sample}/128\n"


@dataclass
class Stats:
    """What the agents saw, from ``window_start`` on."""

    window_start: float = 0.0
    window_end: float = float("inf")
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    offered: int = 0
    served: int = 0
    leases: int = 0
    no_task: int = 0
    lost: int = 0
    done: int = 0
    progress_lag: list[float] = field(default_factory=list)
    log_lag: list[float] = field(default_factory=list)
    busy_samples: list[int] = field(default_factory=list)
    busy: int = 0

    def counting(self, at: float) -> bool:
        return self.window_start <= at < self.window_end


class Agent:
    """One simulated agent."""

    def __init__(
        self,
        agent_id: str,
        conns: tuple[Connection, Connection],
        args: argparse.Namespace,
        stats: Stats,
        quiet: dict[str, Any] | None,
    ) -> None:
        self.id = agent_id
        self.main, self.side = conns  # main: lease, complete, updates; side: heartbeats
        self.args = args
        self.stats = stats
        self.quiet = quiet
        self.task: dict[str, Any] | None = None
        self.first = True
        self.lease_next = quiet is not None and quiet.get("version", 2) >= 3 and not args.separate
        """Protocol 3: a completion asks for the next task (``lease_next``)."""
        self.handed: dict[str, Any] | None = None
        """The next task the last completion's answer carried."""

    async def call(
        self, kind: str, conn: Connection, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, str], Any] | None:
        start = time.monotonic()
        stats = self.stats
        if stats.counting(start):
            stats.offered += 1
        try:
            answer = await asyncio.wait_for(
                conn.request(method, path, body), self.args.request_timeout
            )
        except HttpError as exc:
            if kind in ("progress", "log", "complete", "complete+lease") and exc.status == 409:
                if stats.counting(start):
                    stats.lost += 1
            elif stats.counting(start):
                stats.errors[f"{kind} {exc.status}"] += 1
            return None
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            await conn.close()
            if stats.counting(start):
                stats.errors[f"{kind} {type(exc).__name__}"] += 1
            return None
        end = time.monotonic()
        if stats.counting(start):
            stats.served += 1
            stats.latency[kind].append(end - start)
        return answer

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(random.uniform(0, self.args.ramp))
        beat = None if self.quiet else asyncio.create_task(self.heartbeats(stop))
        try:
            while not stop.is_set():
                if self.handed is not None:
                    self.task, self.handed = self.handed, None
                    if self.stats.counting(time.monotonic()):
                        self.stats.leases += 1
                    await self.render(stop)
                    self.task = None
                    continue
                answer = await self.call("lease", self.main, "POST", f"/agents/{self.id}/lease")
                if answer is None or answer[0] == 204:
                    if answer is not None and self.stats.counting(time.monotonic()):
                        self.stats.no_task += 1
                    wait = self.args.poll
                    if answer is not None and self.quiet:
                        wait = float(answer[1].get("x-poll-interval", wait))
                    await _sleep(stop, wait)
                    continue
                if self.stats.counting(time.monotonic()):
                    self.stats.leases += 1
                self.task = answer[2]
                await self.render(stop)
                self.task = None
        finally:
            if beat is not None:
                beat.cancel()

    async def heartbeats(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(random.uniform(0, HEARTBEAT_S))
        while not stop.is_set():
            held = [self.task["task_id"]] if self.task else []
            answer = await self.call(
                "heartbeat",
                self.side,
                "POST",
                f"/agents/{self.id}/heartbeat",
                {"task_ids": held, "cpu_percent": 97.0},
            )
            taken = answer is not None and held and held[0] in answer[2]["cancel"]
            if taken and self.stats.counting(time.monotonic()):
                self.stats.lost += 1
            await _sleep(stop, HEARTBEAT_S)

    async def render(self, stop: asyncio.Event) -> None:
        task = self.task
        assert task is not None
        length = self.args.task_s * (random.uniform(0.2, 1.0) if self.first else 1.0)
        self.first = False
        tid, attempt = task["task_id"], task["attempt"]
        started = time.monotonic()
        self.stats.busy += 1
        offset = 0
        pending: list[tuple[float, str]] = []  # (printed at, line) not yet sent
        progress_at: float | None = None
        interval = self.quiet["update_interval_s"] if self.quiet else LEGACY_FLUSH_S
        next_send = started + interval
        tick = 0
        lost = False
        try:
            while not stop.is_set():
                now = time.monotonic()
                elapsed = now - started
                if elapsed >= length:
                    break
                tick += 1
                pending.append(
                    (now, LINE.format(frame=task["frames"][0], sec=tick % 60, sample=tick % 128))
                )
                progress_at = now
                if now >= next_send:
                    lost = not await self.send(
                        tid, attempt, elapsed / length, pending, progress_at, offset
                    )
                    offset += sum(len(text) for _, text in pending)
                    pending = []
                    next_send = max(next_send + interval, time.monotonic())
                    if lost:
                        return
                await _sleep(stop, min(1.0, max(0.0, started + tick - time.monotonic())))
            if stop.is_set():
                return
            if pending and not await self.send(tid, attempt, 1.0, pending, progress_at, offset):
                return
            done: dict[str, Any] = {"attempt": attempt, "outputs": []}
            if self.lease_next:
                done["lease_next"] = True
            kind = "complete+lease" if self.lease_next else "complete"  # a lease, too
            answer = await self.call(
                kind, self.main, "POST", f"/agents/{self.id}/tasks/{tid}/complete", done
            )
            if answer is not None and self.lease_next:
                self.handed = (answer[2] or {}).get("next")
            if answer is not None and self.stats.counting(time.monotonic()):
                self.stats.done += 1
        finally:
            self.stats.busy -= 1

    async def send(
        self,
        tid: int,
        attempt: int,
        progress: float,
        pending: list[tuple[float, str]],
        progress_at: float | None,
        offset: int,
    ) -> bool:
        """Sends progress and the pending log lines; False when the task was taken back."""
        text = "".join(line for _, line in pending)
        if self.quiet:
            body = {
                "task_ids": [tid],
                "cpu_percent": 97.0,
                "tasks": [
                    {
                        "task_id": tid,
                        "attempt": attempt,
                        "progress": round(progress, 4),
                        "log": [{"offset": offset, "text": text}] if text else [],
                    }
                ],
            }
            answer = await self.call(
                "update", self.main, "POST", f"/agents/{self.id}/updates", body
            )
            if answer is None:
                return True
            self._lags(pending, progress_at)
            if tid in answer[2]["cancel"]:
                if self.stats.counting(time.monotonic()):
                    self.stats.lost += 1
                return False
            return True
        path = f"/agents/{self.id}/tasks/{tid}"
        sent = await self.call(
            "progress",
            self.main,
            "POST",
            f"{path}/progress",
            {"attempt": attempt, "progress": round(progress, 4)},
        )
        if sent is not None and text:
            sent = await self.call(
                "log",
                self.main,
                "POST",
                f"{path}/log",
                {"attempt": attempt, "offset": offset, "text": text},
            )
        if sent is not None:
            self._lags(pending, progress_at)
        return True

    def _lags(self, pending: list[tuple[float, str]], progress_at: float | None) -> None:
        now = time.monotonic()
        if not self.stats.counting(now):
            return
        if progress_at is not None:
            self.stats.progress_lag.append(now - progress_at)
        self.stats.log_lag.extend(now - at for at, _ in pending)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def setup(
    url: str, admin: str, args: argparse.Namespace
) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    host, port = host_port(url)
    conn = Connection(host, port, admin, keepalive=True)
    frames = int(args.agents * (args.warmup + args.seconds + args.ramp) / args.task_s * 1.3)
    frames += args.agents * 2
    for start in range(1, frames + 1, 10_000):  # jobs of at most 10,000 frames
        last = min(frames, start + 9_999)
        await conn.request(
            "POST",
            "/jobs",
            {
                "name": "farm-scale",
                "scene": "/bench/shot.blend",
                "frames": f"{start}-{last}",
                "chunk_size": 1,
                "output": "/tmp/bench/f_####",
                "max_retries": 0,
            },
        )
    quiet: dict[str, Any] | None = None
    if args.protocol != "legacy":
        try:
            quiet = (await conn.request("GET", "/agents/protocol"))[2]
        except HttpError as exc:
            if args.protocol == "quiet" or exc.status not in (404, 405):  # an older daemon
                raise
    conns = [Connection(host, port, admin, keepalive=True) for _ in range(8)]

    async def register(i: int) -> tuple[str, str]:
        info = (
            await conns[i % 8].request(
                "POST",
                "/agents",
                {"name": f"sim{i:05d}", "hostname": f"sim{i:05d}", "dccs": ["blender"]},
            )
        )[2]
        return info["id"], info["token"]

    agents = []
    for chunk in range(0, args.agents, 200):
        agents += await asyncio.gather(
            *(register(i) for i in range(chunk, min(args.agents, chunk + 200)))
        )
    for c in (conn, *conns):
        await c.close()
    return agents, quiet


async def simulate(url: str, admin: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    host, port = host_port(url)
    t0 = time.monotonic()
    agents, quiet = await setup(url, admin, args)
    print(
        f"set up {len(agents)} agents in {time.monotonic() - t0:.1f} s; protocol "
        f"{'quiet ' + json.dumps(quiet) if quiet else 'legacy'}",
        file=sys.stderr,
    )
    # One process plays thousands of agents: its own full collections would stop them all for
    # 100+ ms and count as the daemon's latency. Set as the daemon's serving processes are.
    settle_collector()
    if args.keepalive == "auto":  # as the real agent: protocol 2 connects as the daemon asks
        args.keepalive = "on" if quiet is None or quiet.get("keep_alive", True) else "off"
    keep = args.keepalive == "on"
    # lease, updates and complete go where the real agent sends them: the fast address if any,
    # on a kept connection, as the real agent keeps it there
    fast = (quiet or {}).get("fast_url")
    fast_host, fast_port = host_port(fast) if fast else (host, port)
    stats = Stats()
    stop = asyncio.Event()
    sims = [
        Agent(
            agent_id,
            (
                Connection(fast_host, fast_port, token, keep or bool(fast)),
                Connection(host, port, token, keep),
            ),
            args,
            stats,
            quiet,
        )
        for agent_id, token in agents
    ]
    tasks = [asyncio.create_task(sim.run(stop)) for sim in sims]
    start = time.monotonic()
    stats.window_start = start + args.warmup + args.ramp
    stats.window_end = stats.window_start + args.seconds
    await asyncio.sleep(stats.window_start - time.monotonic())
    daemon0, own0 = cpu_seconds(pid), own_cpu()
    while time.monotonic() < stats.window_end:
        stats.busy_samples.append(stats.busy)
        await asyncio.sleep(1.0)
    daemon1, own1 = cpu_seconds(pid), own_cpu()
    stop.set()
    await asyncio.wait(tasks, timeout=args.request_timeout + 5)
    for sim in sims:
        await sim.main.close()
        await sim.side.close()
    return {
        "stats": stats,
        "daemon_cpu": (daemon1 - daemon0) / args.seconds,
        "sim_cpu": (own1 - own0) / args.seconds,
        "quiet": quiet is not None,
        "fast": bool(fast),
    }


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    stats: Stats = result["stats"]
    seconds = args.seconds
    print(
        f"agents {args.agents}, tasks {args.task_s:g} s, protocol "
        f"{'quiet' if result['quiet'] else 'legacy'}, "
        f"keep-alive {args.keepalive}, window {seconds:g} s"
    )
    print(f"{'kind':<14} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, values in sorted(stats.latency.items()):
        print(
            f"{kind:<14} {len(values):>7} {len(values) / seconds:>7.1f} "
            f"{statistics.median(values) * 1000:>8.1f} {pct(values, 0.99) * 1000:>8.1f}"
        )
    for kind, count in sorted(stats.errors.items()):
        print(f"error {kind}: {count}")
    busy = statistics.mean(stats.busy_samples) if stats.busy_samples else 0
    print(
        f"offered {stats.offered / seconds:.0f}/s, served {stats.served / seconds:.0f}/s; "
        f"busy agents {busy:.0f} of {args.agents}; leases {stats.leases} "
        f"(+{stats.no_task} no task), done {stats.done}, leases lost {stats.lost}"
    )
    print(
        f"behind: progress p99 {pct(stats.progress_lag, 0.99):.2f} s, "
        f"log lines p99 {pct(stats.log_lag, 0.99):.2f} s "
        f"(max {max(stats.log_lag, default=0):.2f} s)"
    )
    print(
        f"CPU: daemon {result['daemon_cpu'] * 100:.0f}%, simulator {result['sim_cpu'] * 100:.0f}%"
    )
    lease, beat = (
        stats.latency.get("lease", []) + stats.latency.get("complete+lease", []),
        stats.latency.get("update" if result["quiet"] else "heartbeat", []),
    )
    print(
        f"summary: {args.agents} agents ({'quiet' if result['quiet'] else 'legacy'}, "
        f"keep-alive {args.keepalive}{', fast address kept' if result['fast'] else ''}), "
        f"offered {stats.offered / seconds:.0f}/s served {stats.served / seconds:.0f}/s, "
        f"lease p99 {pct(lease, 0.99) * 1000:.0f} ms (lease calls and completions that lease), "
        f"{'update' if result['quiet'] else 'heartbeat'} p99 {pct(beat, 0.99) * 1000:.0f} ms, "
        f"lost {stats.lost}, log behind p99 {pct(stats.log_lag, 0.99):.1f} s, "
        f"daemon CPU {result['daemon_cpu'] * 100:.0f}%, sim CPU {result['sim_cpu'] * 100:.0f}%"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=275)
    parser.add_argument("--task-s", type=float, default=60.0, help="how long each render lasts")
    parser.add_argument("--protocol", choices=("auto", "legacy", "quiet"), default="auto")
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument(
        "--ramp", type=float, default=10.0, help="agents start spread over this many seconds"
    )
    parser.add_argument("--poll", type=float, default=2.0, help="the legacy agent's poll")
    parser.add_argument(
        "--separate", action="store_true",
        help="quiet agents of protocol 2: a completion, then a lease call (else, from protocol "
        "3, the completion's answer carries the next task)",
    )  # fmt: skip
    parser.add_argument("--request-timeout", type=float, default=10.0)
    parser.add_argument(
        "--keepalive",
        choices=("auto", "on", "off"),
        default="auto",
        help="auto: as the real agent (legacy: kept; quiet: as the daemon's protocol says)",
    )
    parser.add_argument(
        "--daemon-arg", action="append", default=[], help="an argument for the daemon (repeat)"
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_daemon_process(Path(tmp), *args.daemon_arg) as (url, process),
    ):
        admin = local_admin(Path(tmp)).bearer()
        assert admin
        result = asyncio.run(simulate(url, admin, process.pid, args))
    report(result, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
