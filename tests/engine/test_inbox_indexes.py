"""Every inbox view and list API reads an index that matches its query (issue 18: fast at
a million open tasks): the planner can answer each one from its index — on PostgreSQL
with the table's other indexes dropped (in a transaction rolled back) and sequential
scans discouraged, on SQLite by its EXPLAIN QUERY PLAN. Without the index (or with a
query the index does not match: a bound constant, a LIKE '%1234') the plan scans."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from crm.models import Customer
from engine.db import get_engine, unit_of_work
from engine.identity import Actor
from engine.models import CaseFact, Instance, Task
from engine.privacy import contains, phone_matches
from engine.queries import _due_order
from engine.sla.ladder import escalated_to

SUPERVISOR = Actor("sup_eng", frozenset({"supervisor"}), "engineering")
EXECUTIVE = Actor("gm", frozenset({"executive"}))


def _plan(statement: Any, index: str) -> str:
    """The plan of `statement`; on PostgreSQL with only `index` left of its table's own."""
    dialect = get_engine().dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    with unit_of_work(write=False) as s:  # rolled back: the indexes dropped come back
        if dialect.name == "postgresql":
            others = s.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = :table"
                    " AND indexname <> :index AND indexdef NOT LIKE 'CREATE UNIQUE%'"
                ),
                {"table": statement.get_final_froms()[0].name, "index": index},
            ).scalars()
            for other in list(others):
                s.execute(text(f'DROP INDEX "{other}"'))
            s.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(s.execute(text("EXPLAIN " + sql)).scalars())
        return "\n".join(str(row[-1]) for row in s.execute(text("EXPLAIN QUERY PLAN " + sql)))


def _postgresql_only() -> None:
    if get_engine().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL index (pg_trgm or partial); SQLite scans, as before")


@pytest.mark.parametrize(
    ("column", "index"),
    [(Customer.phone, "ix_customer_phone_last4"), (CaseFact.phone, "ix_case_fact_phone_last4")],
)
def test_the_last_four_digits_read_the_last_four_index(
    db_url: str, column: Any, index: str
) -> None:
    plan = _plan(select(column.table.c.phone).where(phone_matches(column, "8000")), index)
    assert index in plan, plan


def test_a_case_s_whole_phone_reads_the_phone_index(db_url: str) -> None:
    query = select(CaseFact.instance_id).where(phone_matches(CaseFact.phone, "138 0013 8000"))
    plan = _plan(query, "ix_case_fact_phone")
    assert "ix_case_fact_phone" in plan, plan


@pytest.mark.parametrize(
    ("column", "index"),
    [
        (Customer.name, "ix_customer_name_trgm"),
        (CaseFact.customer_name, "ix_case_fact_customer_name_trgm"),
        (Instance.business_key, "ix_instance_business_key_trgm"),
    ],
)
def test_a_name_fragment_reads_the_trigram_index(db_url: str, column: Any, index: str) -> None:
    _postgresql_only()
    plan = _plan(select(column).where(contains(column, "客户42")), index)
    assert index in plan, plan


def test_the_sla_filter_reads_the_tasks_in_due_order_from_its_index(db_url: str) -> None:
    query = (
        select(Task.id)
        .where(
            Task.department == "engineering", Task.state == "open", Task.sla_status == "breached"
        )
        .order_by(Task.due_at)
        .limit(25)
    )
    plan = _plan(query, "ix_task_department_state_sla_due")
    assert "ix_task_department_state_sla_due" in plan, plan
    every = select(Task.id).where(Task.state == "open", Task.sla_status == "breached")
    plan = _plan(every.order_by(Task.due_at).limit(25), "ix_task_state_sla_due")
    assert "ix_task_state_sla_due" in plan, plan


