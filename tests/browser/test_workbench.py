"""The workbench as a person uses it, in Chromium: sign in, use the pages of one's role, be refused
another organization's member, sign out. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, Server
from tests.web.world import MEMBER_A, MEMBER_B, OPM_CASE_A, OPM_CASE_B, PASSWORD, PENDED_REQUEST

pytestmark = pytest.mark.browser


def sign_in(page: Any, server: Server, username: str) -> None:
    page.goto(f"{server.url}/web/")
    assert "/web/login" in page.url  # signed-out visitors are sent to sign in
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/web/")


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_page_and_keyboard_only_sign_in(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/web/login")
    shot(page, "sign-in")
    assert page.evaluate("document.activeElement.id") == "username"  # the form has the focus
    page.keyboard.type("auditor")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/web/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    page.keyboard.press("Tab")  # the first stop on every page is the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_director_sees_dashboards_with_charts_drawn_offline(page: Any, server: Server) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, server, "director")
    shot(page, "home-medical-director")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    page.wait_for_url(f"{server.url}/web/dashboards")
    assert page.locator("svg.chart").count() == 5
    assert page.get_by_role("heading", name="CMS-0057-F prior-authorization metrics (REG-02)").is_visible()
    shot(page, "dashboards")
    assert all(url.startswith(server.url) for url in requests), "a page fetched something off the server"


def test_provider_user_cannot_open_another_organizations_member(page: Any, server: Server) -> None:
    sign_in(page, server, "prov-own")
    page.goto(f"{server.url}/web/members/{MEMBER_A}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Member {MEMBER_A}"
    shot(page, "member")
    response = page.goto(f"{server.url}/web/members/{MEMBER_B}")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert "Bea" not in page.content()


def test_auditor_reads_the_audit_log_and_signs_out(page: Any, server: Server) -> None:
    sign_in(page, server, "auditor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{server.url}/web/audit")
    assert page.locator("table.data tbody tr").count() > 0
    shot(page, "audit-log")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/web/login")
    page.goto(f"{server.url}/web/audit")
    assert "/web/login" in page.url


def test_admin_creates_a_user_through_the_form(page: Any, server: Server) -> None:
    sign_in(page, server, "admin")
    page.goto(f"{server.url}/web/users")
    page.get_by_label("Username").fill("new-intake")
    page.get_by_label("Display name").fill("New Intake")
    page.get_by_label("intake").check()
    page.get_by_role("button", name="Create user").click()
    assert page.get_by_role("status").inner_text() == "User new-intake created."
    shot(page, "users")


def test_reviewer_decides_a_pended_iop_request_and_the_letter_appears(page: Any, server: Server) -> None:
    """The queue lists the pended IOP request with its clock (REG-01); the reviewer reads the criteria
    (IOP-05 / IOP-08 open), approves, and the approval letters are queued on the request page."""
    sign_in(page, server, "clinical")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()
    page.wait_for_url(f"{server.url}/web/queue")
    row = page.locator("tr", has=page.get_by_role("link", name=PENDED_REQUEST))
    assert "REG-01" in row.inner_text()
    shot(page, "work-queue")
    row.get_by_role("link", name=PENDED_REQUEST).click()
    page.wait_for_url(f"{server.url}/web/requests/{PENDED_REQUEST}")
    assert page.locator(".badge.unknown, .badge.not-met").count() >= 1  # the open criteria
    letters_before = page.locator("tr.letter").count()
    assert page.get_by_label("Deny (physician reviewers only)").count() == 0  # REG-04
    shot(page, "request-pended")
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"{server.url}/web/requests/{PENDED_REQUEST}?done=decision")
    assert page.get_by_role("status").inner_text() == "Saved: decision."
    assert "approved" in page.locator("dl.facts").inner_text()
    letters = page.locator("tr.letter")
    assert letters.count() > letters_before
    assert any("authorization approval" in text for text in letters.all_inner_texts())
    shot(page, "request-approved")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outpatient management").click()
    page.wait_for_url(f"{server.url}/web/opm")
    assert "awaiting form" in page.locator("tr", has_text=OPM_CASE_B).inner_text()  # OPM-04 due date shown
    shot(page, "outpatient-management")


def test_provider_returns_a_clinical_update_request_form_and_the_case_moves_on(
    page: Any, server: Server
) -> None:
    """OPM-04/06: the provider finds the form it owes in the portal, a wrong answer is refused naming
    the question, the completed form is accepted and the case goes to clinical review."""
    sign_in(page, server, "prov-own")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Provider portal").click()
    page.wait_for_url(f"{server.url}/web/portal")
    assert page.get_by_role("link", name=OPM_CASE_B).count() == 0  # another organization's case
    shot(page, "provider-portal")
    page.get_by_role("link", name=OPM_CASE_A).click()
    page.wait_for_url(f"{server.url}/web/portal/forms/{OPM_CASE_A}")
    page.get_by_label("Current treatment plan").fill("Weekly CBT; medication management monthly.")
    page.get_by_label("Goals (one per line)").fill("Return to work 3 days a week\nSleep 7 hours")
    page.get_by_label("Level of care").select_option("routine_outpatient")
    page.get_by_label("Sessions per week").fill("30")  # more than the service accepts (21)
    page.get_by_label("Minutes per session").fill("53")
    page.get_by_label("Expected end of treatment").fill("2026-06-30")
    page.get_by_label("Progress", exact=True).select_option("improving")
    shot(page, "clinical-update-form")
    page.get_by_label("Current functioning").fill("Working 2 days a week; sleeping better.")
    page.get_by_role("button", name="Return the form").click()
    assert "sessions_per_week" in page.get_by_role("alert").inner_text()  # the question is named
    assert page.get_by_label("Minutes per session").input_value() == "53"  # answers kept
    page.get_by_label("Sessions per week").fill("1")
    page.get_by_label("Coordinated", exact=True).check()
    page.get_by_label("Last contact").fill("2026-02-20")
    page.get_by_role("button", name="Return the form").click()
    page.wait_for_url(f"{server.url}/web/portal?done={OPM_CASE_A}")
    assert OPM_CASE_A in page.get_by_role("status").inner_text()
    row = page.locator("tr.form-row", has_text=OPM_CASE_A)
    assert "in review" in row.inner_text()
    assert row.get_by_role("link").count() == 0  # nothing more to fill in
