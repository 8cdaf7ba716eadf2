"""The job page of a 10,000-frame job: how long Chromium takes to load it, and one live update.

A real daemon process serves a job of 10,000 one-frame tasks, some of them rendered (leased
and completed over the agent API); headless Chromium (Debian's, through Playwright) signs in
and opens the job's page several times. Prints the navigation timings of each load (first
byte, DOM ready, load event), the page's size, and how long the page's live request
(``/jobs/{id}/live``, every 2.5 s while a page is open) takes.
Usage: ``python bench/job_page.py [--frames 10000] [--done 500] [--loads 7]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import requests
from daemon_process import running_daemon
from playwright.sync_api import sync_playwright

from common.cli.local_admin import local_admin

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-page-pw-1"
TIMING = """() => { const n = performance.getEntriesByType("navigation")[0];
  return [n.responseStart, n.responseEnd, n.domContentLoadedEventEnd, n.loadEventEnd,
          n.transferSize]; }"""


def farm(url: str, token: str, frames: int, done: int) -> int:
    """A user to sign in as, the job, and ``done`` of its tasks rendered; returns the job."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    user = {"name": "bench", "role": "artist", "password": PASSWORD}
    api.post(f"{url}/api/v1/users", json=user, timeout=30).raise_for_status()
    spec = {"name": "big shot", "owner": "bench", "project": "show", "scene": "/p/big.blend",
            "frames": f"1-{frames}", "chunk_size": 1, "output": "/renders/big/f_####"}  # fmt: skip
    answer = api.post(f"{url}/api/v1/jobs", json=spec, timeout=60)
    answer.raise_for_status()
    job_id: int = answer.json()["data"]["id"]
    node = api.post(f"{url}/api/v1/agents", json={"name": "n1", "hostname": "n1"}, timeout=30)
    node.raise_for_status()
    agent, agent_token = node.json()["data"]["id"], node.json()["data"]["token"]
    headers = {"Authorization": f"Bearer {agent_token}"}
    for _ in range(done):
        task = requests.post(f"{url}/api/v1/agents/{agent}/lease", headers=headers, timeout=30)
        task.raise_for_status()
        lease = task.json()["data"]
        body = {"attempt": lease["attempt"], "outputs": []}
        requests.post(
            f"{url}/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete", json=body,
            headers=headers, timeout=30,
        ).raise_for_status()  # fmt: skip
    return job_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--done", type=int, default=500)
    parser.add_argument("--loads", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_daemon(Path(tmp)) as url:
        job_id = farm(url, local_admin(Path(tmp)).bearer() or "", args.frames, args.done)
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            tab = browser.new_page()
            tab.goto(f"{url}/login")
            tab.fill("input[name=username]", "bench")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{url}/jobs")
            loads = []
            for _ in range(args.loads):
                tab.goto(f"{url}/jobs/{job_id}", wait_until="load")
                assert tab.locator("#frames .frame").count() == args.frames
                loads.append(tab.evaluate(TIMING))
            lives = []
            for _ in range(20):
                started = time.perf_counter()
                answer = tab.request.get(f"{url}/jobs/{job_id}/live")
                assert answer.ok, answer.text()
                lives.append((time.perf_counter() - started) * 1000)
            browser.close()
    columns = zip(*loads, strict=True)
    first_byte, _, ready, loaded, size = (statistics.median(column) for column in columns)
    worst = max(load[3] for load in loads)
    print(f"{args.frames} frames ({args.done} done), {args.loads} loads; {os.cpu_count()} cores,"
          f" load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"  page {size / 1024:.0f} KiB; first byte {first_byte:.0f} ms, DOM ready {ready:.0f} ms,"
          f" load event {loaded:.0f} ms (median; slowest load {worst:.0f} ms)")  # fmt: skip
    print(f"  live update: median {statistics.median(lives):.0f} ms, max {max(lives):.0f} ms")
    print(f"summary: 10,000-frame job page loads in {loaded:.0f} ms (goal < 1000 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
