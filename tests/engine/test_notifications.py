"""Telling the admins once per key (a computed calendar year, a broken history), at
the cost of an index lookup per round."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.identity import SYSTEM, deactivate_user
from engine.models import Notification
from engine.notifications import notify_admins_once
from tests.fixtures.factories import make_user
from tests.fixtures.statements import statements


def tell() -> tuple[int, list[str]]:
    with statements() as sent, unit_of_work() as session:
        written = notify_admins_once(
            session, kind="calendar_computed", key="2027", data={"year": 2027}
        )
    return written, sent


def test_without_admins_the_check_is_one_query_and_asks_again(db_url: str) -> None:
    written, sent = tell()
    assert written == 0 and len(sent) == 1, sent
    make_user("root", "admin")
    assert tell()[0] == 1  # an admin now: told


def test_admins_told_once_without_scanning_the_notifications(db_url: str) -> None:
    make_user("root", "admin")
    assert tell()[0] == 1
    written, sent = tell()
    assert written == 0
    assert len(sent) == 2 and not any("LIKE" in s.upper() for s in sent), sent
    make_user("root2", "admin")
    assert tell()[0] == 0  # once per key, not once per admin


def test_once_per_key_even_after_the_told_admins_left(db_url: str) -> None:
    make_user("root", "admin")
    assert tell()[0] == 1
    make_user("root2", "admin")
    with unit_of_work() as session:
        deactivate_user(session, username="root", actor=SYSTEM)
    assert tell()[0] == 0
    with unit_of_work(write=False) as session:
        assert session.execute(select(func.count()).select_from(Notification)).scalar_one() == 1
