"""Notifications: the unread list of each user, and e-mail through an outbox.

`notify` writes one notification per recipient in the caller's transaction
(with a unique key, so that the same step can never notify twice) and, when
SMTP is configured and the user has an address, an outbox row beside it.
`deliver_outbox` sends pending mail in a background round: a failing server
leaves the row pending with a growing delay (1, 2, 4 … 60 minutes) until
`MAX_ATTEMPTS`, and every attempt is in the history.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock, texts
from engine.audit import ROUNDS_CHAIN, PendingEvent, append_events
from engine.bounds import row_id_exists
from engine.config import get_settings
from engine.db import bulk_insert, is_sqlite, unit_of_work
from engine.departments import department_names
from engine.errors import NotFound
from engine.identity import SYSTEM, Actor
from engine.models import EmailOutbox, Notification, NotificationRead, User

MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Recipient:
    username: str
    email: str | None = None
    language: str = "zh-CN"


def render(
    kind: str,
    data: dict[str, Any],
    language: str,
    *,
    departments: Mapping[str, str] | None = None,
) -> str:
    """Return a notification's text in the user's language, a department by its name
    (`departments`: names by code in that language; the code without them)."""
    key = f"notification_{kind}"
    if not texts.has_text(key):
        return kind
    due = data.get("due_at") or ""
    if due:
        try:
            from engine.calendar import timezone

            due = datetime.fromisoformat(due).astimezone(timezone()).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    department = data.get("department")
    if departments and isinstance(department, str):
        department = departments.get(department, department)
    values = _Blank({**data, "due": due, "department": department or ""})
    return texts.template(key, language).format_map(values)


class _Blank(dict[str, Any]):
    """Template values; a field the data lacks renders empty."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass
class NotificationBatch:
    """Notifications collected during a unit of work, written with one statement.

    A notification whose key exists already is skipped, so no step notifies twice.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    # who reads each row: one user, or a department's staff (for their e-mail)
    readers: dict[str, list[Recipient]] = field(default_factory=dict)

    def _row(
        self,
        key: str,
        readers: list[Recipient],
        *,
        username: str | None,
        department: str | None,
        kind: str,
        data: dict[str, Any],
        at: datetime,
        task_id: str | None,
        instance_id: str | None,
    ) -> None:
        key = key[:200]
        self.readers[key] = readers
        self.rows.append(
            {
                "dedup_key": key,
                "username": username,
                "department": department,
                "kind": kind,
                "task_id": task_id,
                "instance_id": instance_id,
                "data": data,
                "created_at": at,
            }
        )

    def add(
        self,
        recipients: list[Recipient],
        *,
        kind: str,
        dedup: str,
        data: dict[str, Any],
        at: datetime,
        task_id: str | None = None,
        instance_id: str | None = None,
    ) -> None:
        """One notification per recipient."""
        for who in {r.username: r for r in recipients}.values():
            self._row(
                f"{dedup}:{who.username}",
                [who],
                username=who.username,
                department=None,
                kind=kind,
                data=data,
                at=at,
                task_id=task_id,
                instance_id=instance_id,
            )

    def add_department(
        self,
        department: str,
        members: list[Recipient],
        *,
        kind: str,
        dedup: str,
        data: dict[str, Any],
        at: datetime,
        task_id: str | None = None,
        instance_id: str | None = None,
    ) -> None:
        """One notification for a department's staff (each member e-mailed when configured)."""
        self._row(
            f"{dedup}:@{department}",
            members,
            username=None,
            department=department,
            kind=kind,
            data=data,
            at=at,
            task_id=task_id,
            instance_id=instance_id,
        )

    def write(self, session: Session) -> int:
        """Insert the notifications (and outbox e-mail when SMTP is configured)."""
        if not self.rows:
            return 0
        table = Notification.__table__
        assert isinstance(table, Table)
        rows, self.rows = self.rows, []
        if not get_settings().smtp_host:
            bulk_insert(session, table, rows, skip_conflicts_on="dedup_key")
            return len(rows)
        insert = sqlite_insert if is_sqlite(session) else pg_insert
        inserted = session.execute(
            insert(table)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(table.c.id, table.c.dedup_key, table.c.kind, table.c.data),
            rows,
        ).all()
        mail = []
        names: dict[str, dict[str, str]] = {}  # department names by language
        for note_id, key, kind, data in inserted:
            for who in self.readers.get(key, []):
                if not who.email:
                    continue
                if who.language not in names:
                    names[who.language] = department_names(session, who.language)
                text = render(kind, data, who.language, departments=names[who.language])
                mail.append(
                    {
                        "notification_id": note_id,
                        "username": who.username,
                        "to_address": who.email,
                        "subject": f"[flowdesk] {text}"[:300],
                        "body": text + "\n",
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": rows[0]["created_at"],
                        "created_at": rows[0]["created_at"],
                    }
                )
        if mail:
            session.execute(sa_insert(EmailOutbox), mail)
        return len(inserted)


