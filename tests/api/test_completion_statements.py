"""What a completion through the API sends to the database (issue 18: at most six
statements besides BEGIN and COMMIT): the token's check, one statement that locks the
case and reads it with its tasks and history seqs, the instance and task rows written
once each, the next task inserted, the events inserted — no re-read for the answer,
which carries the case record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from bench.sql_count import classify
from engine.db import get_engine
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user


@contextmanager
def _sent(url: str) -> Iterator[list[tuple[str, str]]]:
    engine = get_engine(url)
    sent: list[tuple[str, str]] = []

    def on_execute(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        sent.append(classify(statement))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_a_completion_sends_six_statements_or_fewer(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    make_user("eric", "staff", department="engineering")
    deploy_fixture("two_lane.bpmn")
    api = Api()
    for user in ("cathy", "eric"):  # tokens issued and their actors known before counting
        assert api.get("/tasks", user).status_code == 200
    [intake] = api.start("cathy", "two_lane").json()["open_tasks"]
    with _sent(db_url) as first:
        r = api.complete("cathy", intake["id"], {"note": "已回电"})
    assert r.status_code == 200, r.text
    [review] = r.json()["instance"]["open_tasks"]
    assert [s["element_id"] for s in r.json()["instance"]["steps"]] == [intake["element_id"]]
    with _sent(db_url) as last:
        r = api.complete("eric", review["id"], {"approved": True})
    assert r.status_code == 200, r.text
    assert len(r.json()["instance"]["steps"]) == 2
    sqlite = db_url.startswith("sqlite")
    begin = [("BEGIN", "")] if sqlite else []  # SQLite's BEGIN IMMEDIATE is flowdesk's
    lock = ("SELECT", "history_event+instance+task" if sqlite else "instance+generate_series+task")
    common = [("SELECT", "app_user"), *begin, lock, ("UPDATE", "instance"), ("UPDATE", "task")]
    assert first == [*common, ("INSERT", "task"), ("INSERT", "history_event")]
    assert last == [*common, ("INSERT", "history_event")]
    assert len([s for s in first if s[0] != "BEGIN"]) == 6
