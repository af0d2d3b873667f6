"""The customer's own satisfaction survey of a complaint (CONTRACT.md "Satisfaction,
from staff and from the customer").

Customer service makes a one-time link (`/survey/<token>`, valid `LINK_DAYS` days) and
gives it to the customer as a link or a QR code; the customer answers without signing
in: the token itself is the authorisation. Only the SHA-256 of the token is stored, so
the link is shown once, when it is made. An answer is recorded once (the row is claimed
with a conditional UPDATE, so two answers racing record one), written to the case's
history as `survey_answered` by `customer`, and a low score (1–2) notifies the
customer-service supervisors.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.models import SurveyLink
from crm.records import COMPLAINT_PROCESS
from engine import access, clock, signin
from engine.audit import PendingEvent, append_events
from engine.errors import Conflict, FieldProblem, FlowdeskError, InvalidData, NotFound, NotPermitted
from engine.identity import Actor, active_users
from engine.models import Instance, SigninAttempt
from engine.notifications import Recipient, notify
from engine.scorecards import credit_rating

LINK_DAYS = 14
CUSTOMER_ACTOR = "customer"  # who the history names for the customer's own answer
# Customer service supervises complaints (CONTRACT.md "Organisation"): its staff and
# supervisors give the customer the link; its supervisors hear of a low answer.
SURVEY_DEPARTMENT = "customer_service"
LOW_SCORES = (1, 2)
SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 1000
# A token is 43 URL-safe characters; anything much longer names no link.
MAX_TOKEN = 100
# Unknown tokens from one address within the sign-in throttle's window before it waits;
# counted as sign-in attempts of a name no account can have.
MAX_GUESSES = 20
GUESSES = "~survey-link"


class SurveyLinkGone(FlowdeskError):
    """The link was answered already, or has expired (the page answers 410)."""


@dataclass(frozen=True)
class NewSurveyLink:
    """A link just made: its token is known only now."""

    token: str
    expires_at: datetime
    link: SurveyLink

    @property
    def path(self) -> str:
        """Return the link's path on this site."""
        return f"/survey/{self.token}"


def token_hash(token: str) -> str:
    """Return what is stored of a token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def can_make_links(actor: Actor) -> bool:
    """Tell whether the actor gives customers survey links (customer service's staff and
    supervisors)."""
    return actor.has(*access.WORKER_ROLES) and actor.department == SURVEY_DEPARTMENT


def can_link_case(instance: Instance) -> bool:
    """Tell whether a case takes survey links: a complaint not cancelled."""
    return instance.process_key == COMPLAINT_PROCESS and instance.status != "cancelled"


def create_survey_link(session: Session, *, actor: Actor, instance_id: str) -> NewSurveyLink:
    """Make a one-time survey link for the customer of a complaint."""
    if not can_make_links(actor):
        raise NotPermitted(key="survey_customer_service_only")
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(key="error_instance_not_found", instance_id=instance_id)
    if instance.process_key != COMPLAINT_PROCESS:
        raise InvalidData([FieldProblem("instance_id", key="survey_complaints_only")])
    if not can_link_case(instance):
        raise Conflict(key="survey_case_cancelled")
    now = clock.now()
    token = secrets.token_urlsafe(32)
    link = SurveyLink(
        token_hash=token_hash(token),
        instance_id=instance.id,
        created_by=actor.username,
        created_at=now,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    session.add(link)
    session.flush()
    append_events(
        session,
        [
            PendingEvent(
                type="survey_link_created",
                actor=actor.username,
                instance_id=instance.id,
                data={"link_id": link.id, "expires_at": link.expires_at.isoformat()},
                at=now,
            )
        ],
    )
    return NewSurveyLink(token=token, expires_at=link.expires_at, link=link)


def guessing_wait(session: Session, address: str | None) -> int | None:
    """Return the seconds an address must wait after `MAX_GUESSES` unknown tokens within
    the sign-in throttle's window (engine/signin.py), or None when it may go on.

    A token has 256 random bits, so guessing is hopeless anyway; the throttle keeps a
    scanner from filling the logs and the database's time."""
    now = clock.now()
    guesses = list(
        session.execute(
            select(SigninAttempt.at)
            .where(
                SigninAttempt.username == GUESSES,
                SigninAttempt.address == _address(address),
                SigninAttempt.at > now - signin.WINDOW,
            )
            .order_by(SigninAttempt.at.desc())
            .limit(MAX_GUESSES)
        ).scalars()
    )
    if len(guesses) < MAX_GUESSES:
        return None
    free_at = clock.to_utc(guesses[-1]) + signin.WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


