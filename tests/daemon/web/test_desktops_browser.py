"""The desktops pages in real headless Chromium, against a daemon served by waitress: an artist
starts a desktop, connects (a one-time token shown), snapshots it, ends it with a snapshot and
starts again from that snapshot; the pages need nothing their Content Security Policy forbids.

The two pages are photographed on the way (``dashboard-sessions.png``,
``dashboard-snapshots.png``): into the test's folder, or into ``$SCREENSHOTS_DIR`` when set
(``SCREENSHOTS_DIR=docs/screenshots pytest tests/daemon/web/test_desktops_browser.py`` takes
the README's again).
"""

from __future__ import annotations

import os
from pathlib import Path

from common.accounts import Role, UserCreate
from tests.daemon.web.desks import Desks
from tests.daemon.web.helpers import PASSWORD, browser_sign_in
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = needs_chromium


def test_an_artist_works_a_day_on_a_cloud_desktop(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    desks = Desks(tmp_path)
    desks.services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    shots = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with serve(desks.app, threads=8) as url, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            page.on("dialog", lambda dialog: dialog.accept())  # the End buttons ask first
            complaints = browser_sign_in(page, url, "ana", "/sessions")

            page.select_option("select[name=profile]", "std")
            page.fill("input[name=duration_h]", "8")
            with page.expect_navigation():
                page.click("#start button[type=submit]")
            row = page.locator("tr[data-session]")
            assert row.count() == 1 and "provisioning" in row.inner_text()
            first = int(row.get_attribute("data-session") or 0)
            desks.services.sessions.settle()
            desks.ready(first, url)

            page.goto(f"{url}/sessions")
            assert "10.0.0.7:8443" in page.locator(f"tr[data-session='{first}']").inner_text()
            with page.expect_navigation():
                page.click(f"tr[data-session='{first}'] button[data-action=connect]")
            token = page.locator("[data-field=token]").inner_text()
            assert token.startswith("cbc_") and token not in page.url
            assert desks.audit_actions(first)[-1] == "session.token"

            with page.expect_navigation():
                page.click("nav >> text=Desktops")
            assert page.locator("[data-field=token]").count() == 0  # shown on the answer only
            with page.expect_navigation():
                page.click("text=Snapshots")
            page.select_option("select[name=session_id]", str(first))
            page.fill("input[name=description]", "before the lighting pass")
            page.check("input[name=schedule]")
            with page.expect_navigation():
                page.click(".desktop-form button[type=submit]")
            taken = page.locator("tr[data-snapshot]")
            assert taken.count() == 1 and "before the lighting pass" in taken.inner_text()
            assert taken.get_attribute("data-state") == "available"

            page.goto(f"{url}/sessions")
            with page.expect_navigation():
                page.click(f"tr[data-session='{first}'] button[data-action=end-snapshot]")
            ending = page.locator(f"tr[data-session='{first}']")
            assert ending.get_attribute("data-state") == "ending"
            desks.clock.advance(desks.services.context.settings.sessions.end_grace_s + 1)
            desks.services.sessions.run_pass()
            end_snapshot = desks.session(first).end_snapshot_id
            assert desks.session(first).state == "ended" and end_snapshot is not None

            page.goto(f"{url}/snapshots")
            assert page.locator("tr[data-snapshot]").count() == 2
            page.screenshot(path=str(shots / "dashboard-snapshots.png"), full_page=True)
            with page.expect_navigation():
                page.click(f"tr[data-snapshot='{end_snapshot}'] a[data-action=restore]")
            chosen = page.locator("select[name=snapshot_id]").input_value()
            assert chosen == str(end_snapshot)
            with page.expect_navigation():
                page.click("#start button[type=submit]")
            desks.services.sessions.settle()
            second = max(s.id for s in desks.all_sessions())
            assert second != first and desks.session(second).snapshot_id == end_snapshot
            launch = next(x for x in desks.cloud.launches if x.session_id == second)
            assert launch.restore_backup_id is not None
            desks.ready(second, url)
            page.goto(f"{url}/sessions")
            again = page.locator(f"tr[data-session='{second}']")
            assert f"from snapshot {end_snapshot}" in again.inner_text()
            assert again.get_attribute("data-state") == "ready"
            page.screenshot(path=str(shots / "dashboard-sessions.png"), full_page=True)
            assert complaints == []
        finally:
            chromium.close()
            desks.services.sessions.close()
