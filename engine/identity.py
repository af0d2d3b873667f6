"""Who is acting: users, password hashes and the actor passed to every service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock, texts
from engine.audit import PendingEvent, append_events
from engine.departments import department_codes
from engine.errors import Conflict, FieldProblem, InvalidData, NotAuthenticated, NotFound
from engine.models import ROLES, User, UserRole, UserSession

_hasher = PasswordHasher()


def use_low_cost_hashing_for_tests() -> None:
    """Hash passwords with argon2's cheapest parameters from now on (test suites only).

    Deliberately a call, not an environment setting, so no configuration can weaken
    a production install; hashes made this way still verify anywhere, since argon2
    reads the parameters from the hash itself.
    """
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


READ_ONLY_ROLES = frozenset({"auditor"})


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf an operation runs (or the system itself)."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    display_name: str | None = None

    def has(self, *roles: str) -> bool:
        """Tell whether the actor holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    @property
    def read_only(self) -> bool:
        """Auditors (holding no other role) read everything and change nothing."""
        return "auditor" in self.roles and self.roles <= READ_ONLY_ROLES


SYSTEM = Actor("system", frozenset({"system"}))


def actor_for(user: User) -> Actor:
    """Return the actor a user acts as."""
    return Actor(user.username, frozenset(user.role_names), user.department_code, user.display_name)


MIN_PASSWORD_LENGTH = 10


def password_problems(password: object) -> list[FieldProblem]:
    """Return what is wrong with a new password (at least MIN_PASSWORD_LENGTH characters)."""
    if isinstance(password, str) and len(password) >= MIN_PASSWORD_LENGTH:
        return []
    return [
        FieldProblem("password", key="problem_password_short", params={"n": MIN_PASSWORD_LENGTH})
    ]


def profile_problems(
    *,
    roles: list[str],
    department: str | None,
    email: str | None = None,
    display_name: str | None = None,
) -> list[FieldProblem]:
    """Return what is wrong with a user's roles, department, e-mail and display name."""
    problems = []
    if not roles:
        problems.append(FieldProblem("roles", key="problem_roles_missing"))
    for role in roles:
        if role not in ROLES:
            problems.append(
                FieldProblem(
                    "roles",
                    key="problem_unknown_role",
                    params={"role": role, "values": ", ".join(ROLES)},
                )
            )
    codes = department_codes()
    if department is not None and department not in codes:
        problems.append(
            FieldProblem(
                "department",
                key="problem_unknown_department",
                params={"department": department, "values": ", ".join(codes)},
            )
        )
    if email is not None and (len(email) > 200 or "@" not in email or " " in email.strip()):
        problems.append(FieldProblem("email", key="problem_email"))
    if display_name is not None and not 0 < len(display_name.strip()) <= 120:
        problems.append(FieldProblem("display_name", key="problem_display_name"))
    if department is None and set(roles) & {"staff", "supervisor"}:
        problems.append(FieldProblem("department", key="problem_department_needed"))
    return problems


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    department: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Create a user with argon2-hashed password; InvalidData / Conflict on bad input."""
    problems = []
    if (
        not username
        or len(username) > 80
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
    ):
        problems.append(FieldProblem("username", key="problem_username_format"))
    problems += password_problems(password)
    problems += profile_problems(
        roles=roles, department=department, email=email, display_name=display_name
    )
    if problems:
        raise InvalidData(problems)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(key="error_user_exists", username=username)
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        display_name=(display_name or "").strip() or username,
        department_code=department,
        created_at=clock.now(),
        language="zh-CN",
        is_active=True,
        email=email.strip() if email else None,
    )
    user.roles = [UserRole(role=r) for r in dict.fromkeys(roles)]
    session.add(user)
    session.flush()
    return user


def check_credentials(session: Session, *, username: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        # Hash anyway so that a missing user costs the same time as a wrong password.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    """Return the user for valid credentials; NotAuthenticated otherwise."""
    user = check_credentials(session, username=username, password=password)
    if user is None:
        raise NotAuthenticated("wrong username or password")
    return user


def get_user(session: Session, username: str) -> User | None:
    """Return the user named `username`, or None."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def display_names(session: Session) -> dict[str, str]:
    """Return every user's display name by username."""
    return {
        name: shown for name, shown in session.execute(select(User.username, User.display_name))
    }


def active_users(
    session: Session, *, department: str | None = None, roles: Iterable[str] = ()
) -> list[User]:
    """Return the active users (of `department`, holding any of `roles`), by username."""
    stmt = select(User).where(User.is_active.is_(True)).order_by(User.username)
    if department:
        stmt = stmt.where(User.department_code == department)
    wanted = set(roles)
    return [u for u in session.execute(stmt).scalars() if not wanted or u.role_names & wanted]


def set_language(session: Session, *, user_id: int, language: str) -> None:
    """Remember the language a user reads the pages in."""
    if language not in texts.LANGUAGES:
        values = ", ".join(texts.LANGUAGES)
        raise InvalidData(
            [FieldProblem("language", key="problem_one_of", params={"values": values})]
        )
    user = session.get(User, user_id)
    if user is not None:
        user.language = language


def active_user(session: Session, user_id: int) -> User | None:
    """Return the user with this id while they are active, else None (signed out)."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every page session and bearer token of the user at once; return the
    sessions ended. Tokens carry the user's `session_epoch`, raised here."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    session.execute(
        update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _existing(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(key="error_user_not_found", username=username)
    return user


def set_password(session: Session, *, username: str, password: str, actor: Actor) -> None:
    """Give a user a new password; their sessions and tokens end (`user_password_changed`)."""
    problems = password_problems(password)
    if problems:
        raise InvalidData(problems)
    user = _existing(session, username)
    user.password_hash = _hasher.hash(password)
    session.flush()
    ended = end_user_sessions(session, user.id)
    append_events(
        session,
        [
            PendingEvent(
                type="user_password_changed",
                actor=actor.username,
                data={"username": user.username, "sessions_ended": ended},
            )
        ],
    )


def deactivate_user(session: Session, *, username: str, actor: Actor) -> None:
    """Deactivate a user: they can no longer sign in, and their sessions and tokens end
    at once (`user_deactivated`)."""
    user = _existing(session, username)
    if not user.is_active:
        return
    user.is_active = False
    session.flush()
    ended = end_user_sessions(session, user.id)
    append_events(
        session,
        [
            PendingEvent(
                type="user_deactivated",
                actor=actor.username,
                data={"username": user.username, "sessions_ended": ended},
            )
        ],
    )
