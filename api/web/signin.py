"""Signing in and out, and the language the pages speak."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import (
    SIGN_IN,
    PostedFields,
    SessionFormPage,
    Visitor,
    local_path,
    page_router,
    render,
)
from api.web.session import end_session, login_csrf, login_csrf_ok, start_session
from engine import access, identity, signin, texts
from engine.db import unit_of_work
from engine.demo_accounts import demo_accounts
from engine.departments import department_names
from engine.errors import TooManyAttempts

router = page_router()


def _demo_hint(language: str) -> dict[str, object] | None:
    """The demo accounts and their password, on a database the demo seeding made (else
    None: one indexed query); names, roles and departments in the page's language."""
    with unit_of_work(write=False) as session:
        demo = demo_accounts(session)
        if demo is None:
            return None
        departments = department_names(session, language)
    return {
        "password": demo.password,
        "accounts": [
            {
                "username": account.username,
                "name": account.display_name,
                "roles": ("、" if language == "zh-CN" else ", ").join(
                    texts.text(f"role_name_{role}", language) for role in account.roles
                ),
                "department": departments.get(account.department or "", ""),
            }
            for account in demo.accounts
        ],
    }


def _sign_in_page(request: Request, *, status_code: int = 200, **context: object) -> Response:
    """The sign-in form, with its CSRF token (a double-submit cookie before a session),
    and the demo accounts on a demo database."""
    cookie = Response()
    visitor = Visitor(
        request=request,
        language=request.cookies.get("lang") or texts.DEFAULT_LANGUAGE,
        csrf=login_csrf(request, cookie),
    )
    demo = _demo_hint(visitor.language)
    page = render(visitor, "login.html", status_code=status_code, demo=demo, **context)
    page.headers.append("set-cookie", cookie.headers["set-cookie"])
    return page


@router.get(SIGN_IN, response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    return _sign_in_page(request, next=next, error=None)


@router.post(SIGN_IN)
def login(request: Request, fields: PostedFields) -> Response:
    """Sign in and go on to the page asked for: 401 on bad credentials, 403 without the
    form's CSRF token, 429 (with `Retry-After`) while the username is throttled from
    this address."""
    language = request.cookies.get("lang") or texts.DEFAULT_LANGUAGE
    target = local_path(fields.get("next"), "")
    token = fields.get("csrf_token")
    if not login_csrf_ok(request, token if isinstance(token, str) else None):
        return _sign_in_page(
            request, status_code=403, next=target, error=texts.text("csrf", language)
        )
    address = request.client.host if request.client else None
    result = signin.sign_in(
        username=str(fields.get("username", "")),
        password=str(fields.get("password", "")),
        address=address,
        channel="page",
        page=True,
    )
    if result.retry_after is not None:
        page = _sign_in_page(
            request,
            status_code=429,
            next=target,
            error=TooManyAttempts(retry_after=result.retry_after).text_in(language),
        )
        page.headers["Retry-After"] = str(result.retry_after)
        return page
    who = result.signed_in
    if who is None or who.session_id is None:
        return _sign_in_page(
            request, status_code=401, next=target, error=texts.text("bad_credentials", language)
        )
    response = RedirectResponse(target or access.landing_page(who.roles), status_code=303)
    start_session(request, response, who.user_id, who.session_id)
    return response


@router.post("/logout")
def logout(page: SessionFormPage) -> Response:
    """Sign out: the server session ends, so the old cookie opens no page any more."""
    signin.close_session(page.session, page.signed_in.session_id)
    response = RedirectResponse(SIGN_IN, status_code=303)
    end_session(response)
    return response


@router.post("/language")
def set_language(page: SessionFormPage, fields: PostedFields) -> Response:
    """Switch the page language: remembered on the user (an auditor's in a cookie only)."""
    language = fields.get("language")
    if language in texts.LANGUAGES and access.can_write(page.actor):
        identity.set_language(page.session, user_id=page.signed_in.user_id, language=language)
    response = RedirectResponse(local_path(fields.get("back"), "/inbox"), status_code=303)
    response.set_cookie("lang", str(language), samesite="lax", httponly=True, path="/")
    return response
