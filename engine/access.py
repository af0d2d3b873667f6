"""Who may do what (CONTRACT.md's role rules), in one place.

Each rule comes as `require_…` (raises NotPermitted) and, where a page needs to know
whether to offer an action, as `can_…` (a bool) deciding the same way.
"""

from __future__ import annotations

from collections.abc import Collection

from engine.errors import NotPermitted
from engine.identity import Actor
from engine.models import Task
from engine.sla.ladder import rungs_of

# Roles that read every instance and task (they supervise, audit or design).
READ_ALL_ROLES = ("supervisor", "executive", "auditor", "admin", "designer")
# Roles whose `GET /tasks?scope=all` is allowed.
SCOPE_ALL_ROLES = ("supervisor", "executive", "auditor", "admin")
WORKER_ROLES = ("staff", "supervisor")
AUDIT_ROLES = ("auditor", "admin")


def landing_page(roles: frozenset[str]) -> str:
    """Where a user lands after signing in: staff and supervisors on their inbox;
    executives on the reports; designers on their processes; admins on the users;
    auditors on the history."""
    if roles & set(WORKER_ROLES):
        return "/inbox"
    if "executive" in roles:
        return "/reports"
    for role, page in (("designer", "/designer"), ("admin", "/admin/users"), ("auditor", "/audit")):
        if role in roles:
            return page
    return "/inbox"


def can_design(actor: Actor) -> bool:
    """Tell whether the actor validates and deploys process definitions (designers, admins)."""
    return actor.has("designer", "admin", "system")


def require_designer(actor: Actor) -> None:
    """Only designers (and admins) deploy process definitions."""
    if not can_design(actor):
        raise NotPermitted(key="error_designers_only")


def can_start(actor: Actor) -> bool:
    """Tell whether the actor starts instances: any role but auditor."""
    return bool(actor.roles) and not actor.roles <= {"auditor"}


def require_can_start(actor: Actor) -> None:
    """Any role but auditor starts instances."""
    if not can_start(actor):
        raise NotPermitted(key="error_auditors_cannot_start")


def require_can_cancel(actor: Actor) -> None:
    """Supervisors and admins cancel instances."""
    if not actor.has("supervisor", "admin"):
        raise NotPermitted(key="error_cancel_supervisors_only")


def can_write(actor: Actor) -> bool:
    """Tell whether the actor may change data at all (auditors may not)."""
    return not actor.read_only


def require_writer(actor: Actor) -> None:
    """Auditors change nothing: every mutating request of theirs is refused."""
    if not can_write(actor):
        raise NotPermitted(key="error_read_only")


def can_read_audit(actor: Actor) -> bool:
    """Tell whether the actor reads the audit trail (auditors and admins)."""
    return actor.has(*AUDIT_ROLES)


def require_auditor(actor: Actor) -> None:
    """Auditors and admins read the audit trail."""
    if not can_read_audit(actor):
        raise NotPermitted(key="error_audit_readers_only")


def can_use_scope(actor: Actor, scope: str) -> bool:
    """Tell whether the actor may list the tasks of `scope`."""
    if scope == "all":
        return actor.has(*SCOPE_ALL_ROLES)
    if scope == "department" and not actor.has(*WORKER_ROLES):
        return actor.department is not None
    return True


def require_scope(actor: Actor, scope: str) -> None:
    """Check the task-list scope against the role."""
    if can_use_scope(actor, scope):
        return
    if scope == "all":
        raise NotPermitted(key="error_scope_all")
    raise NotPermitted(key="error_no_department")


