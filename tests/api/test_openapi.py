"""The API describes itself truthfully: every route declares what it answers, the
documented error bodies are the real ones, and /api/docs renders from flowdesk's own
copy of Swagger UI with every outside address blocked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from tests.fixtures.api_client import Api
from tests.fixtures.browser import ARTIFACTS, CHROMIUM
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.shipped import setup_shipped

OPS_PATHS = {"/healthz", "/metrics"}
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def doc() -> Doc:
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as client:
        r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json()


def _api_routes() -> list[tuple[str, APIRoute]]:
    """Return (full path, route) of every JSON API and ops route (prefixes applied)."""
    found = []
    for context in iter_route_contexts(create_app().routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and (path.startswith("/api/v1") or path in OPS_PATHS):
            found.append((path, route))
    return found


def _resolve(doc: Doc, schema: Doc) -> Doc:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _conforms(doc: Doc, value: Any, schema: Doc, at: str = "$") -> list[str]:
    """Return where `value` breaks the JSON schema (the subset pydantic writes)."""
    schema = _resolve(doc, schema)
    if "anyOf" in schema:
        if any(not _conforms(doc, value, option, at) for option in schema["anyOf"]):
            return []
        return [f"{at}: matches none of {schema['anyOf']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} not in {schema['enum']}"]
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is not None and not any(checks[k](value) for k in kinds):
        return [f"{at}: {value!r} is not of type {kind}"]
    problems: list[str] = []
    if kind == "object":
        properties = schema.get("properties", {})
        problems += [f"{at}: no {k!r}" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems += _conforms(doc, item, properties[key], f"{at}.{key}")
            elif extra is False:
                problems.append(f"{at}: undocumented key {key!r}")
            elif isinstance(extra, dict):
                problems += _conforms(doc, item, extra, f"{at}.{key}")
    if kind == "array":
        for i, item in enumerate(value):
            problems += _conforms(doc, item, schema.get("items", {}), f"{at}[{i}]")
    return problems


def _answer_schema(doc: Doc, path: str, method: str, status: int) -> Doc:
    response = doc["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def _assert_documented(doc: Doc, path: str, method: str, r: Any) -> None:
    schema = _answer_schema(doc, path, method, r.status_code)
    assert _conforms(doc, r.json(), schema) == [], (path, r.status_code, r.text)


# ---------------------------------------------------------------- the document


def test_every_route_declares_what_it_answers() -> None:
    routes = _api_routes()
    assert len(routes) > 30
    for path, route in routes:
        if isinstance(route.response_class, DefaultPlaceholder) or issubclass(
            route.response_class, JSONResponse
        ):
            assert route.response_model is not None, f"{path} has no response model"
        else:  # a file, a stream or text: the route says which media types
            content = route.responses.get(200, {}).get("content", {})
            media = getattr(route.response_class, "media_type", None)
            assert content or media, f"{path} declares no media type"
            assert "application/json" not in content, path


def test_documented_422_is_field_and_message(doc: Doc) -> None:
    schemas = doc["components"]["schemas"]
    # FastAPI's own loc/msg/type shape never appears: it is not what flowdesk answers.
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    body = schemas["ValidationErrorResponse"]
    assert body["required"] == ["detail"]
    item = _resolve(doc, body["properties"]["detail"]["items"])
    assert {k: v["type"] for k, v in item["properties"].items()} == {
        "field": "string",
        "message": "string",
    }
    assert sorted(item["required"]) == ["field", "message"]
    seen = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if "422" not in operation["responses"]:
                continue
            seen += 1
            schema = _resolve(doc, _answer_schema(doc, path, method, 422))
            item = _resolve(doc, schema["properties"]["detail"]["items"])
            assert {"field", "message"} <= set(item["properties"]), (path, method)
            assert "loc" not in item["properties"] and "msg" not in item["properties"]
    assert seen > 20


def test_fastapis_own_422_shape_would_not_match(doc: Doc) -> None:
    fastapi_body = {"detail": [{"loc": ["query", "limit"], "msg": "too small", "type": "x"}]}
    schema = {"$ref": "#/components/schemas/ValidationErrorResponse"}
    assert _conforms(doc, fastapi_body, schema) != []
    assert _conforms(doc, {"detail": [{"field": "limit", "message": "too small"}]}, schema) == []


def test_deploy_422_lists_bpmn_problems(doc: Doc) -> None:
    schema = _resolve(doc, _answer_schema(doc, "/api/v1/processes", "post", 422))
    item = _resolve(doc, schema["properties"]["detail"]["items"])
    assert {"element_id", "element_name", "message", "file"} <= set(item["properties"])


def test_signed_in_routes_document_their_refusals(doc: Doc) -> None:
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/v1") or path == "/api/v1/auth/token":
            continue
        for method, operation in operations.items():
            assert "401" in operation["responses"], (path, method)
            if method != "get":  # auditors are refused every change
                assert "403" in operation["responses"], (path, method)
            for status in ("401", "403", "404", "409"):
                if status in operation["responses"]:
                    schema = _answer_schema(doc, path, method, int(status))
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    responses = doc["paths"]["/api/v1/tasks/{task_id}/claim"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(responses)


def test_non_json_answers_say_their_media_type(doc: Doc) -> None:
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
    bpmn = doc["paths"]["/api/v1/processes/{key}/versions/{number}/bpmn"]["get"]
    assert list(bpmn["responses"]["200"]["content"]) == ["application/xml"]
    export = doc["paths"]["/api/v1/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv", "application/x-ndjson"}


# ---------------------------------------------------------------- the real answers


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def test_real_error_bodies_match_the_document(api: Api, doc: Doc) -> None:
    make_user("eng", "staff", department="engineering")
    deploy_fixture("script_guard.bpmn")
    # Request validation: query, path and body fields.
    r = api.get("/tasks", "cs1", params={"limit": 0, "scope": "nobody"})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["detail"]} == {"limit", "scope"}
    _assert_documented(doc, "/api/v1/tasks", "get", r)
    r = api.get("/customers/not-a-number", "gm")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "customer_id"
    _assert_documented(doc, "/api/v1/customers/{customer_id}", "get", r)
    r = api.client.post("/api/v1/auth/token", data={"username": "cs1"})
    assert r.status_code == 422
    _assert_documented(doc, "/api/v1/auth/token", "post", r)
    # Form validation, and a script of the process that fails.
    r = api.start("cs1", "complaint_handling", {"phone": "12", "unknown": 1})
    assert r.status_code == 422 and {"phone", "unknown"} <= {p["field"] for p in r.json()["detail"]}
    _assert_documented(doc, "/api/v1/processes/{key}/instances", "post", r)
    guard = api.start("eng", "script_guard").json()
    r = api.complete("eng", guard["open_tasks"][0]["id"], {})
    assert r.status_code == 422 and r.json()["detail"][0]["element_id"] == "compute"
    _assert_documented(doc, "/api/v1/tasks/{task_id}/complete", "post", r)
    # A file that cannot be deployed, and an upload without a file.
    r = api.deploy("dora", "broken.bpmn", b"<bpmn:definitions")
    assert r.status_code == 422 and r.json()["detail"][0]["file"] == "broken.bpmn"
    _assert_documented(doc, "/api/v1/processes", "post", r)
    r = api.post("/processes", "dora")
    assert r.status_code == 422
    _assert_documented(doc, "/api/v1/processes", "post", r)
    # 401, 403, 404, 409.
    r = api.get("/tasks", None)
    assert r.status_code == 401
    _assert_documented(doc, "/api/v1/tasks", "get", r)
    r = api.get("/audit/verify", "cs1")
    assert r.status_code == 403
    _assert_documented(doc, "/api/v1/audit/verify", "get", r)
    r = api.get("/tasks/nope", "cs1")
    assert r.status_code == 404
    _assert_documented(doc, "/api/v1/tasks/{task_id}", "get", r)
    task = guard["open_tasks"][0]["id"]
    api.post(f"/tasks/{task}/claim", "eng")
    make_user("eng2", "staff", department="engineering")
    r = api.post(f"/tasks/{task}/claim", "eng2")
    assert r.status_code == 409
    _assert_documented(doc, "/api/v1/tasks/{task_id}/claim", "post", r)


def test_real_answers_match_the_document(api: Api, doc: Doc) -> None:
    complaint = {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "category": "quality",
        "description": "卫生间漏水",
    }
    r = api.start("cs1", "complaint_handling", complaint)
    assert r.status_code == 201
    _assert_documented(doc, "/api/v1/processes/{key}/instances", "post", r)
    case = r.json()
    task = case["open_tasks"][0]["id"]
    [customer] = api.get("/customers", "gm").json()["items"]
    answers = [
        ("/api/v1/processes", "get", api.get("/processes", "cs1")),
        (
            "/api/v1/processes/{key}/form",
            "get",
            api.get("/processes/complaint_handling/form", "cs1"),
        ),
        ("/api/v1/tasks", "get", api.get("/tasks", "cs1", params={"scope": "department"})),
        ("/api/v1/tasks/{task_id}", "get", api.get(f"/tasks/{task}", "cs1")),
        ("/api/v1/instances/{instance_id}", "get", api.get(f"/instances/{case['id']}", "gm")),
        (
            "/api/v1/instances/{instance_id}/history",
            "get",
            api.get(f"/instances/{case['id']}/history", "audit"),
        ),
        (
            "/api/v1/tasks/{task_id}/complete",
            "post",
            api.complete("cs1", task, {"contacted": True}),
        ),
        ("/api/v1/customers", "get", api.get("/customers", "gm")),
        ("/api/v1/customers/{customer_id}", "get", api.get(f"/customers/{customer['id']}", "gm")),
        ("/api/v1/reports/funnel", "get", api.get("/reports/funnel", "gm")),
        ("/api/v1/reports/sla", "get", api.get("/reports/sla", "gm")),
        ("/api/v1/notifications", "get", api.get("/notifications", "cs1")),
        ("/api/v1/audit/events", "get", api.get("/audit/events", "audit")),
        (
            "/api/v1/audit/instances/{instance_id}/timeline",
            "get",
            api.get(f"/audit/instances/{case['id']}/timeline", "audit"),
        ),
        ("/api/v1/audit/verify", "get", api.get("/audit/verify", "audit")),
        ("/api/v1/audit/verify/scheduled", "get", api.get("/audit/verify/scheduled", "audit")),
        ("/api/v1/calendar/{year}", "get", api.get("/calendar/2026", "cs1")),
        ("/healthz", "get", api.client.get("/healthz")),
    ]
    for path, method, r in answers:
        assert r.status_code == 200, (path, r.text)
        _assert_documented(doc, path, method, r)


# ---------------------------------------------------------------- the docs page


def test_api_docs_page_references_flowdesk_only(db_url: str) -> None:
    """Every script, style sheet and icon of /api/docs is a path of flowdesk, and each
    one it names is served (Swagger UI from npm, the init file): no outside origin."""
    import re

    api = Api()
    page = api.client.get("/api/docs")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text, "Swagger UI is not installed (npm ci)"
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert "<script>" not in page.text  # no inline script: the CSP allows none
    for ref in refs:
        assert api.client.get(ref).status_code == 200, ref


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="browser tests need Debian's chromium at /usr/bin/chromium (make test installs it)",
)
def test_api_docs_render_with_every_outside_address_blocked(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, _ = server
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    outside: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def only_flowdesk(route) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", only_flowdesk)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(base + "/api/docs")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp and "*" not in csp
    page.locator('.opblock-summary-path[data-path="/api/v1/tasks"]').first.wait_for()
    assert page.get_by_text("/api/v1/tasks", exact=True).first.is_visible()
    assert page.get_by_text("/api/v1/processes/{key}/instances", exact=True).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
    # Open one operation: its documented 422 is flowdesk's, not FastAPI's.
    page.locator('.opblock-summary-path[data-path="/api/v1/tasks"]').first.click()
    page.locator(".responses-table").first.wait_for()
    assert page.locator(".response[data-code='422']").first.is_visible()
    assert outside == [], outside
    assert failed == [], failed
    assert errors == [], errors
    html = page.content()
    assert "cdn" not in html.lower()
