"""Screenshots of the web dashboard in headless Chromium, for the README.

``python scripts/dashboard_screenshots.py [--out docs/screenshots]`` writes
``dashboard-<page>.png`` for the sign-in, queue, job, farm and users pages. A real daemon app
runs in this process on a free 127.0.0.1 port with a temporary database; the farm's history
(jobs in every state, agents, frames on disk) is played through the daemon's own services,
with frames drawn by Pillow so that no renderer is needed. Chromium is Debian's
``/usr/bin/chromium`` driven by Playwright (never downloaded).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import waitress
from PIL import Image, ImageDraw

from common.accounts import Role, UserCreate
from common.config import Settings
from common.models import (
    AgentRegistration,
    Gpu,
    Heartbeat,
    JobSpec,
    TaskDone,
    TaskLogChunk,
    TaskProgress,
)
from daemon.app import create_app
from daemon.auth.principal import Principal
from daemon.container import Services, services_of

logger = logging.getLogger("dashboard_screenshots")

ADMIN, PASSWORD = "mara", "mara-screens-1"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ROOT = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)
LOG = (
    "Blender 5.0.1 (hash 5a1f7f0c) \nRead blend: /show/tlk/shots/sh040/lighting_v012.blend\n"
    "Fra:{frame} Mem:412.3M | Syncing Camera\nFra:{frame} Mem:498.0M | Sample 64/128\n"
    "Fra:{frame} Mem:498.0M | Sample 128/128\nSaved: '/renders/tlk/sh040/beauty_{frame:04d}.png'\n"
    " Time: 00:41.37 (Saving: 00:00.08)\n"
)


def frame_picture(path: Path, frame: int, hue: int) -> None:
    """A small stand-in render: a dusk gradient with a ball that moves with the frame."""
    image = Image.new("RGB", (480, 270))
    draw = ImageDraw.Draw(image)
    for y in range(270):
        t = y / 270
        colour = (int(40 + 120 * t + hue), int(50 + 60 * t), int(110 - 40 * t))
        draw.line([(0, y), (480, y)], fill=colour)
    x = 40 + frame * 17 % 400
    draw.ellipse([x, 120, x + 70, 190], fill=(250, 200, 120))
    draw.rectangle([0, 220, 480, 270], fill=(30, 36, 52))
    image.save(path)


def seed(services: Services, renders: Path) -> int:
    """Plays a small farm's afternoon; returns the id of the job worth a screenshot."""
    users = services.users
    users.create(UserCreate(name=ADMIN, role=Role.ADMIN, password=PASSWORD))
    for name, role in [("ana", Role.ARTIST), ("ben", Role.ARTIST), ("tess", Role.TD),
                       ("pam", Role.PRODUCER)]:  # fmt: skip
        users.create(UserCreate(name=name, role=role))
    users.create(UserCreate(name="newcomer", role=Role.ARTIST, active=False))
    users.delete(users.create(UserCreate(name="old.hand", role=Role.ARTIST)).id)
    agents = [
        services.enrollment.register(AgentRegistration(
            name=f"node{n:02d}", hostname=f"rn{n:02d}", cores=32, memory_mb=131072, pool=pool,
            os="linux", tags=tags, gpus=[Gpu(model="NVIDIA RTX A5000", memory_mb=24564)] * gpus,
            dcc_versions={"blender": "4.2.3"}), ROOT)
        for n, pool, gpus, tags in [(1, "local", 1, ["nvme"]), (2, "local", 1, ["nvme"]),
                                    (3, "local", 0, []), (4, "cloud-burst", 0, ["cloud"])]
    ]  # fmt: skip
    for agent, cpu in zip(agents, (12.0, 91.0, 88.0, 3.0), strict=True):
        beat = Heartbeat(cpu_percent=cpu, memory_percent=cpu / 2, disk_free_mb=512_000)
        services.agents.heartbeat(agent.id, beat)
    shots = [("sh010 anim", "ana", "tlk", 6), ("sh040 lighting", "ana", "tlk", 3),
             ("sh020 fx", "ben", "tlk", 0), ("sh030 comp", "ana", "ydd", 0),
             ("sh035 lighting", "ben", "ydd", 0), ("sh050 layout", "pam", "ydd", 0)]  # fmt: skip
    ids = []
    clock = time.time() - 18 * 3600  # the farm's samples, one per step of its day
    for i, (name, owner, project, tasks_done) in enumerate(shots):
        out = renders / name.replace(" ", "_")
        out.mkdir(parents=True, exist_ok=True)
        spec = JobSpec(name=name, owner=owner, project=project,
                       scene=f"/show/{project}/{name}.blend", frames="1-24", chunk_size=4,
                       output=str(out / "beauty_####"), priority=40 + 10 * i)  # fmt: skip
        ids.append(services.jobs.submit(spec).id)
        for _ in range(tasks_done):  # each submitted alone, so the lease takes its tasks
            render_task(services, agents[0].id, out, hue=30 * i)
        services.farm_history.sample(now=clock)
        clock += 3 * 3600
    services.jobs.pause(ids[2])
    services.jobs.cancel(ids[3], "Cancelled by ana: wrong camera.")
    for agent, progress in zip(agents[1:3], (0.62, 0.25), strict=True):
        task = services.agents.lease(agent.id)
        if task is not None:
            update = TaskProgress(attempt=task.attempt, progress=progress)
            services.agents.progress(agent.id, task.task_id, update)
            text = LOG.format(frame=task.frames[0]).split("Saved")[0]
            chunk = TaskLogChunk(attempt=task.attempt, offset=0, text=text)
            services.agents.append_log(agent.id, task.task_id, chunk)
    services.farm_history.sample()
    return ids[1]


def render_task(services: Services, agent_id: str, out: Path, hue: int) -> None:
    """Leases one task and completes it with drawn frames and a Blender-like log."""
    task = services.agents.lease(agent_id)
    assert task is not None
    paths = []
    for frame in task.frames:
        frame_picture(out / f"beauty_{frame:04d}.png", frame, hue)
        paths.append(str(out / f"beauty_{frame:04d}.png"))
    text = "".join(LOG.format(frame=frame) for frame in task.frames)
    services.agents.append_log(agent_id, task.task_id,
                               TaskLogChunk(attempt=task.attempt, offset=0, text=text))  # fmt: skip
    services.agents.complete(agent_id, task.task_id, TaskDone(attempt=task.attempt, outputs=paths))


def shoot(url: str, job_id: int, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page: Any = browser.new_page(viewport={"width": 1280, "height": 800})
        pages = [("login", "/login"), ("queue", "/jobs"), ("job", f"/jobs/{job_id}"),
                 ("farm", "/farm"), ("users", "/users")]  # fmt: skip
        for name, path in pages:
            page.goto(url + path)
            if name == "login":
                page.fill("input[name=username]", ADMIN)
                saved.append(out / "dashboard-login.png")
                page.screenshot(path=str(saved[-1]))
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(url + "/jobs")
                continue
            page.wait_for_load_state("networkidle")
            saved.append(out / f"dashboard-{name}.png")
            page.screenshot(path=str(saved[-1]), full_page=True)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp) / "data"))
        job_id = seed(services_of(app), Path(tmp) / "renders")
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
            for path in shoot(url, job_id, args.out):
                print(path)
        finally:
            server.close()


if __name__ == "__main__":
    main()
