"""User administration (admins) and handing a user's work over (admins; supervisors
for their own department's members): CONTRACT.md "Administration and staff leaving"."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from api.deps import CurrentActor
from api.schemas.errors import error_responses
from api.schemas.users import (
    HandoverPage,
    HandoverRead,
    HandoverRequest,
    HandoverSummary,
    PasswordReset,
    UserCreate,
    UserDetailRead,
    UserPage,
    UserRead,
    UserUpdate,
)
from engine import access, handover, user_admin
from engine.bounds import ROW_ID_MAX
from engine.db import unit_of_work
from engine.errors import NotFound
from engine.identity import Actor

router = APIRouter(tags=["admin"], responses=error_responses(401, 403))


def _read(session: Session, username: str, actor: Actor) -> UserRead:
    detail = user_admin.user_detail(session, username=username, actor=actor)
    return UserRead.from_user(
        detail.user, open_tasks=len(detail.open_tasks), leads=len(detail.cases)
    )


@router.get("/admin/users")
def list_users(actor: CurrentActor) -> UserPage:
    """Every user by username, with the open tasks and running leads they hold."""
    with unit_of_work(write=False) as session:
        rows = user_admin.list_users(session, actor=actor)
        return UserPage(items=[UserRead.from_row(r) for r in rows], total=len(rows))


@router.post("/admin/users", status_code=201, responses=error_responses(409, 422))
def add_user(body: UserCreate, actor: CurrentActor) -> UserRead:
    """Add a user; 409 when the username exists, 422 naming the field."""
    with unit_of_work() as session:
        user = user_admin.add_user(session, actor=actor, **body.model_dump())
        return UserRead.from_user(user, open_tasks=0, leads=0)


@router.get("/admin/users/{username}", responses=error_responses(404))
def show_user(username: str, actor: CurrentActor) -> UserDetailRead:
    """One user with the open tasks and running leads they hold."""
    with unit_of_work(write=False) as session:
        return UserDetailRead.from_detail(
            user_admin.user_detail(session, username=username, actor=actor)
        )


@router.patch("/admin/users/{username}", responses=error_responses(404, 409, 422))
def update_user(username: str, body: UserUpdate, actor: CurrentActor) -> UserRead:
    """Change a user; `active` false deactivates (409 while they hold work), true
    reactivates."""
    with unit_of_work() as session:
        user_admin.update_user(
            session, username=username, changes=body.model_dump(exclude_unset=True), actor=actor
        )
        return _read(session, username, actor)


@router.post("/admin/users/{username}/password", responses=error_responses(404, 422))
def reset_password(username: str, body: PasswordReset, actor: CurrentActor) -> UserRead:
    """Give a user a new password; their sessions and tokens end at once."""
    with unit_of_work() as session:
        user_admin.reset_password(session, username=username, password=body.password, actor=actor)
        return _read(session, username, actor)


@router.post("/admin/users/{username}/handover", responses=error_responses(404, 409, 422))
def hand_over(username: str, body: HandoverRequest, actor: CurrentActor) -> HandoverRead:
    """Move every open task of the user and every running lead they hold to `to`."""
    with unit_of_work(write=not body.dry_run) as session:
        result = handover.hand_over(
            session, username=username, to=body.to, actor=actor, dry_run=body.dry_run
        )
        return HandoverRead.from_result(result)


@router.get("/admin/handovers", responses=error_responses(422))
def list_handovers(actor: CurrentActor, username: str | None = None) -> HandoverPage:
    """The handovers (of one user's work), newest first: admins see all, a supervisor
    those of their department."""
    access.require_hand_over(actor, actor.department)  # admins and supervisors
    with unit_of_work(write=False) as session:
        rows = [
            r
            for r in handover.list_handovers(session, username=username)
            if access.can_hand_over(actor, r.department)
        ]
        return HandoverPage(items=[HandoverSummary.from_row(r) for r in rows], total=len(rows))


@router.post("/admin/handovers/{handover_id}/return", responses=error_responses(404, 409, 422))
def return_handover(handover_id: int, actor: CurrentActor) -> HandoverRead:
    """Hand the work back: what the handover moved that is still open and still held
    by its recipient goes back to the user."""
    if not 0 < handover_id <= ROW_ID_MAX:
        raise NotFound(key="error_handover_not_found", handover_id=handover_id)
    with unit_of_work() as session:
        return HandoverRead.from_result(
            handover.return_handover(session, handover_id=handover_id, actor=actor)
        )