@pytest.mark.parametrize(
    ("actor", "index"),
    [(SUPERVISOR, "ix_task_escalated_department"), (EXECUTIVE, "ix_task_escalated")],
)
def test_the_escalated_tab_reads_only_the_escalated_tasks(
    db_url: str, actor: Actor, index: str
) -> None:
    _postgresql_only()
    query = select(Task.id).where(Task.state == "open", escalated_to(actor))
    plan = _plan(query.order_by(Task.due_at).limit(25), index)
    assert index in plan, plan


def test_the_escalation_levels_are_written_into_the_sql_not_bound() -> None:
    # A bound level leaves the planner nothing to prove `escalation_level > 0` from
    # once the statement is prepared: the partial indexes would not be taken.
    sql = str(escalated_to(SUPERVISOR).compile())
    assert "escalation_level >= 1" in sql and "department = :" in sql, sql


@pytest.mark.parametrize(
    ("conditions", "index"),
    [
        ({"department": "engineering"}, "ix_task_department_state_due"),
        ({"assignee": "eng1"}, "ix_task_assignee_state_due"),
        ({}, "ix_task_state_due"),
        (
            {"department": "engineering", "sla_status": "at_risk"},
            "ix_task_department_state_sla_due",
        ),
        ({"sla_status": "at_risk"}, "ix_task_state_sla_due"),
        ({"process_key": "lead_follow_up"}, "ix_task_process_state_due"),
        ({"element_id": "return_visit"}, "ix_task_element_state_due"),
        (
            {"department": "engineering", "element_id": "return_visit"},
            "ix_task_department_element_state_due",
        ),
    ],
)
def test_an_inbox_page_reads_its_rows_in_the_whole_order_from_the_index(
    db_url: str, conditions: dict[str, str], index: str
) -> None:
    """No sort, not even of the tasks sharing a due time: the index keys end with the
    whole order (due time, creation, id), so a page stops after its rows."""
    query = (
        select(Task.id)
        .where(Task.state == "open", *(getattr(Task, k) == v for k, v in conditions.items()))
        .order_by(*_due_order(Task))
        .limit(25)
    )
    plan = _plan(query, index)
    assert index in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_the_escalated_tab_reads_its_page_in_the_whole_order(db_url: str) -> None:
    _postgresql_only()
    query = select(Task.id).where(Task.state == "open", escalated_to(SUPERVISOR))
    plan = _plan(query.order_by(*_due_order(Task)).limit(25), "ix_task_escalated_department")
    assert "ix_task_escalated_department" in plan and "Sort" not in plan, plan


def test_the_project_filter_probes_each_case_from_an_index_alone(db_url: str) -> None:
    """The project of a listed task's case comes from (instance_id, project), not from
    the wider row: with the table's scan and bitmap scans ruled out, the plan reads that
    index alone, rather than the key's index and the row. (`enable_indexscan = off`
    rules out index-only scans too: with every scan disabled, a table the migrations had
    just made again, of one page, was read whole, whichever tests ran before.)"""
    _postgresql_only()
    query = select(CaseFact.project).where(
        CaseFact.instance_id == "x", CaseFact.project == "云山府"
    )
    sql = str(query.compile(dialect=get_engine().dialect, compile_kwargs={"literal_binds": True}))
    with unit_of_work(write=False) as s:
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            s.execute(text(f"SET LOCAL {setting} = off"))
        plan = "\n".join(s.execute(text("EXPLAIN " + sql)).scalars())
    assert "Index Only Scan using ix_case_fact_instance_project" in plan, plan


