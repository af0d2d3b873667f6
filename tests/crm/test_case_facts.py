"""The case facts the vertical keeps for the inbox (customer, phone, project, unit, the
customer record's id), from its step hook and, for older cases, from migration 0006."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import select

from crm.models import Complaint, Customer, Lead
from engine import queries, runtime
from engine.db import dispose_engines, unit_of_work
from engine.definitions import deploy_folder
from engine.identity import SYSTEM, Actor
from engine.migrations import alembic_config
from engine.models import CaseFact, Task
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES

COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "unit": "3栋1502",
    "category": "quality",
    "description": "卫生间漏水",
}


def _start(actor: Actor, key: str, variables: dict[str, Any]) -> str:
    with unit_of_work() as s:
        return runtime.start_instance(
            s, process_key=key, variables=variables, actor=actor
        ).instance.id


def _do(actor: Actor, instance_id: str, element_id: str, variables: dict[str, Any]) -> None:
    with unit_of_work() as s:
        task = s.scalars(
            select(Task).where(
                Task.instance_id == instance_id,
                Task.element_id == element_id,
                Task.state == "open",
            )
        ).one()
        runtime.complete_task(s, task_id=task.id, variables=variables, actor=actor)


def _facts() -> dict[str, tuple[Any, ...]]:
    with unit_of_work(write=False) as s:
        return {
            f.instance_id: (f.customer_name, f.phone, f.project, f.unit, f.customer_ref)
            for f in s.scalars(select(CaseFact))
        }


def _cases() -> tuple[str, str, str]:
    """A complaint, a lead of the same phone under a new name signed for a unit, and a
    lead of another customer with no unit yet."""
    with unit_of_work() as s:
        deploy_folder(s, folder=PROCESSES, actor=SYSTEM)
    cs = make_user("cs1", "staff", department="customer_service")
    sales = make_user("sales1", "staff", department="sales")
    complaint = _start(cs, "complaint_handling", COMPLAINT)
    signed = _start(
        sales,
        "lead_follow_up",
        {"name": "张伟伟", "phone": "13800138000", "project": "云山府", "source": "walk_in"},
    )
    _do(sales, signed, "assign_consultant", {"consultant": "sales1"})
    _do(sales, signed, "follow_up", {"stage": "won"})
    _do(sales, signed, "sign_contract", {"unit": "9栋601", "contract_no": "HT-1"})
    other = _start(
        sales,
        "lead_follow_up",
        {"name": "李娜", "phone": "13900139000", "project": "云山府", "source": "web"},
    )
    return complaint, signed, other


def test_the_hook_keeps_the_facts_of_complaints_and_leads(db_url: str) -> None:
    complaint, signed, other = _cases()
    with unit_of_work(write=False) as s:
        zhang = s.scalars(select(Customer).where(Customer.phone == "13800138000")).one()
        li = s.scalars(select(Customer).where(Customer.phone == "13900139000")).one()
        assert s.scalars(select(Complaint.customer_id)).all() == [zhang.id]
        assert sorted(s.scalars(select(Lead.customer_id))) == sorted([zhang.id, li.id])
    # The customer record took the lead's newer name; its complaint shows it too,
    # as it did when the task lists read the customer record.
    assert _facts() == {
        complaint: ("张伟伟", "13800138000", "滨江壹号", "3栋1502", str(zhang.id)),
        signed: ("张伟伟", "13800138000", "云山府", "9栋601", str(zhang.id)),
        other: ("李娜", "13900139000", "云山府", None, str(li.id)),
    }
    cs = make_user("cs_sup", "supervisor", department="customer_service")
    with unit_of_work(write=False) as s:
        assert queries.known_projects(s) == ["云山府", "滨江壹号"]

        def found(**filters: Any) -> set[str]:
            rows, _ = queries.list_tasks(
                s, actor=cs, filters=queries.TaskFilters(scope="all", state=None, **filters)
            )
            return {t.instance_id for t in rows}

        assert found(search="张伟伟") == {complaint, signed}
        assert found(search="13900139000") == {other}
        assert found(project="滨江壹号") == {complaint}


def test_the_migration_backfills_the_facts_the_hook_keeps(db_url: str) -> None:
    _cases()
    kept = _facts()
    assert len(kept) == 3
    config = alembic_config(db_url)
    try:
        command.downgrade(config, "0006-1")  # drops case_fact
        command.upgrade(config, "head")  # creates it again, filled from the records
    finally:
        command.upgrade(config, "head")
        dispose_engines()  # pooled connections knew the old table
    assert _facts() == kept
