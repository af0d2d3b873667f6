"""One round of background work as of an instant: BPMN timers, the SLA clock, e-mail,
the incremental check of the history added since the previous round, the moved
history heads sealed into a checkpoint (engine/checkpoints.py), and the newest
event and checkpoint written to the witness file (engine/witness.py).

Each part selects due rows in batches on an index and claims them with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serializes writers), so rounds on
several workers at once never do the same work twice, and a repeated or
earlier round finds nothing left to do.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engine import audit, calendar, checkpoints, clock, notifications, runtime, witness
from engine.db import single_statement_engine, unit_of_work
from engine.errors import FlowdeskError
from engine.gc_pause import collector_paused
from engine.identity import SYSTEM
from engine.sla.sweep import sweep_due_steps

log = logging.getLogger("flowdesk.rounds")


@dataclass
class RoundResult:
    timers_fired: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    notifications_sent: int = 0
    notifications_failed: int = 0
    errors: int = 0
    events_verified: int = 0
    history_ok: bool = True

    def as_dict(self) -> dict[str, int]:
        """Return the counts as `flowdesk tick` prints them."""
        return asdict(self)


def run_round(at: datetime | None = None, *, batch_size: int = 200) -> RoundResult:
    """Run one round of background work as of `at` (default now)."""
    at = clock.to_utc(at or clock.now())
    result = RoundResult()
    result.timers_fired = fire_due_timers(at, batch_size=batch_size, result=result)
    counts = sweep_due_steps(at)
    result.warnings, result.breaches, result.escalations = (
        counts.warnings,
        counts.breaches,
        counts.escalations,
    )
    delivered = notifications.deliver_outbox(at)
    result.notifications_sent, result.notifications_failed = delivered.sent, delivered.failed
    check_calendar_years(at)
    verify_history(result)
    seal_history(at)
    witness.witness_current_head()  # outside the database: a restored old copy shows
    return result


def seal_history(at: datetime) -> None:
    """Seal the history heads that moved since the last round into a checkpoint (an
    idle round: one read outside any transaction, no lock)."""
    with Session(single_statement_engine()) as session:  # one read, no BEGIN/ROLLBACK
        if not checkpoints.anything_to_seal(session):
            return
    with unit_of_work() as session:
        checkpoints.seal(session, at=at)


def verify_history(result: RoundResult | None = None) -> audit.VerifyResult | None:
    """Verify the events added since the last round; tell admins once per broken event."""
    with collector_paused(), unit_of_work() as session:
        outcome = audit.verify_new_events(session)
        if outcome is None:
            return None  # another worker is checking
        if not outcome.ok:
            log.error("history verification failed: %s", outcome.problem)
            notifications.notify_admins_once(
                session,
                kind="history_broken",
                key=f"{outcome.first_bad_seq}",
                data={"first_bad_seq": outcome.first_bad_seq, "problem": outcome.problem},
            )
    if result is not None:
        result.events_verified = outcome.events
        result.history_ok = outcome.ok
    return outcome


def check_calendar_years(at: datetime) -> None:
    """Tell admins (once per year) when a year in use has no official schedule: once
    they were told, a round only reads (outside any transaction)."""
    tz = calendar.timezone()
    years = {at.astimezone(tz).year, (at + timedelta(days=45)).astimezone(tz).year}
    days = calendar.china_days()
    for year in sorted(years):
        schedule = days.schedule(year)
        if schedule.source != calendar.SOURCE_COMPUTED:
            continue
        key = str(year)
        with Session(single_statement_engine()) as session:  # reads, no transaction
            if not notifications.admins_to_tell(session, kind="calendar_computed", key=key):
                continue  # told already (or no admin yet): nothing to write
        with unit_of_work() as session:  # asked again under the write transaction
            notifications.notify_admins_once(
                session,
                kind="calendar_computed",
                key=key,
                data={"year": year, "source": schedule.describe_source()},
            )


def fire_due_timers(
    at: datetime, *, batch_size: int = 200, result: RoundResult | None = None
) -> int:
    """Fire every BPMN timer due by `at`, one instance per transaction."""
    fired = 0
    after: str | None = None
    while True:
        with Session(single_statement_engine()) as session:  # one read, no BEGIN/ROLLBACK
            ids = runtime.due_timer_instance_ids(session, at=at, limit=batch_size, after=after)
        if not ids:
            return fired
        for instance_id in ids:
            try:
                with unit_of_work() as session:
                    fired += len(
                        runtime.fire_due_timers(
                            session, instance_id=instance_id, at=at, actor=SYSTEM
                        )
                    )
            except FlowdeskError as exc:
                log.warning("timer round failed for instance %s: %s", instance_id, exc.message)
                if result is not None:
                    result.errors += 1
                with unit_of_work() as session:
                    runtime.mark_instance_error(
                        session, instance_id=instance_id, message=exc.message, actor=SYSTEM
                    )
        after = ids[-1]