def notify(
    session: Session,
    recipients: list[Recipient],
    *,
    kind: str,
    dedup: str,
    data: dict[str, Any],
    at: datetime,
    task_id: str | None = None,
    instance_id: str | None = None,
) -> int:
    """Write a notification (and an outbox e-mail when configured) for each recipient."""
    batch = NotificationBatch()
    batch.add(
        recipients,
        kind=kind,
        dedup=dedup,
        data=data,
        at=at,
        task_id=task_id,
        instance_id=instance_id,
    )
    return batch.write(session)


def notify_admins_once(session: Session, *, kind: str, key: str, data: dict[str, Any]) -> int:
    """Notify every active admin once per `key` (e.g. a calendar year still computed).

    Asked every round: with no admin it is one query, and once the admins were told
    two, each on an index (the `LIKE` over every notification runs only until then).
    """
    dedup = f"{kind}:{key}"
    recipients = admins_to_tell(session, kind=kind, key=key)
    if not recipients:
        return 0
    return notify(session, recipients, kind=kind, dedup=dedup, data=data, at=clock.now())


def admins_to_tell(session: Session, *, kind: str, key: str) -> list[Recipient]:
    """The active admins `notify_admins_once` would tell about `key`: none when there is
    no admin or somebody was told already (reads only: a round asks outside any
    transaction first, and writes only when this names somebody)."""
    from engine.models import UserRole

    dedup = f"{kind}:{key}"
    admins = session.execute(
        select(User.username, User.email, User.language)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.is_active.is_(True))
        .order_by(User.id)
    ).all()
    if not admins:
        return []  # nobody to tell: ask again next round
    keys = [f"{dedup}:{username}"[:200] for username, _, _ in admins]
    told = session.execute(
        select(Notification.id).where(Notification.dedup_key.in_(keys)).limit(1)
    ).first()
    if told is not None:
        return []
    already = session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.dedup_key.like(f"{dedup}:%"))
    ).scalar_one()
    if already:
        return []  # told admins who are no longer admins: still once per key
    return [Recipient(username, email, language) for username, email, language in admins]


# ---------------------------------------------------------------- reading


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Notifications addressed to the actor, or to their department's staff."""
    mine = Notification.username == actor.username
    if actor.department and actor.has("staff"):
        return or_(
            mine,
            and_(Notification.username.is_(None), Notification.department == actor.department),
        )
    return mine


def _read_mark(actor: Actor) -> Any:
    return (
        select(NotificationRead.read_at)
        .where(
            NotificationRead.notification_id == Notification.id,
            NotificationRead.username == actor.username,
        )
        .scalar_subquery()
    )


def list_notifications(
    session: Session, *, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Notification, datetime | None]], int, int]:
    """Return one page of the actor's notifications (newest first) with when each was
    read, the total and the unread count."""
    read_at = func.coalesce(Notification.read_at, _read_mark(actor))
    unread = read_at.is_(None)
    visible = _visible(actor)
    conditions = [visible, unread] if unread_only else [visible]
    total = session.execute(
        select(func.count()).select_from(Notification).where(*conditions)
    ).scalar_one()
    unread_count = session.execute(
        select(func.count()).select_from(Notification).where(visible, unread)
    ).scalar_one()
    rows = session.execute(
        select(Notification, read_at)
        .where(*conditions)
        .order_by(Notification.id.desc())
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    ).all()
    return [(note, when) for note, when in rows], int(total), int(unread_count)