def record_guess(session: Session, address: str | None) -> None:
    """Count an unknown token against the address (rows pruned by the sign-in throttle)."""
    session.add(SigninAttempt(username=GUESSES, address=_address(address), at=clock.now()))


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


def open_survey_link(session: Session, token: str) -> SurveyLink:
    """Return the link of a token while it can be answered; NotFound for an unknown
    token, SurveyLinkGone for one answered or expired."""
    link = None
    if 0 < len(token) <= MAX_TOKEN:
        link = session.execute(
            select(SurveyLink).where(SurveyLink.token_hash == token_hash(token))
        ).scalar_one_or_none()
    if link is None:
        raise NotFound(key="survey_link_unknown")
    if link.answered_at is not None:
        raise SurveyLinkGone(key="survey_link_used")
    if clock.to_utc(link.expires_at) <= clock.now():
        raise SurveyLinkGone(key="survey_link_expired")
    return link


def _answer_problems(score: Any, comment: Any) -> tuple[int, str]:
    problems = []
    value = score.strip() if isinstance(score, str) else ""
    number = int(value) if value.isascii() and value.isdigit() and len(value) == 1 else 0
    if number not in SCORES:
        problems.append(FieldProblem("score", key="survey_score_invalid"))
    if comment is not None and not isinstance(comment, str):
        problems.append(FieldProblem("comment", key="survey_comment_invalid"))
    elif comment and len(comment) > MAX_COMMENT:
        problems.append(
            FieldProblem("comment", key="survey_comment_too_long", params={"n": MAX_COMMENT})
        )
    if problems:
        raise InvalidData(problems)
    return number, (comment or "").strip()


def answer_survey(session: Session, *, token: str, score: Any, comment: Any) -> SurveyLink:
    """Record the customer's answer on a link, once: the history's `survey_answered`
    by `customer`, and a notification to customer service's supervisors when low."""
    link = open_survey_link(session, token)
    number, text = _answer_problems(score, comment)
    now = clock.now()
    claimed = session.execute(
        update(SurveyLink)
        .where(SurveyLink.id == link.id, SurveyLink.answered_at.is_(None))
        .values(answered_at=now, score=number, comment=text or None)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # answered meanwhile by another request
        raise SurveyLinkGone(key="survey_link_used")
    session.refresh(link)
    instance = session.get(Instance, link.instance_id)
    assert instance is not None
    append_events(
        session,
        [
            PendingEvent(
                type="survey_answered",
                actor=CUSTOMER_ACTOR,
                instance_id=instance.id,
                data={"link_id": link.id, "score": number, "comment": text},
                at=now,
            )
        ],
    )
    credit_rating(  # the staff scorecards: everyone who worked the case so far
        session, instance_id=instance.id, at=now, source="customer", ref=str(link.id), score=number
    )
    if number in LOW_SCORES:
        supervisors = active_users(session, department=SURVEY_DEPARTMENT, roles=("supervisor",))
        notify(
            session,
            [Recipient(u.username, u.email, u.language) for u in supervisors],
            kind="survey_low_score",
            dedup=f"survey_low_score:{link.id}",
            data={"case": instance.business_key or instance.id[:8], "score": number},
            at=now,
            instance_id=instance.id,
        )
    return link


def case_survey_links(session: Session, instance_id: str) -> list[SurveyLink]:
    """Return a case's survey links, oldest first."""
    return list(
        session.execute(
            select(SurveyLink).where(SurveyLink.instance_id == instance_id).order_by(SurveyLink.id)
        ).scalars()
    )
