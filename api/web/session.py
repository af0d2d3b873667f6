"""Browser sessions: a signed, expiring cookie naming a server session (engine/signin.py),
with a CSRF token inside.

The cookie is HttpOnly, SameSite=Lax and Secure when the page is served over
HTTPS. The session itself is a `user_session` row: signing out revokes it, and
the old cookie opens no page any more. Every form carries the session's CSRF
token; a POST without the right one is refused (403). The JSON API keeps its
bearer tokens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.config import get_settings
from engine.secret_key import secret_key

COOKIE = "flowdesk_session"
LOGIN_CSRF_COOKIE = "flowdesk_login_csrf"


@dataclass(frozen=True)
class PageSession:
    user_id: int
    session_id: str
    csrf: str


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt=salt)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def read_session(request: Request) -> PageSession | None:
    """Return the signed-in session of the request, or None (missing, forged or expired)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer("session").loads(raw, max_age=get_settings().token_ttl_seconds)
    except (BadSignature, SignatureExpired):
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("uid"), int)
        or not isinstance(data.get("sid"), str)
    ):
        return None
    return PageSession(user_id=data["uid"], session_id=data["sid"], csrf=str(data.get("csrf", "")))


def start_session(request: Request, response: Response, user_id: int, session_id: str) -> None:
    """Sign the user in: the cookie of server session `session_id`, with a new CSRF token."""
    token = _serializer("session").dumps(
        {"uid": user_id, "sid": session_id, "csrf": secrets.token_urlsafe(24)}
    )
    response.set_cookie(
        COOKIE,
        token,
        max_age=get_settings().token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def login_csrf(request: Request, response: Response) -> str:
    """Return the CSRF token of the sign-in form (a double-submit cookie before a session)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    return token


def login_csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected and submitted and secrets.compare_digest(expected, submitted))


def csrf_ok(session: PageSession, submitted: str | None) -> bool:
    return bool(submitted) and secrets.compare_digest(session.csrf, submitted or "")
