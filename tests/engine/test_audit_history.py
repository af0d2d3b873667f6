"""The auditor's history: search with every filter and keyset pages, a case's
timeline with its data changes, streamed CSV/JSONL exports (recorded, masked),
and the scheduled incremental verification."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from crm.models import Complaint
from engine import audit, clock
from engine.config import get_settings
from engine.db import get_engine, unit_of_work
from engine.models import HistoryEvent, Notification
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@contextlib.contextmanager
def _at(instant: datetime) -> Iterator[None]:
    """Move the clock of every thread (the API runs in its own) to `instant`."""
    clock.set_global_time(instant)
    try:
        yield
    finally:
        clock.set_global_time(None)


def complaint(name: str = "张伟", phone: str = "13800138000", **extra: object) -> dict:
    return {
        "customer_name": name,
        "phone": phone,
        "project": "滨江壹号",
        "unit": "3栋1502",
        "channel": "hotline",
        "category": "quality",
        "severity": "normal",
        "description": f"卫生间漏水，请回电 {phone}",
        **extra,
    }


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    make_user("root", "admin")
    return api


def _events(api: Api, user: str = "audit", **params: object) -> dict:
    r = api.get("/audit/events", user, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _all_pages(api: Api, **params: object) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        page = _events(api, limit=3, **params, **({"after": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def _two_cases(api: Api) -> tuple[Case, Case]:
    with _at(T0):
        first = Case(api, "cs1", "complaint_handling", complaint())
        first.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电"})
    with _at(T0 + timedelta(hours=2)):
        r = api.start(
            "sales1",
            "lead_follow_up",
            {
                "name": "李娜",
                "phone": "13911112222",
                "project": "滨江壹号",
                "source": "walk_in",
            },
            business_key="LEAD-7",
        )
        assert r.status_code == 201, r.text
        second = Case.__new__(Case)
        second.api, second.id, second.state = api, r.json()["id"], r.json()
    return first, second


def test_search_filters_and_keyset_pages(api: Api) -> None:
    first, second = _two_cases(api)
    everything = _all_pages(api)
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) and seqs[0] == 1
    newest = _all_pages(api, order="desc")
    assert [e["seq"] for e in newest] == seqs[::-1]

    def seqs_of(**params: object) -> set[int]:
        return {e["seq"] for e in _all_pages(api, **params)}

    by_case = seqs_of(instance_id=first.id)
    assert by_case and all(e["instance_id"] == first.id for e in everything if e["seq"] in by_case)
    assert seqs_of(business_key="LEAD-7") == seqs_of(instance_id=second.id)
    assert seqs_of(process_key="lead_follow_up") >= seqs_of(instance_id=second.id)
    assert not seqs_of(process_key="lead_follow_up") & by_case
    with unit_of_work(write=False) as s:
        customer_id = s.execute(
            select(Complaint.customer_id).where(Complaint.instance_id == first.id)
        ).scalar_one()
    assert seqs_of(customer_id=customer_id) == by_case
    # by name or phone, whole or in part, as an auditor knows the customer
    assert seqs_of(customer="张伟") == seqs_of(customer="0013800") == by_case
    assert seqs_of(customer="139") == seqs_of(instance_id=second.id)
    assert seqs_of(customer="nobody") == set()
    assert seqs_of(process="lead_follow_up") == seqs_of(process_key="lead_follow_up")
    assert {e["actor"] for e in _all_pages(api, actor="cs1")} == {"cs1"}
    engineering = _all_pages(api, department="engineering")
    assert engineering and {e["department"] for e in engineering} == {"engineering"}
    assert {e["type"] for e in engineering} == {"task_created"}  # the site survey
    both = _all_pages(api, type="task_created,task_completed")
    assert {e["type"] for e in both} == {"task_created", "task_completed"}
    assert _all_pages(api, type=["task_created", "task_completed"]) == both
    acks = _all_pages(api, element_id="acknowledge_complaint")
    assert [e["type"] for e in acks] == ["task_created", "task_completed"]
    # (the processes were deployed at the real time, long after these cases)
    window = {"since": (T0 + timedelta(hours=1)).isoformat(), "until": "2026-03-03T00:00:00Z"}
    late = _all_pages(api, **window)
    assert late and {e["instance_id"] for e in late} == {second.id}
    early = _all_pages(api, until=(T0 + timedelta(hours=1)).isoformat())
    assert {e["instance_id"] for e in early} == {first.id}
    in_cases = {e["seq"] for e in everything if e["instance_id"]}
    assert {e["seq"] for e in early} | {e["seq"] for e in late} == in_cases
    assert _events(api, business_key="nope")["items"] == []


def test_search_is_for_auditors_and_names_bad_filters(api: Api) -> None:
    assert api.get("/audit/events", "cs1").status_code == 403
    assert api.get("/audit/events", "root").status_code == 200
    r = api.get("/audit/events", "audit", params={"since": "yesterday"})
    assert r.status_code == 422 and "since" in r.text
    r = api.get("/audit/events", "audit", params={"customer_id": "x"})
    assert r.status_code == 422 and "customer_id" in r.text
    r = api.get("/audit/events", "audit", params={"order": "sideways"})
    assert r.status_code == 422 and "order" in r.text


def test_timeline_reconstructs_the_case_from_history(api: Api) -> None:
    with _at(T0):
        case = Case(api, "cs1", "complaint_handling", complaint())
    with _at(T0 + timedelta(hours=1)):
        case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电"})
    # The site survey is left open: warning, breach and escalation in the rounds.
    for hours in (30, 60, 200):
        run_round(T0 + timedelta(hours=hours))
    r = api.get(f"/audit/instances/{case.id}/timeline", "audit")
    assert r.status_code == 200, r.text
    body = r.json()
    instance = body["instance"]
    assert (instance["process_key"], instance["version"]) == ("complaint_handling", 1)
    assert instance["definition"]["content_hash"] and instance["definition"]["deployed_event_seq"]
    events = body["events"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    started = events[0]
    assert started["type"] == "instance_started"
    assert {"name": "phone", "before": None, "after": "13800138000", "added": True} in started[
        "changes"
    ]
    done = next(e for e in events if e["type"] == "task_completed")
    assert done["actor"] == "cs1" and done["actor_department"] == "customer_service"
    assert done["department"] == "customer_service"
    assert done["submitted"] == {"contacted": True, "notes": "已回电"}
    assert {"name": "notes", "before": None, "after": "已回电", "added": True} in done["changes"]
    assert any(c["name"] == "responsible_department" for c in done["changes"])
    assert done["working_seconds"] == 3600  # 09:00 → 10:00 on a working Monday
    assert done["element_name"]["en"]
    sla = [e for e in events if e["type"] in ("sla_warning", "sla_breached", "task_escalated")]
    assert [e["type"] for e in sla][:2] == ["sla_warning", "sla_breached"]
    assert all(e["recipients"] for e in sla)
    escalations = [e for e in sla if e["type"] == "task_escalated"]
    assert [e["level"] for e in escalations] == [1, 2, 3]
    assert escalations[-1]["recipients"] == ["gm"]
    # Replaying the recorded changes gives exactly the case's data.
    assert body["matches_case"] is True
    assert body["variables_from_history"] == case.refresh()["variables"]
    assert api.get(f"/audit/instances/{case.id}/timeline", "cs1").status_code == 403
    assert api.get("/audit/instances/nope/timeline", "audit").status_code == 404


def _export(api: Api, user: str, fmt: str, **params: object):  # type: ignore[no-untyped-def]
    r = api.get("/audit/export", user, params={"format": fmt, **params})
    assert r.status_code == 200, r.text
    return r


def test_csv_export_opens_in_excel_and_is_recorded(api: Api) -> None:
    first, _ = _two_cases(api)
    r = _export(api, "audit", "csv", instance_id=first.id)
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Chinese text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    expected = _all_pages(api, instance_id=first.id)
    assert [int(row["seq"]) for row in rows] == [e["seq"] for e in expected]
    assert rows[0]["type"] == "instance_started" and rows[0]["process_key"] == "complaint_handling"
    data = json.loads(rows[0]["data"])
    assert data["variables"]["project"] == "滨江壹号"
    # Personal data is masked for auditors by default.
    assert data["variables"]["phone"] == "138****8000"
    assert data["variables"]["customer_name"] == "张*"
    assert data["variables"]["description"] == "卫生间漏水，请回电 138****8000"
    assert "13800138000" not in r.content.decode("utf-8-sig")
    assert r.headers["x-flowdesk-masked"] == "true"
    # The export itself is an event: who exported which filter.
    [exported] = _events(api, type="history_exported")["items"]
    assert exported["actor"] == "audit"
    assert exported["seq"] == int(r.headers["x-flowdesk-export-event"])
    assert exported["data"]["filters"] == {"instance_id": first.id}
    assert exported["data"]["format"] == "csv" and exported["data"]["masked"] is True


def test_jsonl_export_streams_every_filtered_event(api: Api) -> None:
    _two_cases(api)
    r = _export(api, "audit", "jsonl", order="desc", type="task_created")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    expected = _all_pages(api, order="desc", type="task_created")
    assert [e["seq"] for e in lines] == [e["seq"] for e in expected]
    assert all(e["type"] == "task_created" for e in lines)
    assert api.get("/audit/export", "cs1", params={"format": "csv"}).status_code == 403
    r = api.get("/audit/export", "audit", params={"format": "xml"})
    assert r.status_code == 422 and "format" in r.text


def test_roles_allowed_by_configuration_see_personal_data(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = _two_cases(api)
    monkeypatch.setenv("FLOWDESK_EXPORT_UNMASKED_ROLES", "admin")
    get_settings.cache_clear()
    try:
        whole = _export(api, "root", "jsonl", instance_id=first.id)
        masked = _export(api, "audit", "jsonl", instance_id=first.id)
    finally:
        get_settings.cache_clear()
    assert whole.headers["x-flowdesk-masked"] == "false"
    assert json.loads(whole.text.splitlines()[0])["data"]["variables"]["phone"] == "13800138000"
    assert json.loads(masked.text.splitlines()[0])["data"]["variables"]["phone"] == "138****8000"


def test_scheduled_check_verifies_new_events_and_tells_admins_once(api: Api) -> None:
    _two_cases(api)
    run_round(T0 + timedelta(hours=3))
    check = api.get("/audit/verify/scheduled", "audit").json()
    head = _events(api, order="desc", limit=1)["items"][0]["seq"]
    assert check["ok"] is True and check["verified_through"] == head
    # Someone edits an event the check has not seen yet, and one it has.
    with _at(T0 + timedelta(hours=4)):
        Case(api, "cs1", "complaint_handling", complaint("王芳", "13700001111"))
    with get_engine().begin() as conn:
        conn.execute(
            text("UPDATE history_event SET actor = 'mallory' WHERE seq = :s"), {"s": head + 2}
        )
    for _ in range(2):
        run_round(T0 + timedelta(hours=5))
    check = api.get("/audit/verify/scheduled", "audit").json()
    assert (check["ok"], check["first_bad_seq"], check["verified_through"]) == (
        False,
        head + 2,
        head + 1,
    )
    with unit_of_work(write=False) as s:
        notes = s.execute(select(Notification).where(Notification.kind == "history_broken")).all()
    assert len(notes) == 1  # the admin, once, however many rounds see it
    full = api.get("/audit/verify", "audit").json()
    assert (full["ok"], full["first_bad_seq"]) == (False, head + 2)
    assert full["first_bad_event"]["actor"] == "mallory"


def test_rewriting_verified_history_is_caught(api: Api) -> None:
    _two_cases(api)
    run_round(T0 + timedelta(hours=3))
    verified = api.get("/audit/verify/scheduled", "audit").json()["verified_through"]
    # A forger removes the newest events and moves every case's head back consistently.
    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM history_event WHERE seq >= :s"), {"s": verified - 1})
        conn.execute(
            text(
                "UPDATE instance SET history_seq = coalesce((SELECT max(seq) FROM history_event "
                "e WHERE e.chain = instance.id), 0), history_hash = (SELECT hash FROM "
                "history_event e WHERE e.chain = instance.id ORDER BY seq DESC LIMIT 1)"
            )
        )
    full = api.get("/audit/verify", "audit").json()
    assert not full["ok"] and verified - 1 <= full["first_bad_seq"] <= verified
    assert "removed" in full["problem"] or "missing" in full["problem"]


def test_scheduled_check_catches_up_in_bounded_steps(api: Api) -> None:
    _two_cases(api)
    head = _events(api, order="desc", limit=1)["items"][0]["seq"]
    with unit_of_work() as s:
        first = audit.verify_new_events(s, max_events=5)
    assert first is not None and (first.ok, first.events) == (True, 5)
    assert api.get("/audit/verify/scheduled", "audit").json()["verified_through"] == 5
    with unit_of_work() as s:
        rest = audit.verify_new_events(s, max_events=1000)
        total = s.scalar(select(func.count()).select_from(HistoryEvent))
    # seqs may leave gaps (a step's unused seqs, a rolled-back write): events, not seqs
    assert rest is not None and (rest.ok, rest.events) == (True, total - 5)
    assert api.get("/audit/verify/scheduled", "audit").json()["verified_through"] == head
