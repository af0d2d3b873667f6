"""Administering users (admins): list, add, change, deactivate and reactivate, set a
password; each change is a history event naming the actor (never a password).

A user who still holds work (open tasks, or cases whose assignee variable names them:
a consultant's leads) cannot be deactivated (`UserHoldsWork`): hand it over first
(engine/handover.py). Deactivating ends their page sessions and bearer tokens at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access
from engine.audit import PendingEvent, append_events
from engine.errors import FieldProblem, InvalidData, NotFound, UserHoldsWork
from engine.handover import HeldCase, held_case_counts, held_cases, holdings, open_tasks_held
from engine.identity import (
    Actor,
    create_user,
    end_user_sessions,
    get_user,
    profile_problems,
    set_password,
)
from engine.models import Task, User, UserRole

# The fields `update_user` changes (a PATCH names any of them).
CHANGEABLE = ("active", "roles", "department", "display_name", "email")


@dataclass(frozen=True)
class UserRow:
    """A user as the admin list shows them, with how much work they hold."""

    user: User
    open_tasks: int
    leads: int


@dataclass(frozen=True)
class UserDetail:
    """One user with the open tasks and the cases they hold."""

    user: User
    open_tasks: list[Task]
    cases: list[HeldCase]


def _existing(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(key="error_user_not_found", username=username)
    return user


def list_users(session: Session, *, actor: Actor) -> list[UserRow]:
    """Return every user (active or not) by username, with their open tasks and held
    cases counted (admins)."""
    access.require_admin(actor)
    users = list(session.execute(select(User).order_by(User.username)).scalars())
    tasks = dict(
        session.execute(
            select(Task.assignee, func.count())
            .where(Task.state == "open", Task.assignee.is_not(None))
            .group_by(Task.assignee)
        ).all()
    )
    cases = held_case_counts(session)
    return [UserRow(u, int(tasks.get(u.username, 0)), cases.get(u.username, 0)) for u in users]


def user_detail(session: Session, *, username: str, actor: Actor) -> UserDetail:
    """Return one user with the open tasks assigned to them and the cases they hold."""
    access.require_admin(actor)
    user = _existing(session, username)
    return UserDetail(user, open_tasks_held(session, username), held_cases(session, username))


def add_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    roles: list[str],
    department: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Create a user (admins): InvalidData naming the field, Conflict when the username
    is taken; event `user_created`."""
    access.require_admin(actor)
    user = create_user(
        session,
        username=username,
        password=password,
        roles=roles,
        department=department,
        display_name=display_name,
        email=email,
    )
    append_events(
        session,
        [
            PendingEvent(
                type="user_created",
                actor=actor.username,
                data={"username": user.username, **_profile(user)},
            )
        ],
    )
    return user


def _profile(user: User) -> dict[str, Any]:
    return {
        "roles": sorted(user.role_names),
        "department": user.department_code,
        "display_name": user.display_name,
        "email": user.email,
    }


def update_user(
    session: Session, *, username: str, changes: Mapping[str, Any], actor: Actor
) -> User:
    """Change a user (admins): any of CHANGEABLE. `active` false deactivates (refused with
    UserHoldsWork while they hold work; their sessions and tokens end), true reactivates.
    Events `user_updated` (before and after of each changed field), `user_deactivated`,
    `user_reactivated`."""
    access.require_admin(actor)
    user = _existing(session, username)
    unknown = [name for name in changes if name not in CHANGEABLE]
    if unknown:
        raise InvalidData([FieldProblem(name, "not a field of a user") for name in unknown])
    before = _profile(user)
    after = {**before, **{k: v for k, v in changes.items() if k != "active"}}
    problems = profile_problems(
        roles=list(after["roles"] or []),
        department=after["department"],
        email=after["email"] if "email" in changes else None,
        display_name=after["display_name"] if "display_name" in changes else None,
    )
    active = changes.get("active", user.is_active)
    if not isinstance(active, bool):
        problems.append(FieldProblem("active", "true or false"))
    elif not active and user.is_active and user.username == actor.username:
        problems.append(FieldProblem("active", key="problem_cannot_deactivate_self"))
    if problems:
        raise InvalidData(problems)
    if not active and user.is_active:
        held = holdings(session, username)
        if not held.empty:
            raise UserHoldsWork(
                username=username,
                task_ids=held.task_ids,
                instance_ids=[c.instance_id for c in held.cases],
            )
    events = []
    after["roles"] = sorted(dict.fromkeys(after["roles"]))
    after["email"] = after["email"].strip() if after["email"] else None
    after["display_name"] = (after["display_name"] or "").strip() or user.username
    changed = [
        {"name": name, "before": before[name], "after": after[name]}
        for name in before
        if before[name] != after[name]
    ]
    if changed:
        _apply_profile(user, after)
        events.append(_event("user_updated", user, actor, changes=changed))
    if active != user.is_active:
        user.is_active = active
        session.flush()
        if active:
            events.append(_event("user_reactivated", user, actor))
        else:
            ended = end_user_sessions(session, user.id)
            events.append(_event("user_deactivated", user, actor, sessions_ended=ended))
    session.flush()
    append_events(session, events)
    return user


def _apply_profile(user: User, profile: Mapping[str, Any]) -> None:
    if set(profile["roles"]) != user.role_names:
        kept = [r for r in user.roles if r.role in profile["roles"]]
        added = [UserRole(role=r) for r in profile["roles"] if r not in user.role_names]
        user.roles = kept + added
    user.department_code = profile["department"]
    user.display_name = profile["display_name"]
    user.email = profile["email"]


def _event(type_: str, user: User, actor: Actor, **data: Any) -> PendingEvent:
    return PendingEvent(type=type_, actor=actor.username, data={"username": user.username, **data})


def reset_password(session: Session, *, username: str, password: str, actor: Actor) -> None:
    """Give a user a new password (admins); their sessions and tokens end at once
    (`user_password_changed`, without the password)."""
    access.require_admin(actor)
    set_password(session, username=username, password=password, actor=actor)
