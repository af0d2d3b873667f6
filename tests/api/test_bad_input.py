"""No 500 for any input (issue 14, CONTRACT.md "Security rules that must hold"): text
with NUL characters or lone surrogates and NaN/Infinity are refused at the edge with a
422 naming the field; integer parameters are bounded (404 for an id that cannot exist,
422 for an offset or cursor); a script's unstorable value fails its step; an export
validates its filters before a byte and records itself only when it can go out; and
every operation's documented 422 is the body a real 422 has."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from engine.db import unit_of_work
from engine.history import export as history_export
from engine.models import HistoryEvent
from tests.api.test_openapi import _conforms, _resolve
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import Browser

JSON = {"content-type": "application/json"}
COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "category": "quality",
    "description": "卫生间漏水",
}


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def _fields(r: Any) -> set[str]:
    assert r.status_code == 422, (r.status_code, r.text)
    return {p["field"] for p in r.json()["detail"]}


# ---------------------------------------------------------------- text at the edge

TEXT_CASES = [
    # (user, method, path, keywords, the field the 422 names)
    ("gm", "get", "/customers", {"params": {"q": "a\x00b"}}, "q"),
    ("gm", "get", "/customers", {"params": {"project": "\x00"}}, "project"),
    ("cs1", "get", "/tasks", {"params": {"process_key": "a\x00"}}, "process_key"),
    ("audit", "get", "/audit/events", {"params": {"actor": "a\x00"}}, "actor"),
    ("audit", "get", "/audit/export", {"params": {"customer": "a\x00"}}, "customer"),
    ("cs1", "get", "/tasks/a%00b", {}, "task_id"),
    ("gm", "get", "/instances/a%00b/history", {}, "instance_id"),
    ("cs1", "get", "/processes/a%00/form", {}, "key"),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"variables": {"description": "\\ud800"}}', "headers": JSON},
        "variables.description",
    ),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"text": "\\udfff x"}', "headers": JSON},
        "text",
    ),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"variables": {"description": "a\\u0000b"}}', "headers": JSON},
        "variables.description",
    ),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"variables": {"items": ["ok", "\\u0000"]}}', "headers": JSON},
        "variables.items.1",
    ),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"business_key": "a\\u0000"}', "headers": JSON},
        "business_key",
    ),
    (
        "cs1",
        "post",
        "/processes/complaint_handling/instances",
        {"content": '{"variables": {"x\\u0000": 1}}', "headers": JSON},
        "variables.x\\0",
    ),
]


@pytest.mark.parametrize(("user", "method", "path", "kw", "field"), TEXT_CASES)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(
    api: Api, user: str, method: str, path: str, kw: dict[str, Any], field: str
) -> None:
    r = getattr(api, method)(path, user, **kw)
    assert _fields(r) == {field}
    message = r.json()["detail"][0]["message"]
    assert "NUL" in message or "surrogate" in message


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused(api: Api, number: str) -> None:
    r = api.post(
        "/processes/complaint_handling/instances",
        "cs1",
        content='{"variables": {"cost": ' + number + "}}",
        headers=JSON,
    )
    assert _fields(r) == {"variables.cost"}
    assert "finite" in r.json()["detail"][0]["message"]


def test_json_nested_too_deep_is_refused(api: Api) -> None:
    deep = '{"variables": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    r = api.post("/processes/complaint_handling/instances", "cs1", content=deep, headers=JSON)
    assert r.status_code in (400, 422), r.text
    r = api.post(
        "/processes/complaint_handling/instances",
        "cs1",
        content='{"variables": {"x": ' + "[" * 100 + "]" * 100 + "}}",
        headers=JSON,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"].startswith("variables.x")
    many = json.dumps({"variables": {"x": ["\x00"] * 1000}})
    r = api.post("/processes/complaint_handling/instances", "cs1", content=many, headers=JSON)
    assert r.status_code == 422 and len(r.json()["detail"]) == 50


def test_a_comment_with_a_nul_character_stores_nothing(api: Api) -> None:
    case = api.start("cs1", "complaint_handling", COMPLAINT).json()
    task = case["open_tasks"][0]["id"]
    r = api.post(f"/tasks/{task}/comments", "cs1", json={"text": "看\x00看"})
    assert _fields(r) == {"text"}
    assert api.get(f"/tasks/{task}/comments", "cs1").json()["total"] == 0


def test_pages_refuse_nul_in_form_posts_and_queries(api: Api) -> None:
    browser = Browser()
    try:
        browser.get("/login")
        r = browser.post("/login", {"username": "cs1\x00", "password": "x", "next": "/inbox"})
        assert r.status_code == 422 and "username" in r.text and "NUL" in r.text
        assert "<html" in r.text  # a page, not JSON
        browser.sign_in("cs1")
        r = browser.get("/inbox", params={"q": "a\x00"})
        assert r.status_code == 422 and "q" in r.text
        browser.client.cookies.set("lang", "zh-CN")
        r = browser.get("/inbox", params={"project": "a\x00"})
        assert r.status_code == 422 and "不能包含 NUL 字符" in r.text
        r = browser.get("/customers/99999999999")
        assert r.status_code == 404
        assert browser.get("/inbox", params={"page_no": "9" * 30}).status_code == 200
    finally:
        browser.close()


def test_audit_page_bounds_its_numbers(api: Api) -> None:
    browser = Browser()
    try:
        browser.sign_in("audit")
        for params in (
            {"customer_id": "99999999999999999999"},
            {"customer_id": "-2526584701144"},
            {"customer_id": "²"},
        ):
            assert browser.get("/audit", params=params).status_code == 400, params
        for params in ({"after": "9" * 30}, {"limit": "9" * 30}, {"after": "²"}):
            assert browser.get("/audit", params=params).status_code == 200, params
        assert browser.get("/audit/export", params={"customer_id": "9" * 30}).status_code == 400
    finally:
        browser.close()


# ---------------------------------------------------------------- integers

INTEGER_CASES = [
    ("cs1", "post", "/notifications/99999999999/read", {}, 404),
    ("cs1", "post", "/notifications/-99999999999/read", {}, 404),
    ("cs1", "post", "/notifications/0/read", {}, 404),
    ("cs1", "post", "/notifications/" + "9" * 30 + "/read", {}, 404),
    ("gm", "get", "/customers/99999999999", {}, 404),
    ("gm", "get", "/customers/" + "9" * 30, {}, 404),
    ("cs1", "get", "/processes/complaint_handling/versions/99999999999/bpmn", {}, 404),
    ("cs1", "get", "/processes/complaint_handling/versions/-1/bpmn", {}, 404),
    ("cs1", "get", "/tasks", {"params": {"offset": "99999999999999999999"}}, 422),
    ("cs1", "get", "/tasks", {"params": {"offset": "-1"}}, 422),
    ("cs1", "get", "/tasks", {"params": {"limit": "99999999999999999999"}}, 422),
    ("cs1", "get", "/notifications", {"params": {"offset": "99999999999999999999"}}, 422),
    ("gm", "get", "/customers", {"params": {"offset": "99999999999999999999"}}, 422),
    ("audit", "get", "/audit/events", {"params": {"after": "99999999999999999999"}}, 422),
    ("audit", "get", "/audit/events", {"params": {"customer_id": "-2526584701144"}}, 422),
    ("audit", "get", "/audit/events", {"params": {"customer_id": "99999999999"}}, 422),
    (
        "audit",
        "get",
        "/audit/export",
        {"params": {"format": "jsonl", "customer_id": "-2526584701144"}},
        422,
    ),
    ("cs1", "get", "/calendar/99999999999", {}, 422),
]


@pytest.mark.parametrize(("user", "method", "path", "kw", "status"), INTEGER_CASES)
def test_integers_out_of_range_answer_4xx(
    api: Api, user: str, method: str, path: str, kw: dict[str, Any], status: int
) -> None:
    r = getattr(api, method)(path, user, **kw)
    assert r.status_code == status, r.text


@pytest.mark.parametrize(
    "instant", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01"]
)
def test_instants_at_the_ends_of_time_answer_422(api: Api, instant: str) -> None:
    for path, user in (
        ("/audit/events", "audit"),
        ("/audit/export", "audit"),
        ("/reports/sla", "gm"),
    ):
        for name in ("since", "until"):
            r = api.get(path, user, params={name: instant})
            assert _fields(r) == {name}, (path, r.text)
    assert _exports() == 0
    browser = Browser()
    try:
        browser.sign_in("audit")
        assert browser.get("/audit", params={"since": instant}).status_code == 400
    finally:
        browser.close()


def test_the_largest_offset_and_cursor_still_answer(api: Api) -> None:
    biggest = str(2**63 - 1)
    assert api.get("/tasks", "cs1", params={"offset": biggest}).json()["items"] == []
    assert api.get("/customers", "gm", params={"offset": biggest}).json()["items"] == []
    assert api.get("/audit/events", "audit", params={"after": biggest}).json()["items"] == []


# ---------------------------------------------------------------- scripts


@pytest.mark.parametrize(
    ("x", "variable"),
    [
        ("nan", "ratio"),
        ("inf", "ratio"),
        ("-inf", "ratio"),
        ("nul", "label"),
        ("surrogate", "label"),
    ],
)
def test_a_script_leaving_an_unstorable_value_fails_its_step(
    api: Api, x: str, variable: str
) -> None:
    make_user("eng", "staff", department="engineering")
    deploy_fixture("script_nan.bpmn")
    case = api.start("eng", "script_nan").json()
    task = case["open_tasks"][0]["id"]
    r = api.complete("eng", task, {"x": x})
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["element_id"] == "compute" and variable in problem["message"]
    # Nothing of the step was written: the task is still open, and works with a number.
    assert api.get(f"/tasks/{task}", "eng").json()["state"] == "open"
    assert api.complete("eng", task, {"x": "2"}).status_code == 200


# ---------------------------------------------------------------- exports


def _exports() -> int:
    with unit_of_work(write=False) as session:
        return session.execute(
            select(func.count())
            .select_from(HistoryEvent)
            .where(HistoryEvent.type == "history_exported")
        ).scalar_one()


def test_an_export_with_a_bad_filter_answers_422_and_records_nothing(api: Api) -> None:
    for _ in range(2):
        r = api.get(
            "/audit/export", "audit", params={"format": "jsonl", "customer_id": "-2526584701144"}
        )
        assert r.status_code == 422 and _fields(r) == {"customer_id"}
        assert "content-disposition" not in r.headers
    assert _exports() == 0
    r = api.get("/audit/export", "audit", params={"format": "jsonl", "since": "yesterday"})
    assert _fields(r) == {"since"}
    assert _exports() == 0
    r = api.get("/audit/export", "audit", params={"format": "jsonl", "customer_id": "1"})
    assert r.status_code == 200
    assert _exports() == 1


def test_an_export_whose_query_fails_records_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(history_export, "search_conditions", failing)
    client = TestClient(create_app(), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {api.login('audit')}"}
    for _ in range(2):
        r = client.get("/api/v1/audit/export", params={"format": "csv"}, headers=headers)
        assert r.status_code == 500 and "content-disposition" not in r.headers
    assert _exports() == 0
    monkeypatch.undo()
    r = api.get("/audit/export", "audit", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["x-flowdesk-export-event"]
    assert _exports() == 1


def test_a_long_export_reads_every_batch(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_export, "EXPORT_BATCH", 3)
    for _ in range(3):
        api.start("cs1", "complaint_handling", COMPLAINT)
    r = api.get("/audit/events", "audit", params={"limit": 1000})
    seqs = [e["seq"] for e in r.json()["items"]]
    assert len(seqs) > 7
    r = api.get("/audit/export", "audit", params={"format": "jsonl"})
    assert [json.loads(line)["seq"] for line in r.text.splitlines()] == seqs


# ---------------------------------------------------------------- the documented 422


def _probe(doc: dict[str, Any], path: str, method: str) -> tuple[str, dict[str, Any]]:
    """Return a concrete URL for `path` and request keywords with a NUL in a query."""
    operation = doc["paths"][path][method]
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            kind = _resolve(doc, param["schema"]).get("type")
            path = path.replace("{" + param["name"] + "}", "2026" if kind == "integer" else "x")
    return path, {"params": {"probe": "\x00"}}


def test_every_operations_422_is_the_real_body(api: Api) -> None:
    doc = api.client.get("/api/v1/openapi.json").json()
    admin = {"Authorization": f"Bearer {api.login('gm')}"}
    seen = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
            url, kw = _probe(doc, path, method)
            r = api.client.request(method.upper(), url, headers=admin, **kw)
            assert r.status_code == 422, (method, url, r.text)
            assert r.json() == {
                "detail": [{"field": "probe", "message": "must not contain NUL characters"}]
            }
            assert _conforms(doc, r.json(), schema) == [], (method, path)
            seen += 1
            if "requestBody" in operation and "application/json" in operation["requestBody"].get(
                "content", {}
            ):
                r = api.client.request(
                    method.upper(), url, headers={**admin, **JSON}, content='{"x": "\\u0000"}'
                )
                assert r.status_code == 422 and _fields(r) == {"x"}, (method, url)
                assert _conforms(doc, r.json(), schema) == [], (method, path)
    assert seen == sum(len(ops) for ops in doc["paths"].values()) > 30
    upload = {"file": ("a.bpmn", b"<x/>", "text/xml")}
    r = api.client.post("/api/v1/processes", headers=admin, files=upload, data={"note": "\x00"})
    assert _fields(r) == {"note"}
    schema = doc["paths"]["/api/v1/processes"]["post"]["responses"]["422"]
    assert _conforms(doc, r.json(), schema["content"]["application/json"]["schema"]) == []
