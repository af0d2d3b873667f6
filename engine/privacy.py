"""Personal data as people without the need to know see it: phones and names masked.

`mask_phone` is the one way flowdesk masks a phone number (lists, customer
pages, history exports); the `Masker` applies it, and name masking, to the
case data inside history events.

Who reads a case's phone numbers whole is `access.sees_case_phones`; every endpoint
and page asks it through `phones_whole_in` (many cases: an inbox page, a customer)
or `case_masker` (one case: its variables, steps, history and comments).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import access
from engine.config import get_settings
from engine.definitions import SPEC_CACHE
from engine.departments import department_for_lane
from engine.identity import Actor
from engine.models import Instance, Task
from forms.registry import MOBILE as WHOLE_MOBILE

# A mainland mobile number however it is written: 13912345678, +8613912345678,
# +86 139 1234 5678, 0086 13912345678, (+86)139-1234-5678, 139 1234 5678 — the
# country code (+86, 0086, (86), 86) and one space or dash between any two digits
# are optional. Not inside a longer run of digits: an amount (3800), an 8-digit
# contract number or a 12-digit reference stays as it is; two numbers side by side
# are both masked.
_SEP = r"[\s\-]?"
_MOBILE = re.compile(
    r"(?<!\d)"
    r"(?P<code>(?:[+＋]|00)\s?86[\s\-]?|[(（]\s?[+＋]?\s?86\s?[)）]\s?|86[\s\-]?)?"
    rf"(?P<number>1{_SEP}[3-9](?:{_SEP}\d){{9}})"
    r"(?!\d)"
)


def mask_phone(phone: str) -> str:
    """Return a phone number as lists show it to people not working the case: 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def _masked(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group("number"))
    return (match.group("code") or "") + mask_phone(digits)


def mask_text(text: str) -> str:
    """Mask every mainland mobile number in a text, however written:
    13812345678 → 138****5678, +86 138 1234 5678 → +86 138****5678."""
    return _MOBILE.sub(_masked, text)


