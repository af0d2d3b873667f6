"""What a bearer token costs per request: one SELECT, outside any transaction, and a
revoked token is refused at once (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from engine import signin
from engine.db import get_engine, unit_of_work
from engine.identity import end_user_sessions, get_user
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user


@contextmanager
def _sent(url: str) -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent through the engine, with whether it ran in a transaction
    (SQLite's BEGIN is a statement flowdesk sends; psycopg's is the autocommit flag)."""
    engine = get_engine(url)
    sent: list[tuple[str, bool]] = []

    def on_execute(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        dbapi = conn.connection.dbapi_connection
        if hasattr(dbapi, "autocommit"):  # psycopg: outside a transaction in autocommit
            in_transaction = not dbapi.autocommit
        else:  # sqlite3: inside one once a BEGIN was sent
            in_transaction = dbapi.in_transaction
        sent.append((" ".join(statement.split()), in_transaction))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_the_epoch_check_is_one_statement_without_a_transaction(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    with unit_of_work(write=False) as s:
        user = get_user(s, "cathy")
        user_id, epoch = user.id, user.session_epoch
    with _sent(db_url) as sent:
        assert signin.token_epoch_ok(user_id=user_id, epoch=epoch)
    assert [q.split()[0] for q, _ in sent] == ["SELECT"]
    assert not any(in_transaction for _, in_transaction in sent)


def test_a_token_user_with_roles_is_one_joined_statement(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    with unit_of_work(write=False) as s:
        user = get_user(s, "cathy")
        user_id, epoch = user.id, user.session_epoch
    with _sent(db_url) as sent:
        actor = signin.token_actor(user_id=user_id, epoch=epoch)
    assert actor is not None and actor.roles == frozenset({"staff"})
    assert actor.department == "customer_service"
    assert len(sent) == 1 and "JOIN user_role" in sent[0][0], sent
    assert not sent[0][1]
    assert signin.token_actor(user_id=user_id, epoch=epoch + 1) is None


def test_a_revoked_token_is_refused_on_the_next_request(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    api = Api()
    assert api.get("/tasks", "cathy").status_code == 200  # the token's actor is cached now
    with unit_of_work() as s:
        end_user_sessions(s, get_user(s, "cathy").id)  # a new password, a deactivation
    assert api.get("/tasks", "cathy").status_code == 401
