"""Signing in through the dashboard's form, and a job with real frame files on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from common.accounts import Role, UserCreate
from common.models import AgentRegistration, JobSpec, TaskDone
from daemon.app import Services
from daemon.auth.principal import Principal
from daemon.web.session import CSRF_COOKIE
from tests.daemon.auth.world import World

PASSWORD = "dashboard-pw-1"
ROOT = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)


def csrf(client: FlaskClient) -> str:
    """The browser's CSRF token (set by the first page it opened)."""
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie is not None
    return cookie.value


def sign_in(app: Flask, name: str, role: Role = Role.ARTIST) -> FlaskClient:
    """A browser-like client signed in through the form as a new user ``name``."""
    services: Services = app.extensions["cloudburst"]
    services.users.create(UserCreate(name=name, role=role, password=PASSWORD))
    client = app.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf": csrf(client)}
    )
    assert response.status_code == 303, response.data
    return client


def submit(services: Services, owner: str = "ana", frames: str = "1-4", out: Path | None = None,
           chunk: int = 2) -> int:  # fmt: skip
    spec = JobSpec(name=f"{owner} shot", owner=owner, project="show", scene="/p/s.blend",
                   frames=frames, chunk_size=chunk,
                   output=str((out or Path("/renders/none")) / "f_####"))  # fmt: skip
    return services.jobs.submit(spec).id


def render_all(services: Services, out: Path, colour: str = "orange") -> list[Path]:
    """Plays an agent that leases every task and reports PNG frames written to ``out``."""
    agent = services.enrollment.register(AgentRegistration(name="node01", hostname="n1"), ROOT)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    while (task := services.agents.lease(agent.id)) is not None:
        paths = []
        for frame in task.frames:
            path = out / f"f_{frame:04d}.png"
            Image.new("RGB", (320, 180), colour).save(path)
            paths.append(str(path))
        written += [Path(p) for p in paths]
        services.agents.complete(agent.id, task.task_id, TaskDone(attempt=task.attempt,
                                                                  outputs=paths))  # fmt: skip
    return written


def render_frames(world: World) -> None:
    """Completes the role matrix's leased task with two real PNG frames."""
    out = world.services.context.settings.data_dir.parent / "frames"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in (1, 2):
        Image.new("RGB", (64, 36), "teal").save(out / f"f_{frame:04d}.png")
        paths.append(str(out / f"f_{frame:04d}.png"))
    done = TaskDone(attempt=world.attempt, outputs=paths)
    world.services.agents.complete(world.agent_id, world.task_id, done)


def browser_sign_in(page: Any, url: str, name: str, target: str) -> list[str]:
    """Signs ``name`` in through the form of a Chromium ``page`` and waits for ``target``;
    returns the list that collects the page's Content Security Policy complaints."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content" in m.text else None)
    page.goto(f"{url}/login?next={target}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{target}")
    return violations
