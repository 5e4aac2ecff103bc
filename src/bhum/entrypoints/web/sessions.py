"""Web sessions: a signed, HttpOnly cookie carrying a server-side session token and a CSRF token.

A sign-in issues an ordinary API token (``services.access.issue_token``, label ``web session``) whose
expiry is the session's life; the cookie holds that token and a per-session CSRF token, signed with
``Settings.secret_key`` (itsdangerous). Sign-out revokes the token, so a copied cookie dies with the
session. Expiry is judged by the application clock (``deps.clock``), never the wall clock.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.services.access import resolve_token

SESSION_COOKIE = "bhum_session"
LOGIN_CSRF_COOKIE = "bhum_login_csrf"  # double-submit token for the sign-in form (no session yet)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
WEB_PREFIX = "/web"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class WebOptions:
    """How the session cookie is set. ``cookie_secure`` should be True behind HTTPS."""

    cookie_secure: bool = False
    session_ttl: timedelta = DEFAULT_SESSION_TTL


@dataclass(frozen=True, slots=True)
class SessionData:
    token: str  # the server-side session token (an API token, stored hashed)
    csrf: str  # the per-session CSRF token every POST form carries


class SessionCodec:
    """Signs and reads the session cookie (and the sign-in form's CSRF cookie)."""

    def __init__(self, secret_key: str) -> None:
        self._session = URLSafeSerializer(secret_key, salt="bhum.web.session")
        self._login = URLSafeSerializer(secret_key, salt="bhum.web.login-csrf")

    def dumps(self, data: SessionData) -> str:
        return str(self._session.dumps({"t": data.token, "c": data.csrf}))

    def loads(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            raw: Any = self._session.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        token, csrf = raw.get("t"), raw.get("c")
        if not isinstance(token, str) or not isinstance(csrf, str) or not token or not csrf:
            return None
        return SessionData(token=token, csrf=csrf)

    def dumps_login_csrf(self, value: str) -> str:
        return str(self._login.dumps(value))

    def loads_login_csrf(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            raw: Any = self._login.loads(cookie)
        except BadSignature:
            return None
        return raw if isinstance(raw, str) and raw else None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def codec_for(deps: ApiDependencies) -> SessionCodec:
    return SessionCodec(deps.settings.secret_key)


def session_of(request: Request, deps: ApiDependencies) -> SessionData | None:
    cached = request.scope.get("bhum.session")
    if isinstance(cached, SessionData):
        return cached
    data = codec_for(deps).loads(request.cookies.get(SESSION_COOKIE))
    if data is not None:
        request.scope["bhum.session"] = data
    return data


def session_authenticator(request: Request, deps: ApiDependencies) -> Principal | None:
    """The session-cookie authenticator registered in ``ApiDependencies.authenticators``.

    A request without the cookie (or with one whose signature fails) is not this authenticator's
    kind: it returns None. An unsafe method (POST, DELETE ...) is accepted with the cookie only on web
    pages, whose routes check the form's CSRF token, or with an ``X-CSRF-Token`` header equal to the
    session's — so a cookie alone can never change data through the JSON API. A valid cookie whose
    session has expired or was signed out raises ``AuthenticationFailed`` (via ``resolve_token``).
    """
    data = session_of(request, deps)
    if data is None:
        return None
    unsafe = request.method not in SAFE_METHODS and not request.url.path.startswith(WEB_PREFIX + "/")
    if unsafe and not tokens_match(data.csrf, request.headers.get(CSRF_HEADER)):
        return None
    user = resolve_token(deps.uow_factory(), data.token, deps.clock())
    return Principal(user=user, method="session", credential=data.token)
