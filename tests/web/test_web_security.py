"""Sessions, CSRF and page access: cookie flags, CSRF refusal on every POST form, session expiry and
sign-out on the server, scope refusals audited, no open redirect, declarations enforced at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from bhum.domain.access import AuditAction, Permission
from bhum.entrypoints.api.security import requires
from bhum.entrypoints.web import WebOptions, create_web_app
from bhum.entrypoints.web.security import csrf_protect, undeclared_web_routes
from bhum.entrypoints.web.sessions import DEFAULT_SESSION_TTL, SESSION_COOKIE
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import MEMBER_A, MEMBER_B, PASSWORD, World

WEB_DIR = Path(__file__).resolve().parents[2] / "src" / "bhum" / "entrypoints" / "web"


def _users(world: World) -> set[str]:
    with world.uow() as uow:
        return {u.username for u in uow.users.list()}


def test_session_cookie_is_httponly_lax_and_secure_when_configured(world: World) -> None:
    for secure in (False, True):
        app = create_web_app(world.deps(), WebOptions(cookie_secure=secure))
        with TestClient(app, base_url="https://testserver" if secure else "http://testserver") as client:
            form = client.get("/web/login")
            response = client.post(
                "/web/login",
                data={"username": "auditor", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
                follow_redirects=False,
            )
            cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie
            assert ("Secure" in cookie) is secure


def test_failed_sign_in_says_the_same_whatever_failed(client: TestClient) -> None:
    for username, password in (("auditor", "wrong password!"), ("nobody-here", PASSWORD)):
        form = client.get("/web/login")
        response = client.post(
            "/web/login", data={"username": username, "password": password, "csrf_token": csrf_of(form.text)}
        )
        assert response.status_code == 401
        assert "invalid username or password" in response.text
        assert SESSION_COOKIE not in response.cookies


def test_sign_in_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/web/login")
    response = client.post("/web/login", data={"username": "auditor", "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_post_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, "admin")
    form = {"username": "csrf-victim", "display_name": "V", "role": "intake"}
    for token in (None, "forged", csrf[:-1]):
        data = dict(form) if token is None else dict(form, csrf_token=token)
        response = client.post("/web/users", data=data)
        assert response.status_code == 403
        assert "csrf-victim" not in _users(world)
    assert client.post("/web/users", data=dict(form, csrf_token=csrf)).status_code == 201
    assert "csrf-victim" in _users(world)


def test_csrf_token_of_another_session_is_refused(client: TestClient, world: World) -> None:
    with TestClient(create_web_app(world.deps()), follow_redirects=False) as other:
        other_csrf = sign_in(other, "admin")
    sign_in(client, "admin")
    response = client.post(
        "/web/users", data={"username": "cross-session", "display_name": "X", "role": "intake",
                            "csrf_token": other_csrf},
    )  # fmt: skip
    assert response.status_code == 403
    assert "cross-session" not in _users(world)


def test_cookie_alone_cannot_change_data_through_the_json_api(client: TestClient, world: World) -> None:
    """A session cookie authenticates API reads; an API write needs the X-CSRF-Token header too."""
    csrf = sign_in(client, "admin")
    assert client.get("/me").status_code == 200
    body = {"username": "api-by-cookie", "display_name": "C", "roles": ["intake"]}
    assert client.post("/users", json=body).status_code == 401
    assert "api-by-cookie" not in _users(world)
    assert client.post("/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    csrf = sign_in(client, "auditor")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.post("/web/logout", data={}).status_code == 403  # sign-out is a POST with CSRF too
    assert client.get("/web/").status_code == 200
    response = client.post("/web/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/web/login"
    # A copy of the old cookie no longer opens anything: its token was revoked.
    client.cookies.set(SESSION_COOKIE, cookie or "")
    response = client.get("/web/audit")
    assert response.status_code == 303 and response.headers["location"].startswith("/web/login")
    assert client.get("/me").status_code == 401


def test_session_expires_after_its_lifetime_by_the_application_clock(
    client: TestClient, world: World
) -> None:
    start = world.clock.now
    try:
        sign_in(client, "auditor")
        world.clock.advance(DEFAULT_SESSION_TTL - timedelta(seconds=1))
        assert client.get("/web/").status_code == 200
        world.clock.advance(timedelta(seconds=1))  # at expires_at the session is over
        response = client.get("/web/audit?actor=x")
        assert response.status_code == 303
        assert response.headers["location"] == "/web/login?next=/web/audit%3Factor%3Dx"
    finally:
        world.clock.now = start


def test_a_tampered_cookie_is_not_a_session(client: TestClient) -> None:
    sign_in(client, "auditor")
    cookie = client.cookies.get(SESSION_COOKIE) or ""
    client.cookies.set(SESSION_COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/web/").status_code == 303


def test_sign_in_redirects_only_to_this_sites_pages(client: TestClient) -> None:
    for target, expected in (
        ("/web/audit", "/web/audit"),
        ("https://evil.example/", "/web/"),
        ("//evil.example/web/", "/web/"),
        ("/web//evil.example", "/web/"),
    ):
        form = client.get("/web/login")
        response = client.post(
            "/web/login",
            data={
                "username": "auditor",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert response.headers["location"] == expected


def test_provider_user_cannot_open_another_organizations_member_and_the_refusal_is_audited(
    client: TestClient, world: World
) -> None:
    sign_in(client, "prov-own")
    assert client.get(f"/web/members/{MEMBER_A}").status_code == 200
    response = client.get(f"/web/members/{MEMBER_B}")
    assert response.status_code == 403
    assert "Bea" not in response.text  # nothing of the member leaks into the refusal
    with world.uow() as uow:
        refusals = [
            e
            for e in uow.audit.list(member_id=MEMBER_B, limit=10_000)
            if e.action is AuditAction.REFUSE and e.actor == world.user_ids["prov-own"]
        ]
    assert refusals and refusals[-1].reason == "GET /web/members/{member_id}"


def test_member_page_read_is_audited(client: TestClient, world: World) -> None:
    sign_in(client, "clinical")
    assert client.get(f"/web/members/{MEMBER_B}").status_code == 200
    with world.uow() as uow:
        reads = [
            e
            for e in uow.audit.list(member_id=MEMBER_B, limit=10_000)
            if e.action is AuditAction.READ and e.actor == world.user_ids["clinical"]
        ]
    assert reads


def test_pages_send_protective_headers(client: TestClient) -> None:
    sign_in(client, "auditor")
    headers = client.get("/web/").headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]


def test_templates_and_css_load_nothing_from_the_internet() -> None:
    """Pages and charts render offline: no CDN or remote URL in any template or stylesheet."""
    remote = re.compile(r"""(src|href)=["']?(https?:)?//""", re.IGNORECASE)
    for path in [*WEB_DIR.glob("templates/*.html"), WEB_DIR / "static" / "bhum.css"]:
        text = path.read_text(encoding="utf-8")
        assert not remote.search(text), path
        assert "@import" not in text, path
    assert (WEB_DIR / "static" / "htmx.min.js").stat().st_size > 10_000


