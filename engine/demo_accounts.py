"""Which accounts the sign-in page offers to someone trying flowdesk: those of the demo
organisation, on a database that `flowdesk seed-demo` made, and only there.

The demo seeding appends a `demo_seeded` event naming its users and their shared
password; without that event (a real installation) the sign-in page shows nothing.
An account is offered only while it is active and its password was never changed
(its `session_epoch` is still the one it was created with: a new password, a
deactivation or an ended session raises it), with its current name, roles and
department — an installation that started from the demo and renamed, reassigned or
retired those accounts does not show stale ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import PendingEvent, append_events
from engine.identity import SYSTEM
from engine.models import HistoryEvent, User

DEMO_SEEDED = "demo_seeded"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None


@dataclass(frozen=True)
class DemoAccounts:
    password: str
    accounts: list[DemoAccount]


def record_demo_seeded(session: Session, *, usernames: Sequence[str], password: str) -> None:
    """Mark this database as the demo's: event `demo_seeded` with its users and password."""
    append_events(
        session,
        [
            PendingEvent(
                type=DEMO_SEEDED,
                actor=SYSTEM.username,
                data={"usernames": list(usernames), "password": password},
            )
        ],
    )


def demo_accounts(session: Session) -> DemoAccounts | None:
    """Return the demo accounts still usable with the demo password, or None when this
    database was not made by the demo seeding (one indexed query then)."""
    marker = session.execute(
        select(HistoryEvent.data)
        .where(HistoryEvent.type == DEMO_SEEDED)
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    if not isinstance(marker, dict) or not isinstance(marker.get("password"), str):
        return None
    order = [name for name in marker.get("usernames") or [] if isinstance(name, str)]
    users = {
        user.username: user
        for user in session.execute(
            select(User).where(
                User.username.in_(order), User.is_active.is_(True), User.session_epoch == 0
            )
        ).scalars()
    }
    accounts = [
        DemoAccount(
            username=user.username,
            display_name=user.display_name,
            roles=tuple(sorted(user.role_names)),
            department=user.department_code,
        )
        for user in (users.get(name) for name in order)
        if user is not None
    ]
    return DemoAccounts(password=marker["password"], accounts=accounts) if accounts else None