def can_read_task(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> bool:
    """Tell whether the actor may see the task."""
    return (
        actor.has(*READ_ALL_ROLES)
        or task.assignee == actor.username
        or (actor.department is not None and task.department == actor.department)
        or escalated_to_actor
    )


def require_read_task(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> None:
    """Raise NotPermitted unless the actor may see the task."""
    if not can_read_task(actor, task, escalated_to_actor=escalated_to_actor):
        raise NotPermitted(key="error_task_other_department")


def can_work_task(actor: Actor, task: Task) -> bool:
    """Tell whether the actor claims and completes the task."""
    return actor.has(*WORKER_ROLES) and (
        task.assignee == actor.username or task.department == actor.department
    )


def require_work_task(actor: Actor, task: Task) -> None:
    """Staff and supervisors work the tasks of their department or assigned to them."""
    if not actor.has(*WORKER_ROLES):
        raise NotPermitted(key="error_workers_only")
    if not can_work_task(actor, task):
        raise NotPermitted(key="error_task_other_department")


def supervises_task(actor: Actor, task: Task) -> bool:
    """Tell whether the actor supervises the task's department (and so may give back a
    task someone else holds)."""
    return actor.has("supervisor") and actor.department == task.department


def can_unclaim(actor: Actor, task: Task) -> bool:
    """Tell whether the actor gives the task back to its department's queue."""
    return can_work_task(actor, task) and (
        task.assignee == actor.username or supervises_task(actor, task)
    )


def can_assign(actor: Actor, task: Task) -> bool:
    """Tell whether the actor reassigns the task."""
    return actor.has("executive", "admin") or supervises_task(actor, task)


def require_assign(actor: Actor, task: Task) -> None:
    """Supervisors of the task's department, executives and admins reassign."""
    if not can_assign(actor, task):
        raise NotPermitted(key="error_assign_supervisors_only")


def can_pause(actor: Actor, task: Task) -> bool:
    """Tell whether the actor pauses and resumes the task's SLA clock: whoever may complete
    it (a worker of its department while nobody else holds it), and its department's
    supervisors even when someone holds it."""
    return can_work_task(actor, task) and (
        task.assignee in (None, actor.username) or supervises_task(actor, task)
    )


def require_pause(actor: Actor, task: Task) -> None:
    """Those who work a task pause its clock (403 for anyone else); a colleague's claimed
    task is the colleague's to pause (the caller says 409, as completing would)."""
    require_work_task(actor, task)


def supervising_departments(task: Task) -> set[str]:
    """Return the departments whose supervisors watch the task: its own, and those its
    escalation ladder climbs to (customer service, for complaints)."""
    watching = {task.department}
    for rung in rungs_of(task):
        if rung.recipients.startswith("supervisors:"):
            watching.add(rung.recipients.split(":", 1)[1])
    return watching


def can_remind(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> bool:
    """Tell whether the actor chases (催办) the task: executives, the supervisors of its
    department or of the department supervising its ladder, and whoever it escalated to."""
    if not can_write(actor):
        return False
    if actor.has("executive") or escalated_to_actor:
        return True
    return actor.has("supervisor") and actor.department in supervising_departments(task)


def require_remind(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> None:
    """Only those watching a task over its owners chase it."""
    if not can_remind(actor, task, escalated_to_actor=escalated_to_actor):
        raise NotPermitted(key="error_remind_not_allowed")


def can_complete(actor: Actor, task: Task) -> bool:
    """Tell whether the actor completes the open task now: theirs to work, and held by
    nobody else (completing a colleague's claimed task is refused)."""
    return (
        task.state == "open"
        and can_work_task(actor, task)
        and task.assignee in (None, actor.username)
    )


def can_claim(actor: Actor, task: Task) -> bool:
    """Tell whether the actor claims the task now (open, unclaimed, theirs to work)."""
    return task.state == "open" and task.assignee is None and can_work_task(actor, task)


def require_comment(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> None:
    """Everyone who sees a task comments on it, except auditors, who change nothing."""
    if actor.roles <= {"auditor"}:
        raise NotPermitted(key="error_auditors_cannot_comment")
    require_read_task(actor, task, escalated_to_actor=escalated_to_actor)


def can_read_report_pages(actor: Actor) -> bool:
    """Tell whether the actor opens the report pages (supervisors, executives, admins)."""
    return actor.has("supervisor", "executive", "admin")


def require_report_reader(actor: Actor) -> None:
    """Supervisors, executives, auditors and admins read the SLA reports."""
    if not actor.has(*SCOPE_ALL_ROLES):
        raise NotPermitted(key="error_report_readers_only")


def require_stats_reader(actor: Actor) -> None:
    """A version's figures (the heat map) are for designers and for those who read the
    SLA reports: supervisors, executives, auditors and admins; not for staff."""
    if not (can_design(actor) or actor.has(*SCOPE_ALL_ROLES)):
        raise NotPermitted(key="error_stats_readers_only")


def reads_every_case(actor: Actor) -> bool:
    """Tell whether the actor may open any case (supervisors, executives, auditors,
    admins, designers); others see the cases they started or that have their work."""
    return actor.has(*READ_ALL_ROLES)


def can_read_customers(actor: Actor) -> bool:
    """Tell whether the actor reads customer records (every role but designer)."""
    return bool(actor.roles) and not actor.roles <= {"designer"}


def require_customer_reader(actor: Actor) -> None:
    """Staff, supervisors, executives, auditors and admins read customer records."""
    if not can_read_customers(actor):
        raise NotPermitted(key="error_customer_readers_only")


def sees_case_phones(
    actor: Actor, *, departments: Collection[str], people: Collection[str]
) -> bool:
    """Tell whether the actor reads a case's phone numbers whole (CONTRACT.md).

    Whole for the people working the case: staff and supervisors of a department in
    `departments` (those that have or had a task in it, and the one it starts in:
    customer service on complaints, sales on leads), anyone in `people` (who started
    it, holds or held one of its tasks), executives; and for those who read the
    history (auditors, admins). Everyone else (a designer, another department's
    staff) reads them masked.
    """
    if actor.has("executive", *AUDIT_ROLES) or actor.username in people:
        return True
    return (
        actor.has(*WORKER_ROLES)
        and actor.department is not None
        and actor.department in departments
    )


def can_administer(actor: Actor) -> bool:
    """Tell whether the actor administers flowdesk (calendars, departments, users)."""
    return actor.has("admin")


def require_admin(actor: Actor) -> None:
    """Only admins change the calendars, the departments and the users."""
    if not can_administer(actor):
        raise NotPermitted(key="error_admins_only")


def can_hand_over(actor: Actor, department: str | None) -> bool:
    """Tell whether the actor hands over (and back) the work of a member of `department`:
    admins anyone's, a supervisor their own department's (holiday cover)."""
    if actor.has("admin", "system"):
        return True
    return actor.has("supervisor") and department is not None and actor.department == department


def require_hand_over(actor: Actor, department: str | None) -> None:
    """Admins, and supervisors of the user's department, hand over a user's work."""
    if not can_hand_over(actor, department):
        raise NotPermitted(key="error_handover_not_allowed")
