"""The case record as the task and case pages show it: what the case was started with,
then every completed step in order, each with its form's labels and option names.

The steps of one element and round done side by side (one proposal per department)
read as one table, with the total of their amounts; a step of a later round says so.
The last entry is marked: on a task page it is the work this task follows on from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from api.web.kit import Page
from engine import calendar, texts
from engine.definitions import version_forms
from engine.privacy import mask_text
from engine.steps import Step, case_intake, case_steps
from forms.display import number_text, value_text

if TYPE_CHECKING:
    from engine.models import Instance


@dataclass(frozen=True)
class ShownField:
    """One submitted value: its label and its value as a person reads it."""

    name: str
    label: str
    value: str
    kind: str  # the form's field type ("text" keeps its line breaks)


@dataclass(frozen=True)
class ShownStep:
    """One step (or the start) of the case: what, who, when, and what they submitted."""

    title: str
    department: str
    who: str
    at: str
    fields: list[ShownField]
    round: int = 1

    def value_of(self, name: str) -> str:
        """Return the shown value of one field ('' when the step left it empty)."""
        return next((f.value for f in self.fields if f.name == name), "")


@dataclass
class StepGroup:
    """The steps of one element and round, in completion order (usually one)."""

    title: str
    round: int
    steps: list[ShownStep]
    element_id: str
    submitted: list[dict[str, Any]] = field(default_factory=list)  # each step's data
    latest: bool = False
    # For a group of several steps: the columns (name, label) and the totals by name.
    columns: list[tuple[str, str]] = field(default_factory=list)
    totals: dict[str, str] = field(default_factory=dict)

    @property
    def parallel(self) -> bool:
        """Whether several departments did this round side by side (shown as a table)."""
        return len(self.steps) > 1


@dataclass(frozen=True)
class CaseRecord:
    """The case's start and its steps, oldest first."""

    intake: ShownStep | None
    groups: list[StepGroup]

    def recorded_names(self) -> set[str]:
        """Return the names of the variables the steps submitted (each shown per step)."""
        return {name for group in self.groups for data in group.submitted for name in data}


def case_record(page: Page, instance: Instance, *, mask_phones: bool) -> CaseRecord:
    """Return the record of a case in the page's language; mobile numbers masked when
    the page masks them elsewhere (`mask_phones`)."""
    forms = version_forms(page.session, instance.version_id)
    shown = _Shown(page, forms, mask_phones)
    intake = case_intake(page.session, instance.id)
    start = None
    if intake is not None:
        element_id = intake["element_id"] or ""
        start = ShownStep(
            title=page.element_name(instance.version_id, element_id, page.t("record_started")),
            department="",
            who=page.people.get(intake["started_by"], intake["started_by"]),
            at=shown.instant(intake["started_at"]),
            fields=shown.fields(element_id, intake["data"]),
        )
    groups: list[StepGroup] = []
    by_round: dict[tuple[str, int], StepGroup] = {}
    last: StepGroup | None = None
    for step in case_steps(page.session, instance.id):
        key = (step["element_id"], step["round"])
        one = shown.step(instance.version_id, step)
        last = by_round.get(key)
        if last is not None:
            last.steps.append(one)
            last.submitted.append(step["data"])
            continue
        last = StepGroup(one.title, step["round"], [one], step["element_id"], [step["data"]])
        by_round[key] = last
        groups.append(last)
    for group in groups:
        if group.parallel:
            _tabulate(group, forms.get(group.element_id))
    if last is not None:
        last.latest = True  # the group of the step done last
    return CaseRecord(start, groups)


def _tabulate(group: StepGroup, form: dict[str, Any] | None) -> None:
    """Give a group of parallel steps its columns and the totals of its amounts (the
    form's `number` fields; a step that left one empty adds nothing)."""
    columns: dict[str, str] = {}
    for step in group.steps:
        for shown in step.fields:
            columns.setdefault(shown.name, shown.label)
    group.columns = list(columns.items())
    numbers = {f["name"] for f in (form or {}).get("fields", []) if f.get("type") == "number"}
    for name in columns:
        values = [
            data[name]
            for data in group.submitted
            if isinstance(data.get(name), (int, float)) and not isinstance(data.get(name), bool)
        ]
        if name in numbers and values:
            group.totals[name] = format_number(sum(values))


def format_number(value: float) -> str:
    """Show a number (an amount of money in yuan) whole, with thousands separators:
    3800.0 → 3,800; 3800.5 → 3,800.5 (forms/display.py's way of writing yuan)."""
    return number_text(value, yuan=True) if math.isfinite(value) else str(value)


class _Shown:
    """Turns submitted values into what the page shows, by the version's forms."""

    def __init__(self, page: Page, forms: dict[str, dict[str, Any]], mask_phones: bool) -> None:
        self.page = page
        self.forms = forms
        self.mask_phones = mask_phones
        self.lang = "en" if page.language.lower().startswith("en") else "zh-CN"

    def instant(self, value: Any) -> str:
        return texts.local_time(value, calendar.timezone(), self.page.language)

    def step(self, version_id: int, step: Step) -> ShownStep:
        return ShownStep(
            title=self.page.element_name(version_id, step["element_id"], step["name"]),
            department=self.page.department_name(step["department"]),
            who=self.page.people.get(step["completed_by"] or "", step["completed_by"] or ""),
            at=self.instant(step["completed_at"]),
            fields=self.fields(step["element_id"], step["data"]),
            round=step["round"],
        )

    def fields(self, element_id: str, data: dict[str, Any]) -> list[ShownField]:
        """Return the submitted values in the form's order (then any the form lacks),
        leaving out the ones left empty."""
        form_fields = {f["name"]: f for f in (self.forms.get(element_id) or {}).get("fields", [])}
        names = [n for n in form_fields if n in data] + [n for n in data if n not in form_fields]
        shown: list[ShownField] = []
        for name in names:
            value = data[name]
            if value is None or value == "" or value == []:
                continue
            spec = form_fields.get(name, {"name": name, "type": _kind_of(value)})
            label = spec.get("label", {}).get(self.lang) or name
            shown.append(ShownField(name, label, self.value(spec, value), spec["type"]))
        return shown

    def value(self, spec: dict[str, Any], value: Any) -> str:
        """Return one value as a person reads it (forms/display.py: option names, 是/否,
        departments' and people's names, lists), plus what a record adds: every number
        whole with thousands separated, dates written out, phones masked when asked."""
        kind = spec["type"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_number(value) if kind != "integer" else str(value)
        if kind == "date" and isinstance(value, str):
            return self.day(value)
        if isinstance(value, str) and kind not in ("enum", "user", "department"):
            return mask_text(value) if self.mask_phones else value
        return value_text(spec, value, self.page.language, self.page.names)

    def day(self, value: str) -> str:
        try:
            return date.fromisoformat(value).strftime(self.page.t("record_date_format"))
        except ValueError:
            return value


def _kind_of(value: Any) -> str:
    """The field type a value without a form reads as."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "text"
