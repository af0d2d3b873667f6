"""The escalation ladder's rules as units: each rule's from/to states and condition,
when its step falls due, and the order in which the policy asks them. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.models import Task
from engine.sla.ladder import (
    AT_RISK,
    BREACHED,
    LADDERS,
    ON_TRACK,
    SLA_POLICY,
    BreachAtDue,
    EscalateOneLevel,
    Rung,
    StepTaken,
    WarnBeforeDue,
    rungs_of,
)

DUE = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WARN = DUE - timedelta(hours=2)
COMPLAINT = LADDERS["complaint"]


class ClockHours:
    """A calendar where every hour is a working hour (keeps the sums readable)."""

    def add(self, start: datetime, amount: float) -> datetime:
        return start + timedelta(hours=amount)


def task(
    status: str = ON_TRACK,
    *,
    level: int = 0,
    ladder: str | None = "complaint",
    warn_at: datetime | None = WARN,
    due_at: datetime | None = DUE,
) -> Task:
    return Task(
        id="t1",
        instance_id="i1",
        department="engineering",
        sla_status=status,
        escalation_level=level,
        escalation_ladder=ladder,
        warn_at=warn_at,
        due_at=due_at,
    )


def test_each_rule_names_its_from_and_to_states() -> None:
    assert (WarnBeforeDue.FROM_STATES, WarnBeforeDue.TO_STATE) == ({ON_TRACK}, AT_RISK)
    assert (BreachAtDue.FROM_STATES, BreachAtDue.TO_STATE) == ({ON_TRACK, AT_RISK}, BREACHED)
    assert (EscalateOneLevel.FROM_STATES, EscalateOneLevel.TO_STATE) == ({BREACHED}, BREACHED)
    assert [r.EVENT_TYPE for r in SLA_POLICY.rules] == [
        "sla_warning",
        "sla_breached",
        "task_escalated",
    ]


def test_the_policy_asks_warn_then_breach_then_escalate() -> None:
    assert [type(r) for r in SLA_POLICY.rules] == [WarnBeforeDue, BreachAtDue, EscalateOneLevel]


@pytest.mark.parametrize("status", [AT_RISK, BREACHED])
def test_a_warning_leaves_only_on_track(status: str) -> None:
    assert not WarnBeforeDue().applies(task(status), WARN, COMPLAINT)


def test_a_warning_needs_a_warning_time_and_a_step_before_due() -> None:
    rule = WarnBeforeDue()
    assert rule.applies(task(), WARN, COMPLAINT)
    assert not rule.condition(task(warn_at=None), WARN, COMPLAINT)
    assert not rule.condition(task(), DUE, COMPLAINT)


def test_a_warning_puts_the_task_at_risk_and_tells_its_owners() -> None:
    t = task()
    assert WarnBeforeDue().take(t, WARN, COMPLAINT) == StepTaken("sla_warning", None)
    assert (t.sla_status, t.escalation_level, t.escalated_at) == (AT_RISK, 0, None)


def test_a_breach_leaves_any_unbreached_state() -> None:
    rule = BreachAtDue()
    assert rule.applies(task(ON_TRACK), DUE, COMPLAINT)
    assert rule.applies(task(AT_RISK), DUE, COMPLAINT)
    assert not rule.applies(task(BREACHED), DUE, COMPLAINT)
    # Its condition always holds: the policy asks the warning first.
    assert rule.condition(task(), WARN, COMPLAINT)


def test_a_breach_marks_the_task_breached_and_tells_its_owners() -> None:
    t = task(AT_RISK)
    assert BreachAtDue().take(t, DUE, COMPLAINT) == StepTaken("sla_breached", None)
    assert (t.sla_status, t.escalation_level) == (BREACHED, 0)


def test_escalation_leaves_breached_while_a_rung_is_left() -> None:
    rule = EscalateOneLevel()
    assert not rule.applies(task(AT_RISK), DUE, COMPLAINT)
    assert rule.applies(task(BREACHED, level=2), DUE, COMPLAINT)
    assert not rule.applies(task(BREACHED, level=3), DUE, COMPLAINT)


def test_escalation_climbs_one_rung_at_the_step_instant() -> None:
    t = task(BREACHED, level=1)
    step_at = DUE + timedelta(hours=8)
    assert EscalateOneLevel().take(t, step_at, COMPLAINT) == StepTaken(
        "task_escalated", Rung(2, 8, "supervisors:customer_service")
    )
    assert (t.sla_status, t.escalation_level, t.escalated_at) == (BREACHED, 2, step_at)


def test_the_policy_picks_the_first_rule_that_applies() -> None:
    assert type(SLA_POLICY.rule_for(task(), WARN, COMPLAINT)) is WarnBeforeDue
    assert type(SLA_POLICY.rule_for(task(), DUE, COMPLAINT)) is BreachAtDue
    assert type(SLA_POLICY.rule_for(task(warn_at=None), WARN, COMPLAINT)) is BreachAtDue
    assert type(SLA_POLICY.rule_for(task(AT_RISK), WARN, COMPLAINT)) is BreachAtDue
    assert type(SLA_POLICY.rule_for(task(BREACHED), DUE, COMPLAINT)) is EscalateOneLevel
    assert SLA_POLICY.rule_for(task(BREACHED, level=3), DUE, COMPLAINT) is None


def test_next_step_follows_the_ladder() -> None:
    hours = ClockHours()
    assert SLA_POLICY.next_step(task(), COMPLAINT, hours) == WARN
    # a warning at (or after) the due time is no step of its own
    assert SLA_POLICY.next_step(task(warn_at=DUE), COMPLAINT, hours) == DUE
    assert SLA_POLICY.next_step(task(warn_at=None), COMPLAINT, hours) == DUE
    assert SLA_POLICY.next_step(task(AT_RISK), COMPLAINT, hours) == DUE
    # rung 1 is reached at the breach, rung 2 after 8 working hours, rung 3 after 24
    assert SLA_POLICY.next_step(task(BREACHED), COMPLAINT, hours) == DUE
    assert SLA_POLICY.next_step(task(BREACHED, level=1), COMPLAINT, hours) == DUE + timedelta(
        hours=8
    )
    assert SLA_POLICY.next_step(task(BREACHED, level=2), COMPLAINT, hours) == DUE + timedelta(
        hours=24
    )
    assert SLA_POLICY.next_step(task(BREACHED, level=3), COMPLAINT, hours) is None
    assert SLA_POLICY.next_step(task(due_at=None), COMPLAINT, hours) is None


def test_a_whole_climb_takes_each_step_once() -> None:
    t, hours = task(), ClockHours()
    taken = []
    while (step_at := SLA_POLICY.next_step(t, COMPLAINT, hours)) is not None:
        rule = SLA_POLICY.rule_for(t, step_at, COMPLAINT)
        assert rule is not None
        taken.append((rule.take(t, step_at, COMPLAINT).event_type, t.sla_status, step_at))
    assert taken == [
        ("sla_warning", AT_RISK, WARN),
        ("sla_breached", BREACHED, DUE),
        ("task_escalated", BREACHED, DUE),
        ("task_escalated", BREACHED, DUE + timedelta(hours=8)),
        ("task_escalated", BREACHED, DUE + timedelta(hours=24)),
    ]
    assert t.escalation_level == 3


def test_ladders_by_name_and_the_default() -> None:
    assert rungs_of(task(ladder="lead")) == LADDERS["lead"]
    assert rungs_of(task(ladder=None)) == LADDERS["default"]
    assert rungs_of(task(ladder="gone")) == LADDERS["default"]
    assert [r.recipients for r in LADDERS["lead"]] == ["owning_supervisors", "executives"]
