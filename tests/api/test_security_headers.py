"""Security headers on every answer, proven from the app's own route table: every
GET route — pages and API, including routes added after this test was written —
answers (whatever its status) with nosniff, DENY, a same-origin referrer policy,
and every HTML page with a Content-Security-Policy that allows no outside origin."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from api.app import create_app
from api.security_headers import CONTENT_SECURITY_POLICY
from crm.models import Customer
from engine.db import unit_of_work
from tests.api.test_read_only import _path, world  # noqa: F401 - the fixture
from tests.fixtures.api_client import Api
from tests.fixtures.web_client import Browser

STRICT_REFERRERS = {"same-origin", "no-referrer", "strict-origin"}


def get_routes() -> list[str]:
    """Every GET path of the app."""
    found = set()
    for route in iter_route_contexts(create_app().routes):
        if "GET" in (getattr(route, "methods", None) or ()):
            found.add(str(route.path))
    return sorted(found)


def outside_sources(policy: str) -> list[str]:
    """The sources of a CSP that name another origin (a scheme, a host or `*`)."""
    bad = []
    for directive in filter(None, (d.strip() for d in policy.split(";"))):
        name, *sources = directive.split()
        for source in sources:
            quoted = source.startswith("'") and source.endswith("'")
            if not quoted and source not in ("data:",):
                bad.append(f"{name} {source}")
    return bad


def assert_secured(r, what: str) -> None:  # type: ignore[no-untyped-def]
    assert r.headers.get("x-content-type-options") == "nosniff", what
    assert r.headers.get("x-frame-options") == "DENY", what
    assert r.headers.get("referrer-policy") in STRICT_REFERRERS, what
    if r.headers.get("content-type", "").startswith("text/html"):
        policy = r.headers.get("content-security-policy", "")
        assert policy, f"{what}: an HTML page without a CSP"
        assert not outside_sources(policy), (what, policy)
        assert "frame-ancestors 'none'" in policy, what
        assert "'unsafe-eval'" not in policy, what
        scripts = re.search(r"script-src ([^;]*)", policy)
        assert scripts and "'unsafe-inline'" not in scripts.group(1), (what, policy)


def test_the_policy_itself_allows_no_outside_origin() -> None:
    assert outside_sources(CONTENT_SECURITY_POLICY) == []
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert outside_sources("img-src https: *; script-src http://x.example") == [
        "img-src https:",
        "img-src *",
        "script-src http://x.example",
    ]


def test_every_page_route_answers_with_the_headers(world: dict[str, str]) -> None:  # noqa: F811
    with unit_of_work(write=False) as s:
        world = {
            **world,
            "customer_id": str(s.execute(select(Customer.id)).scalars().first()),
            "number": "1",  # a version (the designer's heat map reads)
            "section_key": "sla",  # a report's download (/reports/{section_key}.csv)
        }
    pages = [p for p in get_routes() if not p.startswith("/api/v1")]
    assert {"/login", "/inbox", "/tasks/{task_id}", "/cases/{instance_id}", "/audit"} <= set(pages)
    anonymous = Browser()
    try:
        for path in pages:
            assert_secured(anonymous.get(_path(path, world)), f"anonymous {path}")
    finally:
        anonymous.close()
    html = 0
    for username in ("cs1", "audit"):
        browser = Browser()
        try:
            browser.sign_in(username)
            for path in pages:
                r = browser.get(_path(path, world))
                assert_secured(r, f"{username} {path} ({r.status_code})")
                html += r.headers.get("content-type", "").startswith("text/html")
            # Errors and static files too.
            assert_secured(browser.get("/tasks/999999"), "a missing task")
            assert_secured(browser.get("/no-such-page"), "an unknown path")
            assert_secured(browser.get("/static/flowdesk.css"), "a stylesheet")
        finally:
            browser.close()
    assert html >= 15


def test_every_api_route_answers_with_the_headers(world: dict[str, str]) -> None:  # noqa: F811
    world = {**world, "customer_id": "1", "number": "1"}
    api = Api()
    routes = [p for p in get_routes() if p.startswith("/api/v1")]
    assert len(routes) >= 15
    for path in routes:
        url = _path(path, world)
        assert_secured(api.client.get(url, headers=api._headers("audit")), url)
        assert_secured(api.client.get(url), f"anonymous {url}")
    r = api.client.get("/api/v1/tasks?offset=x", headers=api._headers("cs1"))
    assert r.status_code == 422
    assert_secured(r, "a refused query")


@pytest.mark.parametrize("path", ["/api/docs", "/api/v1/openapi.json", "/healthz"])
def test_docs_and_operations_answer_with_the_headers(db_url: str, path: str) -> None:
    api = Api()
    r = api.client.get(path)
    assert r.status_code == 200
    assert_secured(r, path)


def test_an_unexpected_error_answers_with_the_headers(db_url: str) -> None:
    from fastapi.testclient import TestClient

    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert_secured(r, "a 500")
