"""`flowdesk user deactivate` keeps the admin API's rule: refused while the user holds
work (exit 1, the counts on stderr, nothing changed), done once it is handed over."""

from __future__ import annotations

import pytest

from cli.main import main
from engine import handover, runtime
from engine.db import unit_of_work
from engine.identity import SYSTEM, get_user
from engine.models import HistoryEvent
from tests.fixtures.factories import deploy_fixture, make_user


def test_deactivate_refuses_a_holder_then_ends_them(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_fixture("owner_follows.bpmn")
    make_user("ann", "staff", department="sales")
    make_user("bob", "staff", department="sales")
    with unit_of_work() as s:
        runtime.start_instance(
            s, process_key="owner_follows", variables={"owner": "ann"}, actor=SYSTEM
        )

    assert main(["user", "deactivate", "ann"]) == 1
    assert "'ann' still holds 1 open tasks and 1 running cases" in capsys.readouterr().err
    with unit_of_work(write=False) as s:
        assert get_user(s, "ann").is_active
        assert not s.query(HistoryEvent).filter_by(type="user_deactivated").count()

    with unit_of_work() as s:
        handover.hand_over(s, username="ann", to="bob", actor=SYSTEM)
    assert main(["user", "deactivate", "ann"]) == 0
    with unit_of_work(write=False) as s:
        assert not get_user(s, "ann").is_active
        [event] = s.query(HistoryEvent).filter_by(type="user_deactivated").all()
        assert (event.actor, event.data["username"]) == ("system", "ann")
