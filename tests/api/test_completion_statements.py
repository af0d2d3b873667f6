"""What a completion through the API sends to the database (issue 18: at most six
statements besides BEGIN and COMMIT): the token's check, one statement that locks the
case and reads it with its tasks and history seqs, the instance and task rows written
once each, the next task inserted, the events inserted — no re-read for the answer,
which carries the case record."""

from __future__ import annotations

from bench.sql_count import classify
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.statements import statements


def test_a_completion_sends_six_statements_or_fewer(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    make_user("eric", "staff", department="engineering")
    deploy_fixture("two_lane.bpmn")
    api = Api()
    for user in ("cathy", "eric"):  # tokens issued and their actors known before counting
        assert api.get("/tasks", user).status_code == 200
    [intake] = api.start("cathy", "two_lane").json()["open_tasks"]
    with statements(transaction_control=True) as first_sent:
        r = api.complete("cathy", intake["id"], {"note": "已回电"})
    first = [classify(q) for q in first_sent]
    assert r.status_code == 200, r.text
    [review] = r.json()["instance"]["open_tasks"]
    assert [s["element_id"] for s in r.json()["instance"]["steps"]] == [intake["element_id"]]
    with statements(transaction_control=True) as last_sent:
        r = api.complete("eric", review["id"], {"approved": True})
    last = [classify(q) for q in last_sent]
    assert r.status_code == 200, r.text
    assert len(r.json()["instance"]["steps"]) == 2
    sqlite = db_url.startswith("sqlite")
    begin = [("BEGIN", "")] if sqlite else []  # SQLite's BEGIN IMMEDIATE is flowdesk's
    lock = ("SELECT", "history_event+instance+task" if sqlite else "instance+generate_series+task")
    common = [("SELECT", "app_user"), *begin, lock, ("UPDATE", "instance"), ("UPDATE", "task")]
    assert first == [*common, ("INSERT", "task"), ("INSERT", "history_event")]
    assert last == [*common, ("INSERT", "history_event")]
    assert len([s for s in first if s[0] != "BEGIN"]) == 6
