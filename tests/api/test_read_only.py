"""Auditors change nothing, proven from the app's own route table: every route
that accepts a mutating method — API and page forms, including routes added
after this test was written — answers 403 to an auditor, and the database is
exactly as it was afterwards."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from api.app import create_app
from engine import clock
from engine.db import unit_of_work
from engine.models import Base, Notification
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

SAFE = {"GET", "HEAD", "OPTIONS"}

# Routes an auditor may post to, and why: none of them writes to the database.
EXEMPT = {
    ("POST", "/api/v1/auth/token"): "signing in: there is no actor yet",
    ("POST", "/login"): "signing in: there is no actor yet",
    ("POST", "/logout"): "ends the browser session (a cookie)",
    ("POST", "/language"): "an auditor's page language lives in a cookie",
    ("POST", "/survey/{token}"): "the customer's own answer: the link's token authorises it",
}

# Whatever a route's body needs: the refusal must come before it is even read.
BODY: dict[str, Any] = {
    "variables": {"contacted": True, "notes": "x"},
    "username": "cs2",
    "text": "x",
    "reason": "x",
    "calendar": "standard",
    "holidays": [],
    "workdays": [],
}


def mutating_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the app that is not a safe (read) method."""
    found = set()
    for route in iter_route_contexts(create_app().routes):
        for method in set(getattr(route, "methods", None) or ()) - SAFE:
            found.add((method, str(route.path)))
    return sorted(found)


# An auditor's own sign-in records: signing out ends the server session (not data).
SESSION_TABLES = {"user_session", "signin_attempt"}


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table but the sign-in records."""
    with unit_of_work(write=False) as s:
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in s.execute(select(table))), key=str
            )
            for table in Base.metadata.sorted_tables
            if table.name not in SESSION_TABLES
        }


@pytest.fixture
def world(db_url: str) -> dict[str, str]:
    """A running complaint with an open task, a comment and a notification."""
    api = setup_shipped()
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "quality",
            "description": "漏水",
        },
    )
    [task] = case.open()
    assert api.post(f"/tasks/{task['id']}/comments", "cs1", json={"text": "回电"}).status_code in (
        200,
        201,
    )
    with unit_of_work() as s:
        s.add(
            Notification(
                dedup_key="test:1",
                username="audit",
                kind="history_broken",
                data={},
                created_at=clock.now(),
            )
        )
    with unit_of_work(write=False) as s:
        note_id = s.execute(select(Notification.id)).scalar_one()
    survey = api.post(f"/instances/{case.id}/survey", "cs1").json()["url"]
    return {
        "key": "complaint_handling",
        "process_key": "complaint_handling",
        "decision_id": "complaint_routing",
        "instance_id": case.id,
        "task_id": task["id"],
        "notification_id": str(note_id),
        "year": "2027",
        "code": "customer_service",
        "username": "cs1",
        "handover_id": "1",
        "token": survey.rsplit("/", 1)[1],  # the customer's survey link (no sign-in)
    }


def _path(path: str, samples: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name not in samples:
            pytest.fail(f"{path}: no sample value for path parameter {name!r}; add one to world()")
        return samples[name]

    return re.sub(r"{([^}]+)}", value, path)


def test_the_route_table_is_enumerated() -> None:
    routes = mutating_routes()
    # A sanity floor: the enumeration sees both the API and the page forms.
    assert ("POST", "/api/v1/tasks/{task_id}/complete") in routes
    assert ("POST", "/tasks/{task_id}/complete") in routes
    assert ("PUT", "/api/v1/calendar/{year}") in routes
    assert len(routes) >= 20
    for exempt in EXEMPT:
        assert exempt in routes, f"{exempt} is exempted but no longer exists"


def test_every_mutating_api_route_refuses_auditors(world: dict[str, str]) -> None:
    api = Api()
    api.login("audit")  # signing in records the sign-in (`last_signin_at`), not data
    before = _snapshot()
    checked = []
    for method, path in mutating_routes():
        if (method, path) in EXEMPT or not path.startswith("/api/"):
            continue
        url = _path(path, world).removeprefix("/api/v1")
        r = api.client.request(method, f"/api/v1{url}", json=BODY, headers=api._headers("audit"))
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "read-only" in r.text, (method, path, r.text)
        checked.append(path)
    assert len(checked) >= 10
    assert _snapshot() == before


def test_every_page_form_refuses_auditors(world: dict[str, str]) -> None:
    browser = Browser()
    try:
        browser.sign_in("audit")
        before = _snapshot()
        checked = []
        for method, path in mutating_routes():
            if path.startswith("/api/") or (method, path) in EXEMPT:
                continue
            body = {k: v for k, v in BODY.items() if isinstance(v, str)}
            body["csrf_token"] = browser.csrf
            r = browser.client.request(method, _path(path, world), data=body)
            assert r.status_code == 403, (method, path, r.status_code)
            checked.append(path)
        assert len(checked) >= 7
        # The session-only forms work for auditors and write nothing either.
        r = browser.post("/language", {"language": "en", "back": "/inbox"})
        assert r.status_code == 303
        assert "Inbox" in browser.get("/inbox").text
        assert _snapshot() == before
        assert browser.post("/logout").status_code == 303
        assert _snapshot() == before
    finally:
        browser.close()


def test_pages_offer_auditors_no_mutating_form(world: dict[str, str]) -> None:
    """What an auditor sees has no button that would change data."""
    browser = Browser()
    try:
        browser.sign_in("audit")
        forms = set()
        for page in (
            "/inbox?tab=all",
            f"/cases/{world['instance_id']}",
            f"/tasks/{world['task_id']}",
            "/notifications",
            "/audit",
            f"/audit/cases/{world['instance_id']}",
            "/audit/verify",
        ):
            r = browser.get(page)
            assert r.status_code == 200, (page, r.status_code)
            forms |= set(re.findall(r'<form[^>]*method="post"[^>]*action="([^"?]+)', r.text))
        assert forms <= {path for _, path in EXEMPT}, forms
    finally:
        browser.close()
