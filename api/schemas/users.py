"""Users as the admin API shows them, their changes, and handovers of their work."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Instant
from engine.handover import HandoverResult, HeldCase
from engine.models import Handover, Task, User
from engine.user_admin import UserDetail, UserRow


class UserCreate(BaseModel):
    """Body of POST /admin/users."""

    model_config = ConfigDict(extra="forbid")

    username: str
    password: str = Field(description="at least 10 characters")
    roles: list[str] = Field(description="staff, supervisor, executive, designer, auditor, admin")
    department: str | None = Field(default=None, description="a department code")
    display_name: str | None = None
    email: str | None = None


class UserUpdate(BaseModel):
    """Body of PATCH /admin/users/{username}: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(
        default=None, description="false deactivates (their sessions end), true reactivates"
    )
    roles: list[str] | None = None
    department: str | None = None
    display_name: str | None = None
    email: str | None = None


class PasswordReset(BaseModel):
    """Body of POST /admin/users/{username}/password."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(description="at least 10 characters")


class UserRead(BaseModel):
    """One user, with how much work they hold."""

    username: str
    display_name: str
    email: str | None
    department: str | None = Field(description="the department code, or null")
    roles: list[str]
    active: bool
    created_at: Instant
    last_signin_at: Instant | None = Field(description="the last page sign-in or token issued")
    open_tasks: int = Field(description="open tasks assigned to the user")
    leads: int = Field(description="running leads (cases) whose consultant the user is")

    @classmethod
    def from_user(cls, user: User, *, open_tasks: int, leads: int) -> Self:
        return cls(
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            department=user.department_code,
            roles=sorted(user.role_names),
            active=user.is_active,
            created_at=user.created_at,
            last_signin_at=user.last_signin_at,
            open_tasks=open_tasks,
            leads=leads,
        )

    @classmethod
    def from_row(cls, row: UserRow) -> Self:
        return cls.from_user(row.user, open_tasks=row.open_tasks, leads=row.leads)


class UserPage(BaseModel):
    """GET /admin/users: every user by username."""

    items: list[UserRead]
    total: int


class HeldTask(BaseModel):
    """An open task the user holds."""

    id: str
    instance_id: str
    process_key: str
    element_id: str
    name: str
    department: str
    due_at: Instant | None

    @classmethod
    def from_task(cls, task: Task) -> Self:
        return cls(
            id=task.id,
            instance_id=task.instance_id,
            process_key=task.process_key,
            element_id=task.element_id,
            name=task.name,
            department=task.department,
            due_at=task.due_at,
        )


class HeldLead(BaseModel):
    """A running case whose assignee variable (`consultant`, for leads) names the user."""

    instance_id: str
    process_key: str
    business_key: str | None
    variables: list[str] = Field(description="the case variables naming the user")

    @classmethod
    def from_case(cls, case: HeldCase) -> Self:
        return cls(
            instance_id=case.instance_id,
            process_key=case.process_key,
            business_key=case.business_key,
            variables=list(case.variables),
        )


class UserDetailRead(UserRead):
    """GET /admin/users/{username}: the user and what they hold."""

    open_task_list: list[HeldTask]
    lead_list: list[HeldLead]

    @classmethod
    def from_detail(cls, detail: UserDetail) -> Self:
        base = UserRead.from_user(
            detail.user, open_tasks=len(detail.open_tasks), leads=len(detail.cases)
        )
        return cls(
            **base.model_dump(),
            open_task_list=[HeldTask.from_task(t) for t in detail.open_tasks],
            lead_list=[HeldLead.from_case(c) for c in detail.cases],
        )


class HandoverRequest(BaseModel):
    """Body of POST /admin/users/{username}/handover."""

    model_config = ConfigDict(extra="forbid")

    to: str | list[str] = Field(
        description="a username, or a list of them: leads and tasks go round-robin"
    )
    dry_run: bool = Field(default=False, description="count and list the moves, write nothing")


class TaskMoveRead(BaseModel):
    task_id: str
    instance_id: str
    element_id: str
    name: str
    to: str


class LeadMoveRead(HeldLead):
    """A lead moved: its consultant (the variables) now `to`."""

    to: str


class HandoverRead(BaseModel):
    """What a handover (or a hand-back) moved: `tasks` and `leads` are counts."""

    handover_id: int | None = Field(description="the handover, for a hand-back; null if dry run")
    username: str = Field(description="whose work it was (for a hand-back: who gets it back)")
    to: list[str]
    dry_run: bool
    tasks: int
    leads: int
    task_moves: list[TaskMoveRead]
    lead_moves: list[LeadMoveRead]

    @classmethod
    def from_result(cls, result: HandoverResult) -> Self:
        return cls(
            handover_id=result.handover_id,
            username=result.username,
            to=result.to,
            dry_run=result.dry_run,
            tasks=len(result.tasks),
            leads=len(result.cases),
            task_moves=[TaskMoveRead(**vars(m)) for m in result.tasks],
            lead_moves=[
                LeadMoveRead(**HeldLead.from_case(c).model_dump(), to=c.to) for c in result.cases
            ],
        )


class HandoverSummary(BaseModel):
    """One handover as kept (GET /admin/handovers)."""

    id: int
    username: str
    to: list[str]
    department: str | None
    actor: str
    at: Instant
    tasks: int
    leads: int
    returned_at: Instant | None
    returned_by: str | None

    @classmethod
    def from_row(cls, row: Handover) -> Self:
        return cls(
            id=row.id,
            username=row.from_user,
            to=list(row.to_users),
            department=row.department,
            actor=row.actor,
            at=row.at,
            tasks=len(row.moves.get("tasks", [])),
            leads=len(row.moves.get("cases", [])),
            returned_at=row.returned_at,
            returned_by=row.returned_by,
        )


class HandoverPage(BaseModel):
    items: list[HandoverSummary]
    total: int
