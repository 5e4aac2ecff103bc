"""The served demo (issue 7): the real `bhum demo --no-serve --members 600` into a temporary data dir,
then the app `bhum serve` runs (``build_app`` over that store) on uvicorn, driven in Chromium as the
demo users. Screenshots of the main pages with the demo's data go to docs/screenshots/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bhum.bootstrap import Application, bootstrap
from bhum.config import Settings
from bhum.entrypoints.api.main import build_app
from bhum.services.auth_records import auth_records
from tests.browser.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser
DEMO_PASSWORD = "bhum-demo-2026"  # printed by `bhum demo` (synthetic store only)
REQUEST_LINK = re.compile(r"/web/requests/([A-Za-z0-9._-]+)$")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BHUM_")}
    env.update(
        {
            "BHUM_DATA_DIR": str(data_dir),
            "BHUM_SECRET_KEY": "browser-demo-secret",
            "BHUM_LOG_LEVEL": "WARNING",
        }
    )
    return env


@pytest.fixture(scope="module")
def demo(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Application]]:
    """``browser`` first: without Chromium the suite skips before the demo's batch runs."""
    data_dir = tmp_path_factory.mktemp("demo")
    bhum = Path(sys.executable).with_name("bhum")
    done = subprocess.run(
        [str(bhum), "demo", "--no-serve", "--members", "600"],
        cwd=data_dir, env=_env(data_dir), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo.reviewer" in done.stdout and "demo.provider" in done.stdout
    application = bootstrap(Settings.from_env(_env(data_dir)), log_level="WARNING")
    with Server(build_app(application)) as server:
        yield server, application
    application.database.dispose()


def sign_in(page: Any, server: Server, username: str) -> None:
    page.goto(f"{server.url}/web/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/web/")


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Long tables (claim lines, flags) are shot at the window's height to keep the files small."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_reviewer_sees_the_pended_demo_requests(page: Any, demo: tuple[Server, Application]) -> None:
    """REG-01/REG-03: the demo's pended requests wait in the clinical reviewer's queue, each with its
    clock; the one the demo physician denied is not there."""
    server, application = demo
    sign_in(page, server, "demo.reviewer")
    shot(page, "demo-home-reviewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()
    page.wait_for_url(f"{server.url}/web/queue")
    links = [page.locator("main a[href^='/web/requests/']").nth(i).get_attribute("href")
             for i in range(page.locator("main a[href^='/web/requests/']").count())]  # fmt: skip
    queued = [m.group(1) for href in links if href and (m := REQUEST_LINK.search(href))]
    assert queued, "the demo left no pended request in the queue"
    with application.uow_factory() as uow:
        records = {rid: auth_records(uow).get_request(rid) for rid in queued}
    statuses = {rid: r.status.value if r else None for rid, r in records.items()}
    assert set(statuses.values()) == {"pended"}, statuses
    assert all(rid.startswith("DEMO-REQ-") for rid in queued)
    shot(page, "demo-work-queue")
    page.locator(f"main a[href='/web/requests/{queued[0]}']").first.click()
    page.wait_for_url(f"{server.url}/web/requests/{queued[0]}")
    assert "pended" in page.locator("main").inner_text()
    shot(page, "demo-request-pended", full_page=False)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outpatient management").click()
    page.wait_for_url(f"{server.url}/web/opm")
    shot(page, "demo-outpatient-management", full_page=False)
    page.locator("main a[href^='/web/opm/cases/']").first.click()
    page.wait_for_url(re.compile(r".*/web/opm/cases/.+"))
    assert page.get_by_role("heading", name="The case").is_visible()
    shot(page, "demo-opm-case")


def test_provider_sees_its_organizations_authorizations(page: Any, demo: tuple[Server, Application]) -> None:
    """A provider user sees exactly its organization's authorizations (MN-04 units), its claim
    decisions and the online request form."""
    server, application = demo
    with application.uow_factory() as uow:
        user = uow.users.get_by_username("demo.provider")
        assert user is not None and user.organization_id
        npis = [p.npi for p in uow.providers.for_organization(user.organization_id)]
        expected = {a.authorization_id for npi in npis for a in uow.authorizations.for_provider(npi)}
    assert expected, "the demo gave the provider's organization no authorization"
    sign_in(page, server, "demo.provider")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Provider portal").click()
    page.wait_for_url(f"{server.url}/web/portal")
    rows = page.locator("section[aria-labelledby='h-auths'] tbody tr")
    shown = {rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())}
    assert shown == expected
    shot(page, "demo-provider-portal")
    page.get_by_role("link", name="Claim decisions").click()
    page.wait_for_url(f"{server.url}/web/portal/claims")
    assert "newest claim check" in page.locator("main").inner_text()
    shot(page, "demo-claim-decisions", full_page=False)
    page.goto(f"{server.url}/web/portal")
    page.get_by_role("link", name="Submit a service request").click()
    page.wait_for_url(f"{server.url}/web/portal/requests/new")
    assert page.get_by_label("Diagnoses (ICD-10-CM, comma separated)").is_visible()
    shot(page, "demo-service-request-form")


def test_case_manager_and_director_pages(page: Any, demo: tuple[Server, Application]) -> None:
    server, _ = demo
    sign_in(page, server, "demo.casemanager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    page.wait_for_url(f"{server.url}/web/caseload")
    assert page.get_by_role("heading", name="Documentation gaps").is_visible()
    shot(page, "demo-caseload")
    page.context.clear_cookies()
    sign_in(page, server, "demo.director")
    page.goto(f"{server.url}/web/dashboards")
    assert page.locator("svg.chart").count() == 5
    shot(page, "demo-dashboards")
