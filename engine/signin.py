"""Signing in: the throttle on failed attempts, and the server's page sessions.

After `MAX_FAILURES` failed sign-ins for one username from one address within
`WINDOW`, that username is refused from that address (even with the right
password) until the window has passed over the oldest of those failures. The
attempts are rows, so every API process sees the same count; another address
keeps its own count. A failed sign-in is recorded in the history as
`signin_failed`; the failure that starts a throttle also as `signin_throttled`
(the refused attempts that follow are not each recorded: an attacker's flood
must not flood the history).

A page session is a `user_session` row; the cookie carries its random id.
Signing out revokes the row; a new password or a deactivation revokes all of
a user's rows and raises the user's `session_epoch`, which bearer tokens carry.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from engine import clock
from engine.audit import PendingEvent, append_events
from engine.config import get_settings
from engine.db import single_statement_engine, unit_of_work
from engine.identity import Actor, actor_for, check_credentials, end_user_sessions
from engine.models import SigninAttempt, User, UserSession

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
# Expired sessions are deleted this long after their end (a moved clock signs no one out).
_KEEP_EXPIRED = timedelta(days=30)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in: what a bearer token or a page cookie is made from."""

    user_id: int
    username: str
    epoch: int
    session_id: str | None = None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SigninResult:
    """What a sign-in came to: who signed in, or nobody and (when throttled) the
    seconds to wait."""

    signed_in: SignedIn | None
    retry_after: int | None = None


def _name(username: str) -> str:
    return username[:80]


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


def _storable(text: str) -> bool:
    """Tell whether text can go to the database and to argon2 (no NUL, no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _recent_failures(session: Session, name: str, where: str, now: datetime) -> list[datetime]:
    """The newest failures (at most MAX_FAILURES) of the pair within the window."""
    return list(
        session.execute(
            select(SigninAttempt.at)
            .where(
                SigninAttempt.username == name,
                SigninAttempt.address == where,
                SigninAttempt.at > now - WINDOW,
            )
            .order_by(SigninAttempt.at.desc())
            .limit(MAX_FAILURES)
        ).scalars()
    )


def _wait(failures: list[datetime], now: datetime) -> int | None:
    """Seconds until the oldest of MAX_FAILURES failures leaves the window, or None."""
    if len(failures) < MAX_FAILURES:
        return None
    free_at = clock.to_utc(failures[-1]) + WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


def sign_in(
    *, username: str, password: str, address: str | None, channel: str, page: bool = False
) -> SigninResult:
    """Check credentials under the throttle; record a failure (and a throttle it starts).

    `channel` is `api` or `page`, kept in the events; `page` also opens a page
    session. The password is checked in a read transaction (argon2 takes its time,
    and SQLite's write lock must not wait for it); a write follows: the failure, or
    the success (the user's `last_signin_at`, a page session, clearing earlier failures).
    """
    name, where = _name(username), _address(address)
    if not _storable(username) or not _storable(where):
        return SigninResult(None)  # no user has such a name: nothing to count or record
    if not _storable(password):
        password = ""  # never matches; still a failed sign-in for the name
    with unit_of_work(write=False) as session:
        failures = _recent_failures(session, name, where, clock.now())
        wait = _wait(failures, clock.now())
        if wait is not None:
            return SigninResult(None, wait)
        user = check_credentials(session, username=username, password=password)
        found = (
            SignedIn(user.id, user.username, user.session_epoch, roles=frozenset(user.role_names))
            if user
            else None
        )
    if found is None:
        _record_failure(name, where, channel)
        return SigninResult(None)
    with unit_of_work() as session:
        session.execute(
            update(User).where(User.id == found.user_id).values(last_signin_at=clock.now())
        )
        if failures:  # a success clears this address's count (only this one's)
            session.execute(
                delete(SigninAttempt).where(
                    SigninAttempt.username == name, SigninAttempt.address == where
                )
            )
        session_id = open_session(session, found.user_id) if page else None
    return SigninResult(replace(found, session_id=session_id))


def _record_failure(name: str, where: str, channel: str) -> None:
    with unit_of_work() as session:
        now = clock.now()
        session.execute(delete(SigninAttempt).where(SigninAttempt.at <= now - WINDOW))
        earlier = _recent_failures(session, name, where, now)
        session.add(SigninAttempt(username=name, address=where, at=now))
        data = {"username": name, "address": where, "channel": channel}
        events = [PendingEvent(type="signin_failed", actor=name, data=data, at=now)]
        wait = _wait([now, *earlier][:MAX_FAILURES], now)
        if wait is not None and len(earlier) == MAX_FAILURES - 1:  # this one starts it
            events.append(
                PendingEvent(
                    type="signin_throttled",
                    actor=name,
                    data={**data, "retry_after": wait, "failures": MAX_FAILURES},
                    at=now,
                )
            )
        append_events(session, events)


# ---------------------------------------------------------------- page sessions


def open_session(session: Session, user_id: int) -> str:
    """Start a page session for the user; return its id (for the cookie)."""
    now = clock.now()
    session_id = secrets.token_urlsafe(32)
    session.execute(  # the user's ended sessions go (the user_id index finds them)
        delete(UserSession).where(
            UserSession.user_id == user_id,
            or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now - _KEEP_EXPIRED),
        )
    )
    session.add(
        UserSession(
            id=session_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=get_settings().token_ttl_seconds),
        )
    )
    return session_id


def session_user(session: Session, *, session_id: str, user_id: int) -> User | None:
    """Return the active user of a session not signed out (one indexed SELECT), else None.

    The session's age is the cookie's to tell (its signed timestamp, 12 hours, real
    time): tests and simulations move `clock.now()` by days without signing anyone out.
    """
    return session.execute(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    ).scalar_one_or_none()


def close_session(session: Session, session_id: str) -> None:
    """Sign a page session out: its cookie opens no page any more."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


# Built once: making the statement each time cost more than running it (every request).
_EPOCH_OF_USER = select(User.is_active, User.session_epoch).where(User.id == bindparam("user_id"))


def token_epoch_ok(*, user_id: int, epoch: int) -> bool:
    """Tell whether a bearer token of `epoch` still stands for an active user.

    One primary-key SELECT outside any transaction (`single_statement_engine`): one
    round trip on PostgreSQL, no BEGIN/ROLLBACK on either backend.
    """
    with single_statement_engine().connect() as conn:
        row = conn.execute(_EPOCH_OF_USER, {"user_id": user_id}).first()
    return row is not None and bool(row.is_active) and row.session_epoch == epoch


def token_actor(*, user_id: int, epoch: int) -> Actor | None:
    """Return the actor a bearer token of `epoch` stands for; None when its user is gone,
    inactive or signed in anew since. One SELECT with the roles joined, outside any
    transaction."""
    with Session(single_statement_engine()) as session:
        user = (
            session.execute(select(User).options(joinedload(User.roles)).where(User.id == user_id))
            .unique()
            .scalar_one_or_none()
        )
        if user is None or not user.is_active or user.session_epoch != epoch:
            return None
        return actor_for(user)


__all__ = [
    "MAX_FAILURES",
    "WINDOW",
    "SignedIn",
    "SigninResult",
    "close_session",
    "end_user_sessions",
    "open_session",
    "session_user",
    "sign_in",
    "token_actor",
    "token_epoch_ok",
]