def mark_read(session: Session, *, actor: Actor, notification_id: int | None = None) -> int:
    """Mark one (or, with None, every) unread notification of the actor as read."""
    now = clock.now()
    unread = func.coalesce(Notification.read_at, _read_mark(actor)).is_(None)
    conditions = [_visible(actor), unread]
    if notification_id is not None:
        note = (
            session.get(Notification, notification_id) if row_id_exists(notification_id) else None
        )
        if (
            note is None
            or not session.execute(
                select(func.count())
                .select_from(Notification)
                .where(Notification.id == notification_id, _visible(actor))
            ).scalar_one()
        ):
            raise NotFound(f"notification {notification_id} does not exist")
        conditions.append(Notification.id == notification_id)
    targets = session.execute(
        select(Notification.id, Notification.username).where(*conditions)
    ).all()
    personal = [note_id for note_id, username in targets if username == actor.username]
    shared = [note_id for note_id, username in targets if username is None]
    if personal:
        session.execute(
            update(Notification).where(Notification.id.in_(personal)).values(read_at=now)
        )
    for note_id in shared:
        session.add(NotificationRead(notification_id=note_id, username=actor.username, read_at=now))
    session.flush()
    return len(targets)


# ---------------------------------------------------------------- e-mail


@dataclass
class DeliveryCounts:
    sent: int = 0
    failed: int = 0


def _send(message: EmailMessage) -> None:
    settings = get_settings()
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt after `attempts` failures."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_outbox(at: datetime, *, batch_size: int = 50) -> DeliveryCounts:
    """Send the pending e-mail due by `at`; each row is claimed so it goes out once."""
    counts = DeliveryCounts()
    settings = get_settings()
    if not settings.smtp_host:
        return counts
    while True:
        with unit_of_work() as session:
            stmt = (
                select(EmailOutbox)
                .where(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= at)
                .order_by(EmailOutbox.next_attempt_at, EmailOutbox.id)
                .limit(batch_size)
            )
            if not is_sqlite(session):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.execute(stmt).scalars())
            if not rows:
                return counts
            events = []
            for row in rows:
                message = EmailMessage()
                message["From"] = settings.smtp_from
                message["To"] = row.to_address
                message["Subject"] = row.subject
                message.set_content(row.body)
                row.attempts += 1
                try:
                    _send(message)
                except (OSError, smtplib.SMTPException) as exc:
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    give_up = row.attempts >= MAX_ATTEMPTS
                    row.status = "failed" if give_up else "pending"
                    row.next_attempt_at = at + backoff(row.attempts)
                    counts.failed += 1
                    events.append(
                        _mail_event(session, row, "notification_failed", at, give_up=give_up)
                    )
                else:
                    row.status = "sent"
                    row.sent_at = at
                    row.last_error = None
                    counts.sent += 1
                    events.append(_mail_event(session, row, "notification_sent", at))
            session.flush()
            append_events(session, events, chain=ROUNDS_CHAIN)


def _mail_event(
    session: Session, row: EmailOutbox, type_: str, at: datetime, give_up: bool = False
) -> PendingEvent:
    note = session.get(Notification, row.notification_id) if row.notification_id else None
    data: dict[str, Any] = {
        "channel": "email",
        "recipient": row.username,
        "outbox_id": row.id,
        "attempt": row.attempts,
        "subject": row.subject,
    }
    if type_ == "notification_failed":
        data.update(
            error=row.last_error,
            will_retry=not give_up,
            next_attempt_at=None if give_up else row.next_attempt_at.isoformat(),
        )
    if note is not None:
        data["kind"] = note.kind
    return PendingEvent(
        type=type_,
        actor=SYSTEM.username,
        instance_id=note.instance_id if note else None,
        task_id=note.task_id if note else None,
        data=data,
        at=at,
    )