@pytest.mark.parametrize(
    ("index", "column"),
    [
        ("ix_task_state_completed", "completed_at"),
        ("ix_task_working", "working_seconds"),
        ("ix_task_assignee_state_due", "assignee"),
    ],
)
def test_the_done_and_the_held_tasks_indexes_leave_the_others_out(
    db_url: str, index: str, column: str
) -> None:
    """An open task has neither of the first two columns set, and a department queue's
    task no assignee, so no write of one (a sweep step, a new task) enters these
    indexes (migration 0018); `test_an_inbox_page_reads_its_rows_in_the_whole_order…`
    shows the "mine" tab still reads its index."""
    dialect = get_engine().dialect.name
    found = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = :index"
        if dialect == "postgresql"
        else "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :index"
    )
    with unit_of_work(write=False) as s:
        definition = s.execute(text(found), {"index": index}).scalar_one()
    # PostgreSQL writes the predicate in parentheses, SQLite as it was given
    assert f"WHERE {column} IS NOT NULL" in definition.replace("(", "").replace(")", ""), definition


def test_the_completions_of_a_period_read_the_partial_index(db_url: str) -> None:
    from datetime import UTC, datetime

    from engine.scorecards import period_conditions

    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    query = select(Task.completed_by).where(
        Task.state == "completed", *period_conditions(Task.completed_at, since, until)
    )
    plan = _plan(query, "ix_task_state_completed")
    assert "ix_task_state_completed" in plan, plan


def test_the_medians_read_the_working_time_values_from_the_partial_index(db_url: str) -> None:
    query = select(Task.working_seconds).where(
        Task.working_seconds.is_not(None), Task.working_seconds.between(3600, 7199)
    )
    plan = _plan(query, "ix_task_working")
    assert "ix_task_working" in plan, plan


def test_a_bounded_task_count_walks_the_filters_index_in_due_order(db_url: str) -> None:
    """PostgreSQL: the bounded count of the SLA filter reads in the due order its index
    delivers, so that it stops at its bound (unordered, the planner took a bitmap scan of
    every task of the filter: 100 000 entries for sales' breached tasks at a million).
    Other filters (a project: the (instance, state) index alone), tasks of every state,
    and SQLite, count unordered."""
    from engine.queries import TaskFilters, count_tasks
    from tests.fixtures.statements import statements

    staff = Actor("eng", frozenset({"staff"}), "engineering")
    filters = TaskFilters(scope="department", sla_status="breached", project="云山府")
    with unit_of_work(write=False) as s, statements() as sent:
        assert count_tasks(s, actor=staff, filters=filters, limit=1000).n == 0
        count_tasks(s, actor=staff, filters=TaskFilters(scope="department", state=None), limit=9)
        project = TaskFilters(scope="department", project="云山府")
        count_tasks(s, actor=staff, filters=project, limit=9)
    ordered, *unordered = sent
    assert len(unordered) == 2 and not any("ORDER BY" in q for q in unordered)
    if db_url.startswith("sqlite"):
        assert "ORDER BY" not in ordered
        return
    assert "ORDER BY task.due_at ASC NULLS LAST, task.created_at, task.id" in ordered
    count = (
        select(Task.id)
        .where(
            Task.department == "sales",
            Task.state == "open",
            Task.sla_status == "breached",
        )
        .order_by(*_due_order(Task))
        .limit(1001)
    )
    plan = _plan(count, "ix_task_department_state_sla_due")
    assert "Scan using ix_task_department_state_sla_due" in plan, plan  # (index only)
    assert "Bitmap" not in plan and "Sort" not in plan, plan


def test_the_planner_knows_how_departments_states_and_sla_statuses_go_together(
    db_url: str,
) -> None:
    """Migration 0019: multivariate statistics of the SLA filter's three columns, so that
    a department without breached tasks is not estimated at a fifth of them."""
    _postgresql_only()
    with unit_of_work(write=False) as s:
        found = s.execute(
            text(
                "SELECT stxkind, array(SELECT attname FROM pg_attribute WHERE attrelid ="
                " 'task'::regclass AND attnum = ANY(stxkeys) ORDER BY attnum) FROM"
                " pg_statistic_ext WHERE stxname = 'st_task_department_state_sla'"
            )
        ).one()
    assert list(found[0]) == ["m"]  # most common values of the combinations
    assert sorted(found[1]) == ["department", "sla_status", "state"]