def test_a_page_without_an_access_declaration_or_csrf_is_caught(world: World) -> None:
    app = create_web_app(world.deps())
    assert undeclared_web_routes(app) == []

    @app.get("/web/leak/{member_id}", include_in_schema=False)
    def leak(member_id: str) -> HTMLResponse:
        return HTMLResponse("")

    @app.post("/web/unguarded", include_in_schema=False)
    def unguarded(request: Request, _: object = Depends(requires(Permission.ACCOUNT_SELF))) -> HTMLResponse:
        return HTMLResponse("")

    @app.post("/web/guarded", dependencies=[Depends(csrf_protect)], include_in_schema=False)
    def guarded(request: Request, _: object = Depends(requires(Permission.ACCOUNT_SELF))) -> HTMLResponse:
        return HTMLResponse("")

    problems = undeclared_web_routes(app)
    assert any(p.startswith("GET /web/leak/{member_id}: 0 access declarations") for p in problems)
    assert any(p.startswith("POST /web/unguarded: a POST page without CSRF") for p in problems)
    assert not any("/web/guarded" in p for p in problems)


@pytest.mark.parametrize("path", ["/web/nope", "/web/members/M%2F..%2Fx"])
def test_unknown_pages_answer_html_not_json(client: TestClient, path: str) -> None:
    sign_in(client, "clinical")
    response = client.get(path)
    assert response.status_code in {404, 422}
    assert response.headers["content-type"].startswith("text/html")
