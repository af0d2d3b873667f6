"""The seam a vertical plugs into: step hooks and case facts.

The platform runs any BPMN process and knows nothing of what a case is about.
A vertical (the real-estate one is `crm/`) adds that knowledge in two ways:

- **Step hooks**, registered once at start-up (each adapter calls the
  vertical's `install()`). After every step has saved its workflow state,
  tasks and variables, the runtime calls each hook with the instance and the
  step's events, inside the step's transaction: what a hook writes commits or
  rolls back with the step, and a hook that raises fails the step.
- **Start checks**, registered the same way: before an instance is created the
  runtime calls each with the process key and the validated start data, inside
  the start's transaction. A check that raises (a `DuplicateCase` naming the
  open case it would repeat, say) refuses the start before anything is written.
- **Case facts**: the customer, phone, project and unit of a case, and the
  vertical's own id of its customer record (`customer_ref`). A hook writes them
  with `write_case_facts`; the inbox filters, searches and shows them, and the
  history finds a customer's cases by them (`engine/queries.py`,
  `engine/history/search.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.audit import PendingEvent
from engine.identity import Actor
from engine.models import CaseFact, Instance


class StepHook(Protocol):
    def __call__(
        self, session: Session, *, instance: Instance, events: Sequence[PendingEvent]
    ) -> None: ...


_step_hooks: list[StepHook] = []


def register_step_hook(hook: StepHook) -> None:
    """Run `hook` after every step from now on; registering it again changes nothing."""
    if hook not in _step_hooks:
        _step_hooks.append(hook)


def unregister_step_hook(hook: StepHook) -> None:
    """Stop running `hook` (tests that register their own)."""
    if hook in _step_hooks:
        _step_hooks.remove(hook)


def run_step_hooks(session: Session, *, instance: Instance, events: Sequence[PendingEvent]) -> None:
    """Call every registered hook, in registration order, with one step's events."""
    for hook in list(_step_hooks):
        hook(session, instance=instance, events=events)


class StartCheck(Protocol):
    def __call__(
        self, session: Session, *, process_key: str, variables: Mapping[str, Any], actor: Actor
    ) -> None: ...


_start_checks: list[StartCheck] = []


def register_start_check(check: StartCheck) -> None:
    """Ask `check` before every start from now on; registering it again changes nothing."""
    if check not in _start_checks:
        _start_checks.append(check)


def unregister_start_check(check: StartCheck) -> None:
    """Stop asking `check` (tests that register their own)."""
    if check in _start_checks:
        _start_checks.remove(check)


def run_start_checks(
    session: Session, *, process_key: str, variables: Mapping[str, Any], actor: Actor
) -> None:
    """Ask every registered check, in registration order, whether this start may happen."""
    for check in list(_start_checks):
        check(session, process_key=process_key, variables=variables, actor=actor)


@dataclass(frozen=True)
class CaseFacts:
    """What a case is about, as task lists show it; every fact is optional."""

    customer_name: str | None = None
    phone: str | None = None
    project: str | None = None
    unit: str | None = None
    customer_ref: str | None = None


def write_case_facts(session: Session, *, instance_id: str, facts: CaseFacts) -> None:
    """Set the facts of one case, replacing what it had."""
    row = session.get(CaseFact, instance_id)
    if row is None:
        session.add(CaseFact(instance_id=instance_id, **asdict(facts)))
    else:
        for name, value in asdict(facts).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    session.flush()  # the session does not autoflush: later reads of this step see them


def rename_customer(session: Session, *, customer_ref: str, customer_name: str) -> None:
    """Give every case of a customer record its new name (the record was renamed)."""
    session.flush()
    session.execute(
        update(CaseFact)
        .where(CaseFact.customer_ref == customer_ref)
        .values(customer_name=customer_name)
    )