def contains(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q`, with `%`, `_` and `\\` as plain characters."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def phone_matches(column: Any, q: str) -> ColumnElement[bool] | None:
    """The one rule of a phone search: `column` is the whole number typed (spaces,
    dashes, +86 or 0086 allowed) or ends with the four digits typed; None for any other
    `q`. Lists show 138****5678, so a search by a prefix must find nothing: a masked
    number cannot be recovered digit by digit."""
    typed = re.sub(r"[\s\-()（）]", "", q)
    whole = WHOLE_MOBILE.match("+" + typed[2:] if typed.startswith("0086") else typed)
    if whole:
        return column == whole.group(1)  # type: ignore[no-any-return]
    if len(typed) == 4 and typed.isascii() and typed.isdigit():
        return last_four(column) == typed
    return None


def last_four(column: Any) -> ColumnElement[str]:
    """The last four characters of `column`, as the phone indexes hold them (the
    `ix_*_phone_last4` expression indexes; the 3 is written into the SQL, not bound, so
    that the expression is the index's)."""
    return func.substr(column, func.length(column) - literal_column("3"))  # type: ignore[no-any-return]


def mask_name(name: str) -> str:
    """Keep a name's first character: 王小明 → 王**, Alice Chen → A*********."""
    stripped = name.strip()
    if not stripped:
        return name
    return stripped[0] + "*" * (len(stripped) - 1)


class Masker:
    """Masks customers' phone numbers and names in event data.

    Variables named in `FLOWDESK_PERSONAL_VARIABLES` are masked wherever case
    data appears (`variables`, `changes`); any mobile number in any text is
    masked too (a comment may quote one).
    """

    def __init__(self, personal: frozenset[str]) -> None:
        self.personal = personal
        self._quoted = tuple(f'"{name}"' for name in personal)

    def concerns(self, text: str) -> bool:
        """Whether an event's JSON text may hold something to mask: case data with a
        personal variable, or a mobile number anywhere."""
        if _MOBILE.search(text):
            return True
        holds_case_data = '"variables"' in text or '"changes"' in text
        return holds_case_data and any(q in text for q in self._quoted)

    def _personal(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            return mask_text(value) if _MOBILE.search(value) else mask_name(value)
        return self.value(value)

    def variables(self, values: dict[str, Any]) -> dict[str, Any]:
        """Mask a dict of case variables."""
        return {
            k: self._personal(k, v) if k in self.personal else self.value(v)
            for k, v in values.items()
        }

    def value(self, value: Any) -> Any:
        """Mask mobile numbers anywhere in a JSON value."""
        if isinstance(value, str):
            return mask_text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mask one event's data."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "variables" and isinstance(value, dict):
                out[key] = self.variables(value)
            elif key == "changes" and isinstance(value, list):
                out[key] = [self._change(c) for c in value]
            else:
                out[key] = self.value(value)
        return out

    def _change(self, change: Any) -> Any:
        if not isinstance(change, dict) or change.get("name") not in self.personal:
            return self.value(change)
        return {
            **change,
            "before": self._personal(change["name"], change.get("before")),
            "after": self._personal(change["name"], change.get("after")),
        }


def export_masker(actor: Actor) -> Masker | None:
    """Return the masker for an export by this actor, or None when their role may
    see personal data (`FLOWDESK_EXPORT_UNMASKED_ROLES`)."""
    settings = get_settings()
    if actor.has(*settings.export_unmasked_roles):
        return None
    return Masker(settings.personal_variables)


class Unmasked(Masker):
    """The masker of someone who reads the case whole: every value as it is."""

    def __init__(self) -> None:
        super().__init__(frozenset())

    def concerns(self, text: str) -> bool:
        return False

    def variables(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def value(self, value: Any) -> Any:
        return value

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        return data


UNMASKED: Masker = Unmasked()
# Case views mask the phone numbers only (names stay: the customer is named on every list).
PHONES_MASKED: Masker = Masker(frozenset())


def home_department(session: Session, version_id: int) -> str | None:
    """Return the department a process version starts in (its start event's lane)."""
    spec, _ = SPEC_CACHE.get(session, version_id)
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent":
            return department_for_lane(getattr(task_spec, "lane", None))
    return None


def phones_whole_in(session: Session, *, actor: Actor, instance_ids: Iterable[str]) -> set[str]:
    """Return the cases among `instance_ids` whose phone numbers the actor reads whole."""
    ids = set(instance_ids)
    if not ids:
        return set()
    if access.sees_case_phones(actor, departments=(), people=()):
        return ids  # executives, history readers: every case
    departments: dict[str, set[str]] = {i: set() for i in ids}
    people: dict[str, set[str]] = {i: set() for i in ids}
    homes: dict[int, str | None] = {}
    for instance_id, version_id, started_by in session.execute(
        select(Instance.id, Instance.version_id, Instance.started_by).where(Instance.id.in_(ids))
    ):
        if version_id not in homes:
            homes[version_id] = home_department(session, version_id)
        if homes[version_id]:
            departments[instance_id].add(str(homes[version_id]))
        if started_by:
            people[instance_id].add(started_by)
    mine = [Task.assignee == actor.username, Task.completed_by == actor.username]
    if actor.department is not None:
        mine.append(Task.department == actor.department)
    for instance_id, department, assignee, completed_by in session.execute(
        select(Task.instance_id, Task.department, Task.assignee, Task.completed_by)
        .where(Task.instance_id.in_(ids), or_(*mine))
        .distinct()
    ):
        departments[instance_id].add(department)
        people[instance_id].update(p for p in (assignee, completed_by) if p)
    return {
        i
        for i in ids
        if access.sees_case_phones(actor, departments=departments[i], people=people[i])
    }


def case_masker(session: Session, *, actor: Actor, instance_id: str) -> Masker:
    """Return how the actor reads one case: UNMASKED, or with its phone numbers masked."""
    whole = phones_whole_in(session, actor=actor, instance_ids={instance_id})
    return UNMASKED if whole else PHONES_MASKED
