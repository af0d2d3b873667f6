"""Who may do what (CONTRACT.md's role rules), in one place."""

from __future__ import annotations

from engine.errors import NotPermitted
from engine.identity import Actor
from engine.models import Task

# Roles that read every instance and task (they supervise, audit or design).
READ_ALL_ROLES = ("supervisor", "executive", "auditor", "admin", "designer")
# Roles whose `GET /tasks?scope=all` is allowed.
SCOPE_ALL_ROLES = ("supervisor", "executive", "auditor", "admin")
WORKER_ROLES = ("staff", "supervisor")


def require_designer(actor: Actor) -> None:
    """Only designers (and admins) deploy process definitions."""
    if not actor.has("designer", "admin", "system"):
        raise NotPermitted("only process designers may deploy processes")


def require_can_start(actor: Actor) -> None:
    """Any role but auditor starts instances."""
    if not actor.roles or actor.roles <= {"auditor"}:
        raise NotPermitted("auditors cannot start processes")


def require_can_cancel(actor: Actor) -> None:
    """Supervisors and admins cancel instances."""
    if not actor.has("supervisor", "admin"):
        raise NotPermitted("only supervisors and admins may cancel a case")


def require_writer(actor: Actor) -> None:
    """Auditors change nothing: every mutating request of theirs is refused."""
    if actor.read_only:
        raise NotPermitted("auditors have read-only access: this request would change data")


def require_auditor(actor: Actor) -> None:
    """Auditors and admins read the audit trail."""
    if not actor.has("auditor", "admin"):
        raise NotPermitted("only auditors and admins may read the audit trail")


def require_scope(actor: Actor, scope: str) -> None:
    """Check the task-list scope against the role."""
    if scope == "all" and not actor.has(*SCOPE_ALL_ROLES):
        raise NotPermitted("scope=all is for supervisors, executives, auditors and admins")
    if scope in ("mine", "department") and not actor.has(*WORKER_ROLES):
        if scope == "department" and actor.department is None:
            raise NotPermitted("you belong to no department")


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
        raise NotPermitted("this task belongs to another department")


def require_work_task(actor: Actor, task: Task) -> None:
    """Staff and supervisors work the tasks of their department or assigned to them."""
    if not actor.has(*WORKER_ROLES):
        raise NotPermitted("only staff and supervisors work on tasks")
    if task.assignee != actor.username and task.department != actor.department:
        raise NotPermitted("this task belongs to another department")


def require_assign(actor: Actor, task: Task) -> None:
    """Supervisors of the task's department, executives and admins reassign."""
    if actor.has("executive", "admin"):
        return
    if actor.has("supervisor") and actor.department == task.department:
        return
    raise NotPermitted("only supervisors of the task's department and executives may assign it")


def require_comment(actor: Actor, task: Task, *, escalated_to_actor: bool = False) -> None:
    """Everyone who sees a task comments on it, except auditors, who change nothing."""
    if actor.roles <= {"auditor"}:
        raise NotPermitted("auditors cannot comment")
    require_read_task(actor, task, escalated_to_actor=escalated_to_actor)
